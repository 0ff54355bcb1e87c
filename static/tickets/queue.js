/* Queue page: a header checkbox <input data-select-all="NAME"> ticks or clears every
   checkbox named NAME in the same form (served from static/, the CSP forbids inline scripts). */
(function () {
  "use strict";

  function boxes(master) {
    var form = master.form || document;
    var name = master.getAttribute("data-select-all");
    return form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
  }

  function syncMaster(master) {
    var all = boxes(master);
    var ticked = 0;
    all.forEach(function (box) {
      if (box.checked) {
        ticked += 1;
      }
    });
    master.checked = all.length > 0 && ticked === all.length;
    master.indeterminate = ticked > 0 && ticked < all.length;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-select-all]").forEach(function (master) {
      master.addEventListener("change", function () {
        boxes(master).forEach(function (box) {
          box.checked = master.checked;
        });
      });
      boxes(master).forEach(function (box) {
        box.addEventListener("change", function () {
          syncMaster(master);
        });
      });
    });
  });
})();
