(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("timeline-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("timeline");
  var box = document.getElementById("timeline-box");
  var readout = document.getElementById("timeline-range");
  var LEFT = 230, RIGHT = 14, LANE = 24, AXIS = 20, ROWH = 14, ROWS = 3;
  var lo = Math.min(D.start, D.focus[0]), hi = Math.max(D.end, D.focus[1], D.start + 1e-3);
  var view = D.focus.slice();
  var plotW = 600;

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) { node.setAttribute(k, attrs[k]); }
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function titled(node, text) { el("title", {}, node, text); return node; }
  function linkTo(seq, parent) {
    return seq >= 0 ? el("a", {href: "#seq-" + seq}, parent) : parent;
  }
  function fmt(t) {
    var w = view[1] - view[0];
    return t.toFixed(w < 2 ? 3 : w < 60 ? 1 : 0) + "s";
  }
  function clamp(a, b) {
    var w = Math.max(b - a, 0.02);
    if (w >= hi - lo) { return [lo, hi]; }
    if (a < lo) { a = lo; }
    if (a + w > hi) { a = hi - w; }
    return [a, a + w];
  }
  function setView(a, b) { view = clamp(a, b); draw(); }
  function step(w) {
    var raw = w / 8, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
  }

  // Violation labels in rows above the lanes: each is measured as drawn and goes in the
  // first row where it clears its neighbours; one that fits nowhere is left out (counted).
  function layoutLabels(x) {
    var groups = [];
    D.violations.forEach(function (v) {
      if (v[0] < view[0] || v[0] > view[1]) { return; }
      var px = x(v[0]), g = groups[groups.length - 1];
      if (g && px - g.x < 3) { g.items.push(v); } else { groups.push({x: px, items: [v]}); }
    });
    var rows = [], hidden = 0;
    groups.forEach(function (g) {
      var names = [];
      g.items.forEach(function (v) { if (names.indexOf(v[1]) < 0) { names.push(v[1]); } });
      var text = names.join(", ") + (g.items.length > 1 ? " (" + g.items.length + ")" : "");
      var node = titled(el("text", {"class": "vlabel"}, svg, text), g.items.map(function (v) {
        return v[1] + " " + v[2] + " at t=" + v[0] + "s: " + v[4]; }).join("\n"));
      var width = node.getComputedTextLength();
      var right = g.x + 3 + width <= LEFT + plotW;
      var a = right ? g.x + 3 : g.x - 3 - width, b = a + width;
      for (var r = 0; r < ROWS; r++) {
        var row = rows[r] || (rows[r] = []);
        if (row.every(function (s) { return b + 4 < s[0] || a > s[1] + 4; })) {
          row.push([a, b]);
          node.setAttribute("x", right ? g.x + 3 : g.x - 3);
          node.setAttribute("y", AXIS + (r + 1) * ROWH - 2);
          node.setAttribute("text-anchor", right ? "start" : "end");
          return;
        }
      }
      svg.removeChild(node);
      hidden += 1;
    });
    return hidden;
  }

  function draw() {
    var W = Math.max(box.clientWidth, 640);
    plotW = W - LEFT - RIGHT;
    var w = view[1] - view[0];
    var x = function (t) { return LEFT + (t - view[0]) / w * plotW; };
    var top = AXIS + ROWS * ROWH + 6, H = top + D.lanes.length * LANE + 4;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    var defs = el("defs", {}, svg);
    D.faultColours.forEach(function (c, i) {
      var p = el("pattern", {id: "hatch-" + i, width: 6, height: 6, patternUnits: "userSpaceOnUse",
                             patternTransform: "rotate(45)"}, defs);
      el("rect", {width: 6, height: 6, fill: c, opacity: 0.18}, p);
      el("line", {x1: 0, y1: 0, x2: 0, y2: 6, stroke: c, "stroke-width": 3}, p);
    });
    var clip = el("clipPath", {id: "plot-clip"}, defs);
    el("rect", {x: LEFT, y: 0, width: plotW, height: H}, clip);
    D.lanes.forEach(function (lane, i) {
      var y = top + i * LANE;
      el("rect", {x: 0, y: y, width: W, height: LANE,
                  "class": "lane-bg" + (i % 2 ? " alt" : "")}, svg);
      titled(el("text", {x: 6, y: y + 16, "class": "lane-label lane-" + lane.kind,
                         "data-lane": lane.label}, svg,
                lane.label.length > 36 ? lane.label.slice(0, 35) + "…" : lane.label), lane.title);
    });
    var s = step(w), plot = el("g", {"clip-path": "url(#plot-clip)"}, svg);
    for (var t = Math.ceil(view[0] / s) * s; t <= view[1]; t += s) {
      el("line", {x1: x(t), x2: x(t), y1: AXIS - 4, y2: H, "class": "grid"}, plot);
      el("text", {x: x(t) + 2, y: 12, "class": "tick"}, plot, fmt(t));
    }
    D.bars.forEach(function (b) {
      if (b[2] < view[0] || b[1] > view[1]) { return; }
      var y = top + b[0] * LANE, a = Math.max(x(b[1]), LEFT - 2), e = Math.min(x(b[2]), W);
      var cls = b[3], h = [y + 3, 18];
      if (cls.indexOf("call") === 0) { h = [y + 3, 10]; }
      if (cls === "lock") { h = [y + 15, 6]; }
      var g = linkTo(b[5], plot);
      var attrs = {x: a, y: h[0], width: Math.max(e - a, 1.5), height: h[1], "class": cls};
      if (cls.indexOf("fault") === 0) {
        attrs.fill = "url(#hatch-" + cls.slice(7) + ")";
        attrs.stroke = D.faultColours[+cls.slice(7)];
      }
      titled(el("rect", attrs, g), b[4] + " · " + b[1].toFixed(3) + "s to " + b[2].toFixed(3) + "s");
      if (b[6] && e - a > b[6].length * 6.5 + 4) {
        el("text", {x: a + 3, y: y + 16, "class": "bar-text"}, g, b[6]);
      }
    });
    D.marks.forEach(function (m) {
      if (m[1] < view[0] || m[1] > view[1]) { return; }
      var cx = x(m[1]), y = top + m[0] * LANE, g = linkTo(m[4], plot), node;
      if (m[2] === "step") {
        node = el("g", {"class": "step"}, g);
        el("circle", {cx: cx, cy: y + 12, r: 7}, node);
        el("text", {x: cx, y: y + 16, "text-anchor": "middle"}, node, m[5]);
      } else if (m[2] === "lockfail") {
        node = el("path", {d: "M" + (cx - 4) + " " + (y + 14) + "l8 8m0 -8l-8 8", "class": "lockfail"}, g);
      } else {
        var c = D.faultColours[+m[2].slice(5)];
        node = el("path", {d: "M" + cx + " " + (y + 2) + "l6 6l-6 6l-6 -6z", fill: c, "class": m[2]}, g);
      }
      titled(node, m[3] + " · t=" + m[1].toFixed(3) + "s");
    });
    D.violations.forEach(function (v, i) {
      if (v[0] < view[0] || v[0] > view[1]) { return; }
      titled(el("line", {x1: x(v[0]), x2: x(v[0]), y1: AXIS, y2: H,
                         "class": "vline" + (i === 0 ? " first" : "")}, plot),
             v[1] + " at t=" + v[0] + "s: " + v[4]);
    });
    var hidden = layoutLabels(x);
    svg.setAttribute("data-view-start", view[0]);
    svg.setAttribute("data-view-end", view[1]);
    readout.textContent = "showing t=" + fmt(view[0]) + " to " + fmt(view[1]) + " of a " +
      (D.end - D.start).toFixed(1) + "s run" +
      (hidden ? " · " + hidden + " violation labels left out here: zoom in" : "");
  }

  function timeAt(clientX) {
    var r = svg.getBoundingClientRect();
    return view[0] + (clientX - r.left - LEFT) / plotW * (view[1] - view[0]);
  }
  function zoom(f, t) {
    if (t === undefined) { t = (view[0] + view[1]) / 2; }
    setView(t - (t - view[0]) * f, t + (view[1] - t) * f);
  }
  function pan(f) { var d = (view[1] - view[0]) * f; setView(view[0] + d, view[1] + d); }
  var actions = {
    focus: function () { setView(D.focus[0], D.focus[1]); },
    "in": function () { zoom(0.5); },
    out: function () { zoom(2); },
    all: function () { setView(lo, hi); },
    story: function () {
      var pad = Math.max((D.story[1] - D.story[0]) * 0.05, 1);
      setView(D.story[0] - pad, D.story[1] + pad);
    },
    left: function () { pan(-0.4); },
    right: function () { pan(0.4); }
  };
  Array.prototype.forEach.call(document.querySelectorAll("[data-zoom]"), function (b) {
    b.addEventListener("click", function () { actions[b.getAttribute("data-zoom")](); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-jump]"), function (a) {
    a.addEventListener("click", function () {
      var t = +a.getAttribute("data-jump"), w = Math.min(view[1] - view[0], D.focus[1] - D.focus[0]);
      setView(t - w / 2, t + w / 2);
    });
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, timeAt(ev.clientX));
  }, {passive: false});
  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    if (ev.button === 0) { drag = {x: ev.clientX, view: view.slice(), moved: false}; }
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x;
    if (Math.abs(dx) > 3) { drag.moved = true; }
    if (drag.moved) {
      var dt = dx / plotW * (drag.view[1] - drag.view[0]);
      setView(drag.view[0] - dt, drag.view[1] - dt);
    }
  });
  var dragged = false;  // a drag ends in a click: it must not follow a link
  svg.addEventListener("click", function (ev) {
    if (dragged) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);
  window.addEventListener("mouseup", function () {
    if (drag && drag.moved) {
      dragged = true;
      setTimeout(function () { dragged = false; }, 0);
    }
    drag = null;
  });
  window.addEventListener("resize", draw);
  draw();
})();
