// Charts of query results (issue 19): bar, line or scatter with the vendored Chart.js.
// Defaults follow the column types (time -> line, text + number -> bar, two numbers ->
// scatter), the same rule as querying/saved/charts.py chart_default. The current spec is what
// a saved query stores: {"type", "x", "y": [...]}.
(function () {
  "use strict";
  var panel = document.getElementById("chart-panel");
  if (!panel) { return; }
  var typeSelect = document.getElementById("chart-type");
  var xSelect = document.getElementById("chart-x");
  var yBox = document.getElementById("chart-y");
  var canvas = document.getElementById("chart-canvas");
  var note = document.getElementById("chart-note");
  var MAX_SERIES = 6;
  var MAX_POINTS = 5000;
  var body = null;
  var chart = null;

  function kind(typeName) {
    var t = String(typeName || "").toUpperCase();
    if (/\[\]|RANGE|STRUCT|MAP\(|UNION\(/.test(t)) { return "text"; }
    if (t.indexOf("INTERVAL") >= 0) { return "number"; }
    if (t.indexOf("DATE") >= 0 || t.indexOf("TIME") >= 0) { return "time"; }
    if (/INT|DECIMAL|NUMERIC|DOUBLE|FLOAT|REAL|HUGEINT|SERIAL/.test(t)) { return "number"; }
    return "text";
  }

  function kinds() { return body.columns.map(function (c, i) { return kind((body.types || [])[i]); }); }

  function defaultSpec() {
    var ks = kinds();
    var numbers = body.columns.filter(function (c, i) { return ks[i] === "number"; });
    var pairs = [["time", "line"], ["text", "bar"]];
    for (var p = 0; p < pairs.length; p++) {
      var at = ks.indexOf(pairs[p][0]);
      if (at >= 0 && numbers.length) {
        return { type: pairs[p][1], x: body.columns[at], y: numbers.slice(0, MAX_SERIES) };
      }
    }
    if (numbers.length >= 2) { return { type: "scatter", x: numbers[0], y: numbers.slice(1, 1 + MAX_SERIES) }; }
    return null;
  }

  function fits(spec) {
    if (!spec || !spec.type) { return false; }
    var cols = body.columns;
    return cols.indexOf(spec.x) >= 0 && (spec.y || []).length > 0 &&
      spec.y.every(function (y) { return cols.indexOf(y) >= 0; });
  }

  function numberOf(value) {
    if (value === null || value === undefined || value === "") { return null; }
    var n = typeof value === "number" ? value : Number(value);
    return isFinite(n) ? n : null;
  }

  function timeOf(value) {
    var t = Date.parse(value);
    return isNaN(t) ? null : t;
  }

  function option(value, label, selected) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    o.selected = !!selected;
    return o;
  }

  function fillControls(spec) {
    typeSelect.value = spec ? spec.type : "";
    xSelect.textContent = "";
    body.columns.forEach(function (c) { xSelect.appendChild(option(c, c, spec && spec.x === c)); });
    yBox.querySelectorAll("label").forEach(function (l) { l.remove(); });
    var ks = kinds();
    body.columns.forEach(function (c, i) {
      var label = document.createElement("label");
      label.className = "inline";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = c;
      box.checked = !!(spec && spec.y.indexOf(c) >= 0);
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + c + (ks[i] === "number" ? "" : " (" + ks[i] + ")")));
      yBox.appendChild(label);
    });
  }

  function currentSpec() {
    if (!body || !typeSelect.value) { return null; }
    var ys = Array.prototype.slice.call(yBox.querySelectorAll("input:checked")).map(function (b) { return b.value; });
    if (!ys.length) { return null; }
    return { type: typeSelect.value, x: xSelect.value, y: ys.slice(0, MAX_SERIES) };
  }

  function destroy() {
    if (chart) { chart.destroy(); chart = null; }
  }

  function draw() {
    destroy();
    var spec = currentSpec();
    canvas.parentNode.hidden = !spec;
    panel.setAttribute("data-chart-type", spec ? spec.type : "");
    note.textContent = "";
    if (!spec || !window.Chart) {
      if (body && typeSelect.value && !spec) { note.textContent = "Pick at least one Y column."; }
      return;
    }
    var xi = body.columns.indexOf(spec.x);
    var xKind = kinds()[xi];
    var rows = body.rows.slice(0, MAX_POINTS);
    if (body.rows.length > MAX_POINTS) {
      note.textContent = "The chart shows the first " + MAX_POINTS + " rows.";
    }
    var datasets;
    var config;
    if (spec.type === "scatter") {
      var xOf = xKind === "time" ? timeOf : numberOf;
      datasets = spec.y.map(function (y) {
        var yi = body.columns.indexOf(y);
        return {
          label: y,
          data: rows.map(function (r) { return { x: xOf(r[xi]), y: numberOf(r[yi]) }; })
            .filter(function (pt) { return pt.x !== null && pt.y !== null; })
        };
      });
      config = {
        type: "scatter",
        data: { datasets: datasets },
        options: {
          scales: {
            x: {
              type: "linear",
              title: { display: true, text: spec.x },
              ticks: xKind === "time" ? { callback: function (v) { return new Date(v).toISOString().slice(0, 10); } } : {}
            }
          }
        }
      };
    } else {
      if (spec.type === "line" && xKind === "time") {
        rows = rows.slice().sort(function (a, b) { return (timeOf(a[xi]) || 0) - (timeOf(b[xi]) || 0); });
      }
      datasets = spec.y.map(function (y) {
        var yi = body.columns.indexOf(y);
        return { label: y, data: rows.map(function (r) { return numberOf(r[yi]); }) };
      });
      config = {
        type: spec.type,
        data: { labels: rows.map(function (r) { return r[xi] === null ? "NULL" : String(r[xi]); }), datasets: datasets },
        options: { scales: { x: { title: { display: true, text: spec.x } } } }
      };
    }
    config.options.animation = false;
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    config.options.plugins = { legend: { display: spec.y.length > 1 } };
    chart = new window.Chart(canvas, config);
  }

  [typeSelect, xSelect].forEach(function (el) { el.addEventListener("change", draw); });
  yBox.addEventListener("change", draw);
  typeSelect.addEventListener("change", function () {
    // Switching from "table only" to a chart with nothing picked: start from the defaults.
    if (typeSelect.value && !currentSpec()) {
      var spec = defaultSpec();
      if (spec) { spec.type = typeSelect.value; fillControls(spec); draw(); }
    }
  });

  window.PortalChart = {
    // Show the chart of an answer: the preferred spec (a saved query's) when its columns are
    // in the result, else the defaults from the column types.
    show: function (answer, preferred) {
      body = answer;
      if (!body || !body.columns || !body.columns.length) { this.clear(); return; }
      var spec = fits(preferred) ? preferred : (preferred === null ? null : defaultSpec());
      panel.hidden = false;
      fillControls(spec);
      draw();
    },
    clear: function () {
      body = null;
      destroy();
      panel.hidden = true;
    },
    spec: currentSpec,
    chart: function () { return chart; }
  };
})();
