/* The portfolio's impact-versus-effort bubble chart (Chart.js, vendored in
   static/vendor/chart.js/). Data comes from <script type="application/json"
   id="portfolio-data">; the page's "Chart data" table holds the same values, so it
   reads the same without JavaScript. Clicking a bubble opens its project. */
(function () {
  "use strict";

  var source = document.getElementById("portfolio-data");
  var canvas = document.getElementById("portfolio-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  if (!data.points.length) return;

  var MUTED = "#5b6475";
  var LINE = "#dde2ea";
  var STATUS_COLOURS = {
    idea: "#8a93a3",
    planned: "#3047b8",
    ongoing: "#c77d00",
    done: "#1c8a4c",
    cancelled: "#c62828"
  };

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = MUTED;
  Chart.defaults.borderColor = LINE;
  if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    Chart.defaults.animation = false;
  }

  /* the server chooses the effort axis: linear from 0, or logarithmic when efforts
     spread over ten times or more (one large project would squeeze the others) */
  var axis = data.effortAxis;
  var logarithmic = axis.type === "logarithmic";

  /* one dataset per status, so the legend explains the colours */
  var datasets = Object.keys(data.statuses).map(function (status) {
    var colour = STATUS_COLOURS[status] || MUTED;
    return {
      label: data.statuses[status],
      data: data.points.filter(function (p) { return p.status === status; }),
      backgroundColor: colour + "99",
      borderColor: colour,
      borderWidth: 1.5
    };
  }).filter(function (d) { return d.data.length; });

  /* the four quadrants: dashed dividing lines and their names in the corners */
  var quadrants = {
    id: "quadrants",
    beforeDatasetsDraw: function (chart) {
      var x = chart.scales.x, y = chart.scales.y, area = chart.chartArea, ctx = chart.ctx;
      var px = x.getPixelForValue(data.effortSplit);
      var py = y.getPixelForValue(data.impactSplit);
      ctx.save();
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = "#9aa3b2";
      ctx.beginPath();
      ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom);
      ctx.moveTo(area.left, py); ctx.lineTo(area.right, py);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#5b6475";
      ctx.font = "600 12px " + Chart.defaults.font.family;
      ctx.textBaseline = "top";
      ctx.textAlign = "left";
      ctx.fillText(data.quadrants.quick_win, area.left + 6, area.top + 6);
      ctx.fillText(data.quadrants.maybe, area.left + 6, py + 6);
      ctx.textAlign = "right";
      ctx.fillText(data.quadrants.big_bet, area.right - 6, area.top + 6);
      ctx.fillText(data.quadrants.time_sink, area.right - 6, py + 6);
      ctx.restore();
    }
  };

  var chart = new Chart(canvas, {
    type: "bubble",
    data: { datasets: datasets },
    plugins: [quadrants],
    options: {
      maintainAspectRatio: false,
      scales: {
        x: {
          type: axis.type,
          min: axis.min,
          max: axis.max,
          /* on a log axis only 1, 2 and 5 × 10ⁿ are labelled: the rest would overlap */
          ticks: logarithmic ? {
            callback: function (v) {
              var lead = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
              return [1, 2, 5].some(function (d) { return Math.abs(lead - d) < 1e-6; }) ? String(v) : null;
            }
          } : {},
          title: {
            display: true,
            text: logarithmic ? "Effort (person-weeks, logarithmic scale)" : "Effort (person-weeks)"
          }
        },
        y: {
          min: 0.5,
          max: 5.5,
          /* whole impacts only: the half steps are the room around the bubbles */
          ticks: { stepSize: 0.5, callback: function (v) { return Number.isInteger(v) ? v : null; } },
          title: { display: true, text: "Impact (1–5)" }
        }
      },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var p = ctx.raw;
              return "#" + p.rank + " " + p.title + " — impact " + p.y + ", effort " + p.x +
                ", reach " + p.reach + ", index " + p.index;
            }
          }
        }
      },
      onHover: function (event, elements) {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      },
      onClick: function (event, elements) {
        if (!elements.length) return;
        var hit = elements[0];
        var point = chart.data.datasets[hit.datasetIndex].data[hit.index];
        if (point && point.url) window.location.assign(point.url);
      }
    }
  });
  canvas.portfolioChart = chart; /* lets browser tests find a bubble's position */
})();
