/* Keyboard shortcuts of the agent layout (loaded by base.html for agents, managers and vendor
   contacts; served from static/, the CSP forbids inline scripts).

   - Generic: pressing a key focuses or clicks the visible element marked data-shortcut="KEY"
     (form fields are focused, anything else is clicked). So a page adds a shortcut by markup
     alone, e.g. <button data-shortcut="r">Reply</button>. "/" focuses the top bar's search.
   - Lists with <tbody data-shortcut-rows>: "j"/"k" move to the next/previous row (its first
     link gets the focus), "o" or Enter opens it.
   - "?" opens the dialog listing the shortcuts (#shortcuts-dialog).
   Nothing fires while the person types in an input, textarea, select or editable element, or
   when Ctrl, Alt or Meta is held. */
(function () {
  "use strict";

  function isTyping(target) {
    if (!(target instanceof Element)) {
      return false;
    }
    if (target.isContentEditable) {
      return true;
    }
    return ["INPUT", "TEXTAREA", "SELECT"].indexOf(target.tagName) !== -1;
  }

  function isVisible(element) {
    return element.getClientRects().length > 0 && !element.closest("[hidden], [inert]");
  }

  function isField(element) {
    return ["INPUT", "TEXTAREA", "SELECT"].indexOf(element.tagName) !== -1 || element.isContentEditable;
  }

  function marked(key) {
    var all = document.querySelectorAll("[data-shortcut]");
    for (var i = 0; i < all.length; i += 1) {
      if (all[i].getAttribute("data-shortcut") === key && isVisible(all[i]) && !all[i].disabled) {
        return all[i];
      }
    }
    return null;
  }

  function rows() {
    var body = document.querySelector("tbody[data-shortcut-rows]");
    if (!body) {
      return [];
    }
    return Array.prototype.filter.call(body.rows, function (row) {
      return row.querySelector("a[href]") !== null;
    });
  }

  function currentIndex(list) {
    for (var i = 0; i < list.length; i += 1) {
      if (list[i].classList.contains("is-current")) {
        return i;
      }
    }
    return -1;
  }

  function moveTo(list, index) {
    list.forEach(function (row) {
      row.classList.remove("is-current");
    });
    var row = list[index];
    row.classList.add("is-current");
    row.querySelector("a[href]").focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) {
      return false;
    }
    var index = currentIndex(list);
    var next = index === -1 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, index + step));
    moveTo(list, next);
    return true;
  }

  function openCurrent() {
    var list = rows();
    var index = currentIndex(list);
    if (index === -1) {
      return false;
    }
    window.location.assign(list[index].querySelector("a[href]").href);
    return true;
  }

  function showHelp() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      return false;
    }
    if (!dialog.open) {
      dialog.showModal();
    }
    return true;
  }

  function onKeyDown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || isTyping(event.target)) {
      return;
    }
    if (document.querySelector("dialog[open]") && event.key !== "Escape") {
      return; // a dialog is open: keys belong to it
    }
    var key = event.key;
    var done = false;
    if (key === "?") {
      done = showHelp();
    } else if (key === "j") {
      done = move(1);
    } else if (key === "k") {
      done = move(-1);
    } else if (key === "o" || (key === "Enter" && event.target === document.body)) {
      done = openCurrent();
    } else if (key.length === 1) {
      var element = marked(key);
      if (element) {
        if (isField(element)) {
          element.focus();
        } else {
          element.click();
        }
        done = true;
      }
    }
    if (done) {
      event.preventDefault();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("keydown", onKeyDown);
    document.querySelectorAll("[data-shortcut-help]").forEach(function (button) {
      button.addEventListener("click", showHelp);
    });
    // Clicking in a row makes it the current one, so "j"/"k" continue from there.
    var body = document.querySelector("tbody[data-shortcut-rows]");
    if (body) {
      body.addEventListener("focusin", function (event) {
        var row = event.target.closest("tr");
        var list = rows();
        if (row && list.indexOf(row) !== -1) {
          list.forEach(function (other) {
            other.classList.toggle("is-current", other === row);
          });
        }
      });
    }
  });
})();
