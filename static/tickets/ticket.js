/* Ticket page behaviour (served from static/: the CSP is script-src 'self'). Everything here is
   an enhancement: the page works with plain forms without it.
   - The composer's submit button names what it will do ("Reply and set Pending").
   - Preview: the text rendered by the server's Markdown renderer (POST to data-preview-url).
   - Files dropped on the composer's drop zone join its file input.
   - "Insert to edit" copies a macro's text and field changes into the composer.
   - SLA countdowns ([data-due]) say "2 h 10 m left" and are refreshed every 30 s.
   - A modal marked data-show-on-load (a failed submission from it) opens again at load. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function selectedText(select) {
    if (!select || select.selectedIndex < 0) {
      return "";
    }
    return select.options[select.selectedIndex].text;
  }

  function setupSubmitLabel(form) {
    var button = form.querySelector("#compose-submit");
    var status = form.querySelector("#compose_status");
    if (!button) {
      return;
    }
    var initialStatus = status ? status.value : "";
    function update() {
      var kind = form.querySelector("input[name=kind]:checked") || form.querySelector("input[name=kind]");
      var value = kind ? kind.value : "public";
      var body = form.querySelector("#compose_body");
      var hasText = body && body.value.trim() !== "";
      var verb = value === "internal" ? "Add note" : value === "vendor" ? "Send to vendor" : "Reply";
      if (!hasText) {
        verb = "Update";
      }
      if (status && status.value !== initialStatus) {
        button.textContent = verb + " and set " + selectedText(status);
      } else {
        button.textContent = hasText ? verb : "Send";
      }
    }
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  function setupPreview(form) {
    var toggle = form.querySelector("#compose-preview-toggle");
    var pane = form.querySelector("#compose-preview");
    var body = form.querySelector("#compose_body");
    if (!toggle || !pane || !body) {
      return;
    }
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var showing = toggle.getAttribute("aria-expanded") === "true";
      if (showing) {
        pane.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        toggle.textContent = "Preview";
        return;
      }
      var data = new FormData();
      data.append("body", body.value);
      fetch(form.getAttribute("data-preview-url"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form) },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("preview " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          // Rendered and sanitised by the server's Markdown renderer (the page's own).
          pane.innerHTML = html;
          pane.hidden = false;
          toggle.setAttribute("aria-expanded", "true");
          toggle.textContent = "Hide preview";
        })
        .catch(function () {
          pane.textContent = "The preview is not available right now.";
          pane.hidden = false;
        });
    });
  }

  function setupDrop(form) {
    var zone = form.querySelector("#compose-drop");
    var input = form.querySelector("input[type=file]");
    if (!zone || !input || typeof DataTransfer === "undefined") {
      return;
    }
    zone.querySelectorAll("[data-js-only]").forEach(function (el) {
      el.hidden = false;
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragover");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("is-dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) {
        return;
      }
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (file) {
        all.items.add(file);
      });
      Array.prototype.forEach.call(event.dataTransfer.files, function (file) {
        all.items.add(file);
      });
      input.files = all.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function setField(form, id, value) {
    var field = form.querySelector("#" + id);
    if (field && value !== null && value !== "") {
      field.value = value;
    }
  }

  function setupMacroInsert(compose) {
    var button = document.getElementById("macro-insert");
    var select = document.getElementById("macro-select");
    if (!button || !select || !compose) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var option = select.options[select.selectedIndex];
      if (!option || !option.value) {
        select.focus();
        return;
      }
      var kind = compose.querySelector("input[name=kind][value='" + option.getAttribute("data-kind") + "']");
      if (kind) {
        kind.checked = true;
      }
      var body = compose.querySelector("#compose_body");
      if (body && option.getAttribute("data-text")) {
        body.value = option.getAttribute("data-text");
      }
      setField(compose, "compose_status", option.getAttribute("data-status"));
      setField(compose, "compose_priority", option.getAttribute("data-priority"));
      setField(compose, "compose_category", option.getAttribute("data-category"));
      setField(compose, "compose_assignee", option.getAttribute("data-assignee"));
      if (option.getAttribute("data-priority")) {
        var reason = compose.querySelector("#compose_reason");
        if (reason && !reason.value) {
          reason.value = "Macro “" + option.text + "”";
        }
      }
      compose.dispatchEvent(new Event("change", { bubbles: true }));
      if (body) {
        body.focus();
      }
    });
  }

  function left(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var hours = Math.floor(minutes / 60);
    var text;
    if (hours >= 48) {
      text = Math.floor(hours / 24) + " d " + (hours % 24) + " h";
    } else if (hours > 0) {
      text = hours + " h " + (minutes % 60) + " m";
    } else {
      text = minutes + " m";
    }
    return seconds >= 0 ? text + " left" : text + " overdue";
  }

  function updateCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".sla-countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) {
        return;
      }
      var seconds = (due - now) / 1000;
      el.textContent = left(seconds);
      el.classList.toggle("is-late", seconds < 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var compose = document.getElementById("compose-form");
    if (compose) {
      setupSubmitLabel(compose);
      setupPreview(compose);
      setupDrop(compose);
    }
    setupMacroInsert(compose);
    updateCountdowns();
    window.setInterval(updateCountdowns, 30000);
    var modal = document.querySelector(".modal[data-show-on-load]");
    if (modal && window.bootstrap) {
      window.bootstrap.Modal.getOrCreateInstance(modal).show();
    }
  });
})();
