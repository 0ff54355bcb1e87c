/* Ticket page behaviour (served from static/: the CSP is script-src 'self').
   - A canned-reply <select data-fill-target="id"> fills that textarea with the chosen
     option's data-text (placeholders were filled in by the server).
   - A modal marked data-show-on-load (a failed submission from it) opens again at load,
     so the kept input and the error are in view. */
(function () {
  "use strict";

  function onCannedChange(event) {
    var select = event.target;
    var option = select.options[select.selectedIndex];
    var target = document.getElementById(select.getAttribute("data-fill-target"));
    if (!option || !target || !option.hasAttribute("data-text")) {
      return;
    }
    target.value = option.getAttribute("data-text");
    target.dispatchEvent(new Event("input", { bubbles: true }));
    target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-fill-target]").forEach(function (select) {
      select.addEventListener("change", onCannedChange);
    });
    var modal = document.querySelector(".modal[data-show-on-load]");
    if (modal && window.bootstrap) {
      window.bootstrap.Modal.getOrCreateInstance(modal).show();
    }
  });
})();
