/* Helpdesk site script (served from static/, the CSP is script-src 'self').
   - Every htmx request sends the CSRF token from <meta name="csrf-token">.
   - <form data-confirm="message"> asks for confirmation before submitting. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function onConfigRequest(event) {
    var token = csrfToken();
    if (token && event.detail && event.detail.headers) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  }

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) {
      return;
    }
    var message = form.getAttribute("data-confirm") || "Are you sure?";
    if (!window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    // htmx dispatches htmx:configRequest on the element, and it bubbles to the body.
    document.body.addEventListener("htmx:configRequest", onConfigRequest);
    // Capture phase: runs before htmx's own submit handling on hx-post forms too.
    document.addEventListener("submit", onSubmit, true);
  });
})();
