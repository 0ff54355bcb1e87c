/* SLA calendar page: "Add working hours" / "Add a holiday" append a blank row to a Django
   formset. <button data-formset-add="PREFIX"> clones <template data-formset-template="PREFIX">
   into <tbody data-formset-body="PREFIX">, numbering it from PREFIX-TOTAL_FORMS
   (served from static/, the CSP forbids inline scripts). */
(function () {
  "use strict";

  function addRow(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.querySelector('template[data-formset-template="' + prefix + '"]');
    var body = document.querySelector('[data-formset-body="' + prefix + '"]');
    if (!total || !template || !body) {
      return;
    }
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.firstElementChild;
    if (!row) {
      return;
    }
    body.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input, select");
    if (first) {
      first.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-formset-add]").forEach(function (button) {
      button.addEventListener("click", function () {
        addRow(button.getAttribute("data-formset-add"));
      });
    });
  });
})();
