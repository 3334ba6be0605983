// Ledger statistics: draws the charts with Chart.js (served from /static/vendor) from the JSON the page
// carries in a data attribute; the same numbers stand in the table under each chart, so the page reads
// fully without script. Labels arrive as words, never codes. No inline script, no third-party host.
(function () {
  "use strict";
  var root = document.getElementById("ledger-charts");
  if (!root || typeof window.Chart !== "function") {
    return;
  }
  var data = JSON.parse(root.getAttribute("data-charts"));
  var COLORS = ["#3182ce", "#dd6b20", "#2f855a", "#805ad5", "#d69e2e", "#c53030", "#319795", "#a0aec0"];
  var LEVELS = ["#c53030", "#dd6b20", "#d69e2e", "#3182ce", "#a0aec0"];

  function axis(stacked) {
    return {
      x: { stacked: stacked },
      y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
    };
  }

  function bars(id, series, colors) {
    var canvas = document.getElementById("chart-" + id);
    if (!canvas) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: series.labels, datasets: [{ data: series.counts, backgroundColor: colors || COLORS }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
                 scales: axis(false) }
    });
  }

  bars("level", data.level, LEVELS);
  bars("platform", data.platform);
  bars("source", data.source);
  bars("unit", data.unit);
  bars("report", data.report, COLORS[0]);
  bars("release", data.release, COLORS[1]);

  var compliance = document.getElementById("chart-compliance");
  if (compliance) {
    new window.Chart(compliance, {
      type: "bar",
      data: {
        labels: data.compliance.labels,
        datasets: [
          { label: root.getAttribute("data-met"), data: data.compliance.met, backgroundColor: "#2f855a" },
          { label: root.getAttribute("data-missed"), data: data.compliance.missed, backgroundColor: "#c53030" },
          { label: root.getAttribute("data-pending"), data: data.compliance.pending, backgroundColor: "#a0aec0" }
        ]
      },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } },
                 scales: axis(true) }
    });
  }

  var trend = document.getElementById("chart-trend");
  if (trend) {
    new window.Chart(trend, {
      type: "line",
      data: {
        labels: data.trend.labels,
        datasets: [
          { label: root.getAttribute("data-incidents"), data: data.trend.counts, borderColor: "#3182ce",
            backgroundColor: "#3182ce" },
          { label: root.getAttribute("data-overdue"), data: data.trend.overdue, borderColor: "#c53030",
            backgroundColor: "#c53030" }
        ]
      },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } },
                 scales: axis(false) }
    });
  }
}());
