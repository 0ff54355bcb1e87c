/* KPI dashboard: trend charts (Chart.js, vendored) and the custom-period fields.
   Data comes from <script type="application/json" id="kpi-charts"> (not executed: CSP-safe).
   The page reserves each chart's height and hides the custom-period fields itself, so nothing
   moves when this script runs. */
(function () {
  "use strict";

  function toggleCustom(form) {
    var select = form.querySelector("select[name=period]");
    if (!select) { return; }
    form.classList.toggle("kpi-preset", select.value !== "custom");
  }

  // A point where a day with data has no data on either side (a lone value would otherwise not show).
  function isolatedPointRadius(ctx) {
    var values = ctx.dataset.data;
    var i = ctx.dataIndex;
    if (values[i] === null) { return 0; }
    var before = i > 0 ? values[i - 1] : null;
    var after = i < values.length - 1 ? values[i + 1] : null;
    return before === null && after === null ? 3 : 0;
  }

  function drawCharts() {
    var source = document.getElementById("kpi-charts");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var numeric = window.Chart.Ticks.formatters.numeric;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var series = data[canvas.getAttribute("data-chart")];
      if (!series) { return; }
      new window.Chart(canvas, {
        type: series.labels.length > 1 ? "line" : "bar",
        data: {
          labels: series.labels,
          // The line runs on across days without data, and a day with data between two empty
          // days also gets a point, so a lone value is never invisible.
          datasets: [{
            data: series.values, borderWidth: 2, spanGaps: true, tension: 0.2,
            pointRadius: isolatedPointRadius, pointHoverRadius: 4, pointHitRadius: 6
          }]
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: function (ctx) { return series.texts[ctx.dataIndex]; } } }
          },
          scales: {
            x: { ticks: { maxTicksLimit: 5, maxRotation: 0 } },
            y: {
              beginAtZero: true,
              ticks: {
                maxTicksLimit: 4,
                precision: series.whole ? 0 : undefined,
                callback: function (value, index, ticks) {
                  var text = numeric.call(this, value, index, ticks);
                  return series.unit ? text + " " + series.unit : text;
                }
              }
            }
          }
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("kpi-filters");
    if (form) {
      form.addEventListener("change", function (event) {
        if (event.target.name === "period") { toggleCustom(form); }
      });
    }
    drawCharts();
  });
})();
