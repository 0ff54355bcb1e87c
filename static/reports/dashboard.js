/* KPI dashboard: trend charts (Chart.js, vendored) and the custom-period fields.
   Data comes from <script type="application/json" id="kpi-charts"> (not executed: CSP-safe). */
(function () {
  "use strict";

  function toggleCustom(form) {
    var select = form.querySelector("select[name=period]");
    if (!select) { return; }
    form.classList.toggle("kpi-preset", select.value !== "custom");
  }

  function drawCharts() {
    var source = document.getElementById("kpi-charts");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var series = data[canvas.getAttribute("data-chart")];
      if (!series) { return; }
      new window.Chart(canvas, {
        type: series.labels.length > 1 ? "line" : "bar",
        data: {
          labels: series.labels,
          datasets: [{ data: series.values, borderWidth: 2, pointRadius: 0, spanGaps: true, tension: 0.2 }]
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: function (ctx) { return ctx.formattedValue + " " + series.unit; } } }
          },
          scales: { x: { ticks: { maxTicksLimit: 6 } }, y: { beginAtZero: true, ticks: { maxTicksLimit: 4 } } }
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("kpi-filters");
    if (form) {
      toggleCustom(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "period") { toggleCustom(form); }
      });
    }
    drawCharts();
  });
})();
