/* Scorecard charts (Chart.js, vendored in static/vendor/chart.js/).
   The numbers come from the page's <script type="application/json" id="scorecard-data">;
   every chart also has its numbers in an aria-label and on the page as text, so the page
   reads the same without JavaScript. */
(function () {
  "use strict";

  var source = document.getElementById("scorecard-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);

  var INK = "#1d2433";
  var MUTED = "#5b6475";
  var LINE = "#dde2ea";
  var BRAND = "#3047b8";
  var STATUS_COLOURS = {
    healthy: "#1c8a4c",
    at_risk: "#c77d00",
    critical: "#c62828",
    not_scored: "#9aa3b2"
  };

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = MUTED;
  Chart.defaults.borderColor = LINE;
  Chart.defaults.animation = window.matchMedia("(prefers-reduced-motion: reduce)").matches
    ? false
    : Chart.defaults.animation;

  function fmt(value) {
    return value === null || value === undefined ? "—" : String(Math.round(value * 10) / 10);
  }

  function statusOf(value, health) {
    if (value === null || value === undefined) return "not_scored";
    if (value >= health.healthyFrom) return "healthy";
    if (value >= health.atRiskFrom) return "at_risk";
    return "critical";
  }

  /* Horizontal dashed lines at the "healthy" and "at risk" thresholds. */
  function thresholdLines(lines) {
    return {
      id: "thresholds",
      beforeDatasetsDraw: function (chart) {
        var y = chart.scales.y;
        var area = chart.chartArea;
        var ctx = chart.ctx;
        ctx.save();
        ctx.setLineDash([4, 4]);
        ctx.lineWidth = 1;
        lines.forEach(function (line) {
          var py = y.getPixelForValue(line.value);
          ctx.strokeStyle = line.colour;
          ctx.beginPath();
          ctx.moveTo(area.left, py);
          ctx.lineTo(area.right, py);
          ctx.stroke();
          ctx.fillStyle = line.colour;
          ctx.font = "11px " + Chart.defaults.font.family;
          ctx.fillText(line.label, area.left + 4, py - 4);
        });
        ctx.restore();
      }
    };
  }

  function healthChart() {
    var canvas = document.getElementById("health-chart");
    var health = data.health;
    if (!canvas || !health.values.length) return;
    new Chart(canvas, {
      type: "line",
      data: {
        labels: health.labels,
        datasets: [{
          label: "Health",
          data: health.values,
          borderColor: BRAND,
          backgroundColor: "rgba(48, 71, 184, .08)",
          fill: true,
          tension: 0.25,
          spanGaps: true,
          pointRadius: 4,
          pointBackgroundColor: health.values.map(function (v) {
            return STATUS_COLOURS[statusOf(v, health)];
          })
        }]
      },
      options: {
        maintainAspectRatio: false,
        scales: { y: { min: 0, max: 100, ticks: { stepSize: 20 } }, x: { grid: { display: false } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (c) { return "Health " + fmt(c.parsed.y); } } }
        }
      },
      plugins: [thresholdLines([
        { value: health.healthyFrom, colour: STATUS_COLOURS.healthy, label: "Healthy" },
        { value: health.atRiskFrom, colour: STATUS_COLOURS.critical, label: "Critical below" }
      ])]
    });
  }

  function subMapChart() {
    var canvas = document.getElementById("submaps-chart");
    var subs = data.submaps;
    if (!canvas || !subs.labels.length) return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: subs.labels,
        datasets: [{
          label: "Health",
          data: subs.values,
          backgroundColor: subs.statuses.map(function (s) { return STATUS_COLOURS[s]; }),
          borderRadius: 4,
          maxBarThickness: 48
        }]
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          y: { min: 0, max: 100, ticks: { stepSize: 20 } },
          x: { grid: { display: false }, ticks: { color: INK, autoSkip: false, maxRotation: 30 } }
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (c) { return "Health " + fmt(c.parsed.y); } } }
        }
      },
      plugins: [thresholdLines([
        { value: data.health.healthyFrom, colour: STATUS_COLOURS.healthy, label: "" },
        { value: data.health.atRiskFrom, colour: STATUS_COLOURS.critical, label: "" }
      ])]
    });
  }

  function kpiCharts() {
    document.querySelectorAll("canvas[data-kpi-chart]").forEach(function (canvas) {
      var kpi = data.kpis[canvas.dataset.kpiChart];
      if (!kpi || !kpi.values.length) return;
      var datasets = [{
        label: kpi.name,
        data: kpi.values,
        borderColor: BRAND,
        borderWidth: 2,
        pointRadius: 0,
        pointHoverRadius: 3,
        tension: 0.25
      }];
      if (kpi.target !== null) {
        datasets.push({
          label: "Target",
          data: kpi.values.map(function () { return kpi.target; }),
          borderColor: STATUS_COLOURS.healthy,
          borderDash: [4, 3],
          borderWidth: 1,
          pointRadius: 0
        });
      }
      if (kpi.baseline !== null) {
        datasets.push({
          label: "Baseline",
          data: kpi.values.map(function () { return kpi.baseline; }),
          borderColor: MUTED,
          borderDash: [2, 3],
          borderWidth: 1,
          pointRadius: 0
        });
      }
      new Chart(canvas, {
        type: "line",
        data: { labels: kpi.labels, datasets: datasets },
        options: {
          maintainAspectRatio: false,
          animation: false,
          scales: { x: { display: false }, y: { display: false, grace: "10%" } },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (c) {
                  return c.dataset.label + ": " + fmt(c.parsed.y) + (kpi.unit ? " " + kpi.unit : "");
                }
              }
            }
          }
        }
      });
    });
  }

  healthChart();
  subMapChart();
  kpiCharts();
})();
