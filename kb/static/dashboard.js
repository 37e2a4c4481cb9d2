/* Charts for the insights dashboard, drawn with Chart.js (served locally). The tables in the
   page carry the same figures for readers without JavaScript. */
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  if (!source || !window.Chart) return;
  var report = JSON.parse(source.textContent);
  var all = report.totals.all || {};
  var steps = [["sessions", "Sessions"], ["searched", "Searched"], ["suggestions_shown", "Suggestions shown"],
               ["opened", "Articles opened"], ["helpful", "Helpful"], ["confirmed", "Confirmed deflections"], ["tickets", "Tickets"]];
  new Chart(document.getElementById("funnel-chart"), {
    type: "bar",
    data: {labels: steps.map(function (s) { return s[1]; }),
           datasets: [{label: "All languages", data: steps.map(function (s) { return all[s[0]] || 0; }),
                       backgroundColor: "#1d5fd1"}]},
    options: {animation: false, plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
  });
  var periods = Array.from(new Set(report.funnel.map(function (r) { return r.period; }))).sort();
  var langs = Array.from(new Set(report.funnel.map(function (r) { return r.lang; }))).sort();
  var colors = ["#1d5fd1", "#bf3989", "#1a7f37", "#9a6700", "#6e7781"];
  new Chart(document.getElementById("rate-chart"), {
    // A line needs two periods; one period as a line is a lone dot at the left edge.
    type: periods.length > 1 ? "line" : "bar",
    data: {labels: periods, datasets: langs.map(function (lang, i) {
      return {label: lang, borderColor: colors[i % colors.length], backgroundColor: colors[i % colors.length], spanGaps: true,
              data: periods.map(function (p) {
                var row = report.funnel.find(function (r) { return r.period === p && r.lang === lang; });
                return row && row.deflection_rate !== null ? Math.round(row.deflection_rate * 100) : null;
              })};
    })},
    options: {animation: false, scales: {y: {beginAtZero: true, max: 100, ticks: {callback: function (v) { return v + "%"; }}}}}
  });
})();
