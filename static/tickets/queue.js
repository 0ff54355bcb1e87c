/* Queue page (served from static/, the CSP forbids inline scripts):
   - a header checkbox <input data-select-all="NAME"> ticks or clears every checkbox named NAME
     in the same form;
   - the bulk-action bar [data-bulk-bar] shows only while tickets are selected, with their
     number. Without JavaScript the bar simply stays visible and works the same;
   - the toolbar's menus (<details class="queue-menu">) close on Escape or a click elsewhere. */
(function () {
  "use strict";

  function boxes(master) {
    var form = master.form || document;
    var name = master.getAttribute("data-select-all");
    return form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
  }

  function ticked(all) {
    var count = 0;
    all.forEach(function (box) {
      if (box.checked) {
        count += 1;
      }
    });
    return count;
  }

  function syncMaster(master) {
    var all = boxes(master);
    var count = ticked(all);
    master.checked = all.length > 0 && count === all.length;
    master.indeterminate = count > 0 && count < all.length;
  }

  function syncBar(form) {
    var bar = form.querySelector("[data-bulk-bar]");
    if (!bar) {
      return;
    }
    var count = ticked(form.querySelectorAll('input[type="checkbox"][name="ids"]'));
    bar.hidden = count === 0;
    var label = bar.querySelector("[data-bulk-count]");
    if (label) {
      label.textContent = count === 1 ? "1 ticket selected:" : count + " tickets selected:";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Delegated to the document, so rows redrawn by live.js (static/core/live.js) work the same.
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("input[data-select-all]")) {
        boxes(target).forEach(function (box) {
          box.checked = target.checked;
        });
        if (target.form) {
          syncBar(target.form); // the form's own listener ran first, before the boxes were ticked
        }
        return;
      }
      if (target.matches('input[type="checkbox"]') && target.form) {
        target.form.querySelectorAll("input[data-select-all]").forEach(function (master) {
          if (master.getAttribute("data-select-all") === target.name) {
            syncMaster(master);
          }
        });
      }
    });
    document.addEventListener("click", function (event) {
      document.querySelectorAll("details.queue-menu[open]").forEach(function (menu) {
        if (!menu.contains(event.target)) {
          menu.open = false;
        }
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") {
        return;
      }
      document.querySelectorAll("details.queue-menu[open]").forEach(function (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
      });
    });
    document.querySelectorAll("[data-bulk-bar]").forEach(function (bar) {
      var form = bar.closest("form");
      if (!form) {
        return;
      }
      form.addEventListener("change", function () {
        syncBar(form);
      });
      syncBar(form);
    });
  });
})();
