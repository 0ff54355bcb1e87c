// Live pages (tickets/live.py): poll a cheap endpoint every few seconds with If-None-Match.
//
// * An element with data-live-desk="<url>" (queue pages): when the desk's counter moves, the
//   element named by data-live-region is redrawn from the same page fetched again, unless the
//   person is busy on it (typing, or rows selected): then a banner says so instead.
// * An element with data-live-ticket="<url>" (the ticket page): shows who else is on the ticket
//   (in [data-live-presence]) and, when the ticket changed, reloads the page if nothing is being
//   written, or shows a banner.
// No inline script: the CSP allows only static files.
(function () {
  "use strict";

  var PERIOD = 5000; // ms; the issue asks for changes within 5 s
  var HIDDEN_PERIOD = 30000; // a background tab asks less often

  function busy(scope) {
    var active = document.activeElement;
    if (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active.type !== "checkbox") {
      return true;
    }
    var typed = Array.prototype.some.call(document.querySelectorAll("textarea"), function (area) {
      return area.value.trim() !== "";
    });
    var selected = scope.querySelector("input[type=checkbox][name=ids]:checked");
    return typed || Boolean(selected);
  }

  function banner(text) {
    var target = document.getElementById("main") || document.body;
    var box = document.getElementById("live-banner");
    if (!box) {
      box = document.createElement("div");
      box.id = "live-banner";
      box.className = "alert alert-info d-flex align-items-center gap-2 live-banner";
      box.setAttribute("role", "status");
      var words = document.createElement("span");
      words.className = "me-auto";
      box.appendChild(words);
      var again = document.createElement("a");
      again.className = "btn btn-sm btn-primary";
      again.href = window.location.href;
      again.textContent = "Show the changes";
      box.appendChild(again);
      target.insertBefore(box, target.firstChild);
    }
    box.firstChild.textContent = text;
  }

  // ``drawn``: what the page was drawn from (the first answer is compared with it).
  function poller(url, drawn, onChange) {
    var etag = null;
    var last = drawn;
    function ask() {
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(url(), { headers: headers, credentials: "same-origin" })
        .then(function (answer) {
          if (answer.status === 304 || !answer.ok) {
            return null;
          }
          etag = answer.headers.get("ETag");
          return answer.json();
        })
        .then(function (body) {
          if (body) {
            onChange(body, last);
            last = body;
          }
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ })
        .finally(function () {
          window.setTimeout(ask, document.hidden ? HIDDEN_PERIOD : PERIOD);
        });
    }
    ask();
  }

  function redraw(region) {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (old) {
          var twin = fresh.getElementById(old.id);
          if (twin) { old.replaceWith(twin); }
        });
        document.dispatchEvent(new CustomEvent("live:redrawn"));
      });
  }

  var desk = document.querySelector("[data-live-desk]");
  if (desk) {
    var drawnDesk = { desk: parseInt(desk.dataset.liveDeskVersion || "0", 10) };
    poller(function () { return desk.dataset.liveDesk; }, drawnDesk, function (body, before) {
      if (!before || body.desk === before.desk) { return; }
      if (busy(document)) {
        banner("Tickets changed since this page was drawn.");
      } else {
        redraw(desk);
      }
    });
  }

  var page = document.querySelector("[data-live-ticket]");
  if (page) {
    var presence = page.querySelector("[data-live-presence]");
    var state = function () {
      return Array.prototype.some.call(document.querySelectorAll("textarea"), function (area) {
        return area.value.trim() !== "" || area === document.activeElement;
      }) ? "replying" : "viewing";
    };
    poller(function () { return page.dataset.liveTicket + "?state=" + state(); }, null, function (body) {
      if (presence && body.others) {
        presence.textContent = body.others.map(function (other) {
          return other.name + " is " + other.state;
        }).join(", ");
        presence.hidden = body.others.length === 0;
      }
      var loaded = page.dataset.liveChanged;
      if (body.changed && loaded && body.changed !== loaded) {
        if (busy(document)) {
          banner("Someone changed this ticket since you opened it. Check before you send.");
        } else {
          window.location.reload();
        }
      }
    });
  }
})();
