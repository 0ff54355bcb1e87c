/* Knowledge-base suggestions while a requester types a ticket subject (static file: the CSP
   is script-src 'self').
   The <script> tag carries data-suggest-url and data-input (the subject input's id). The
   input gets htmx attributes: after a pause in typing it asks for matching articles and
   puts them in #kb-suggestions; a newer keystroke replaces a request still in flight. */
(function () {
  "use strict";

  var script = document.currentScript;

  function wire() {
    if (!script || !window.htmx) {
      return;
    }
    var input = document.getElementById(script.getAttribute("data-input") || "id_subject");
    var target = document.getElementById("kb-suggestions");
    if (!input || !target) {
      return;
    }
    input.setAttribute("hx-get", script.getAttribute("data-suggest-url"));
    input.setAttribute("hx-trigger", "input changed delay:300ms, search");
    input.setAttribute("hx-target", "#kb-suggestions");
    input.setAttribute("hx-swap", "innerHTML");
    input.setAttribute("hx-sync", "this:replace");
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), "kb-suggestions"].filter(Boolean).join(" "));
    window.htmx.process(input);
    if (input.value.trim().length >= 3) {
      window.htmx.trigger(input, "search");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
