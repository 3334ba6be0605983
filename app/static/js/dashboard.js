// Admin dashboard: draws the charts with Chart.js and refreshes numbers, list and charts from
// /admin/dashboard.json every few seconds. The first data come from the page (JSON in a data
// attribute); labels arrive translated and times already in Asia/Shanghai. No inline script, no
// third-party host; text is set with textContent only.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) {
    return;
  }
  var sourceUrl = root.getAttribute("data-source-url");
  var every = (parseInt(root.getAttribute("data-refresh-seconds"), 10) || 15) * 1000;
  var stale = root.querySelector("[data-stale]");
  var urgentBody = root.querySelector("[data-urgent]");
  var charts = {};
  var COLORS = {
    levels: ["#c53030", "#dd6b20", "#d69e2e", "#3182ce", "#a0aec0"],
    met: "#2f855a",
    missed: "#c53030",
    pending: "#a0aec0"
  };

  function pick(data, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? undefined : value[key];
    }, data);
  }

  function updateFields(data) {
    var nodes = root.querySelectorAll("[data-field]");
    for (var i = 0; i < nodes.length; i += 1) {
      var value = pick(data, nodes[i].getAttribute("data-field"));
      nodes[i].textContent = value === null || value === undefined ? "—" : String(value);
    }
    var flags = root.querySelectorAll("[data-ok-field]");
    for (var j = 0; j < flags.length; j += 1) {
      var ok = Boolean(pick(data, flags[j].getAttribute("data-ok-field")));
      flags[j].classList.toggle("health--ok", ok);
      flags[j].classList.toggle("health--bad", !ok);
    }
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  function updateUrgent(tasks) {
    if (!urgentBody) {
      return;
    }
    while (urgentBody.firstChild) {
      urgentBody.removeChild(urgentBody.firstChild);
    }
    if (!tasks.length) {
      var empty = document.createElement("tr");
      var td = cell(empty, root.getAttribute("data-empty-text"), "empty");
      td.colSpan = 4;
      urgentBody.appendChild(empty);
      return;
    }
    tasks.forEach(function (task) {
      var row = document.createElement("tr");
      row.className = "row--" + task.state;
      var first = cell(row, "");
      var link = document.createElement("a");
      link.href = task.url;
      link.textContent = task.name;
      first.appendChild(link);
      cell(row, task.incident);
      cell(row, task.due_at);
      cell(row, task.remaining, "due--" + task.state);
      urgentBody.appendChild(row);
    });
  }

  function complianceSets(data) {
    var c = data.compliance;
    return [
      { label: c.labels[0], data: [c.week.met, c.month.met], backgroundColor: COLORS.met },
      { label: c.labels[1], data: [c.week.missed, c.month.missed], backgroundColor: COLORS.missed },
      { label: c.labels[2], data: [c.week.pending, c.month.pending], backgroundColor: COLORS.pending }
    ];
  }

  function integerAxis(stacked) {
    return {
      x: { stacked: stacked },
      y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
    };
  }

  function drawCharts(data) {
    if (typeof window.Chart !== "function") {
      return;  // the numbers next to the charts still show everything
    }
    var levels = document.getElementById("chart-levels");
    var compliance = document.getElementById("chart-compliance");
    if (levels && !charts.levels) {
      charts.levels = new window.Chart(levels, {
        type: "bar",
        data: {
          labels: data.incidents.labels,
          datasets: [{ data: data.incidents.counts, backgroundColor: COLORS.levels }]
        },
        options: {
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: integerAxis(false)
        }
      });
    } else if (charts.levels) {
      charts.levels.data.labels = data.incidents.labels;
      charts.levels.data.datasets[0].data = data.incidents.counts;
      charts.levels.update();
    }
    if (compliance && !charts.compliance) {
      charts.compliance = new window.Chart(compliance, {
        type: "bar",
        data: { labels: data.compliance.periods, datasets: complianceSets(data) },
        options: {
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { position: "bottom" } },
          scales: integerAxis(true)
        }
      });
    } else if (charts.compliance) {
      charts.compliance.data.labels = data.compliance.periods;
      charts.compliance.data.datasets = complianceSets(data);
      charts.compliance.update();
    }
  }

  function render(data) {
    updateFields(data);
    updateUrgent(data.tasks.urgent);
    drawCharts(data);
  }

  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(sourceUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        render(data);
        if (stale) {
          stale.hidden = true;
        }
      })
      .catch(function () {
        if (stale) {
          stale.hidden = false;
        }
      });
  }

  render(JSON.parse(root.getAttribute("data-dashboard")));
  window.setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      refresh();
    }
  });
}());
