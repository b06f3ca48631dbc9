/* Pictures of arrays on <canvas>: heatmaps per channel (values on a sequential scale,
   gradients on a diverging one, NaN magenta, +-inf black), bars for 1-D, histograms.
   MG.heat.picture(enc, opts) -> element; a click on a cell calls opts.onCell({c, i, j, flat}). */
(function (MG) {
  "use strict";
  function seq(t) {            // light -> dark blue
    var a = [247, 251, 255], b = [8, 48, 107];
    return a.map(function (v, k) { return Math.round(v + (b[k] - v) * t); });
  }
  function div(t) {            // -1 blue, 0 white, +1 red
    var c = t < 0 ? [33, 102, 172] : [178, 24, 43], s = Math.min(1, Math.abs(t));
    return c.map(function (v) { return Math.round(255 + (v - 255) * s); });
  }
  function rgb(v, lo, hi, diverging) {  // [r, g, b]
    if (isNaN(v)) return [255, 0, 255];
    if (!isFinite(v)) return [0, 0, 0];
    if (diverging) return div(hi > 0 ? v / hi : 0);
    return seq(hi > lo ? (v - lo) / (hi - lo) : 0.5);
  }
  function color(v, lo, hi, diverging) {
    return "rgb(" + rgb(v, lo, hi, diverging).join(",") + ")";
  }
  function range(data, start, n) {
    var lo = Infinity, hi = -Infinity;
    for (var k = start; k < start + n; k++) {
      var v = data[k];
      if (isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    return lo === Infinity ? [0, 0] : [lo, hi];
  }

  /* a (H, W) block of `data` starting at `start` as a canvas; returns the canvas */
  function map2d(data, start, h, w, opts) {
    var cell = Math.max(3, Math.min(opts.cell || 18, Math.floor((opts.size || 150) / Math.max(h, w))));
    var cv = MG.h("canvas", { width: w * cell, height: h * cell, class: "mg-heat" });
    cv.cell = cell;
    cv.hw = [h, w];
    cv.opts = opts;
    paint(cv, data, start, opts.range);
    if (opts.onCell) {
      cv.style.cursor = "crosshair";
      cv.addEventListener("click", function (ev) {
        var b = cv.getBoundingClientRect(), s = cv.width / b.width;
        var j2 = Math.floor((ev.clientX - b.left) * s / cell), i2 = Math.floor((ev.clientY - b.top) * s / cell);
        cv.cursor = { i: i2, j: j2 };
        opts.onCell({ c: opts.channel || 0, i: i2, j: j2, canvas: cv });
      });
      keyboard(cv, h, w, opts);
    } else {
      cv.setAttribute("role", "img");
    }
    label(cv);
    return cv;
  }

  /* (re)draw a heatmap canvas from `data` at `start` (same shape): scrubbing a timeline
     repaints its canvases instead of making new ones */
  function paint(cv, data, start, range0) {
    var h = cv.hw[0], w = cv.hw[1], cell = cv.cell, opts = cv.opts;
    var g = cv.getContext("2d"), r = range0 || range(data, start, h * w);
    var hi = opts.diverging ? Math.max(Math.abs(r[0]), Math.abs(r[1])) : r[1];
    var W = w * cell, img = g.createImageData(W, h * cell), px = img.data;
    for (var i = 0; i < h; i++) for (var j = 0; j < w; j++) {
      var c = rgb(data[start + i * w + j], r[0], hi, opts.diverging);
      for (var y = i * cell; y < (i + 1) * cell; y++) for (var x = j * cell, o = (y * W + x) * 4; x < (j + 1) * cell; x++, o += 4) {
        px[o] = c[0]; px[o + 1] = c[1]; px[o + 2] = c[2]; px[o + 3] = 255;
      }
    }
    g.putImageData(img, 0, 0);
    cv.orig = null;
    cv.src = { data: data, start: start, range: r };
    if (cv.hasAttribute("aria-label")) label(cv);
  }
  function label(cv) {
    var opts = cv.opts, r = cv.src.range;
    var what = (opts.label || (opts.diverging ? "gradient" : "values")) + (opts.channel !== undefined ? ", channel " + opts.channel : "");
    var span = ", " + cv.hw[0] + " by " + cv.hw[1] + ", from " + MG.fmt(r[0]) + " to " + MG.fmt(r[1]);
    cv.setAttribute("aria-label", "heatmap of " + what + span + (opts.onCell ? ". Arrow keys move between cells, Enter explains the cell." : ""));
  }

  /* Every cell by keyboard: the canvas takes focus, the arrow keys (Home/End: row ends) move
     a cursor and read the cell out, Enter or Space explains it as a click does. */
  function keyboard(cv, h, w, opts) {
    cv.setAttribute("tabindex", "0");
    cv.setAttribute("role", "application");
    cv.setAttribute("aria-roledescription", "heatmap");
    cv.setAttribute("data-keys", "own");
    function say() {
      var p = cv.cursor;
      MG.say("row " + p.i + ", column " + p.j + ": " + MG.fmt(cv.src.data[cv.src.start + p.i * w + p.j], 6));
      outline(cv, [{ i: p.i, j: p.j, color: "#1864ab", width: 2, dash: true }]);
    }
    cv.addEventListener("focus", function () { if (!cv.cursor) cv.cursor = { i: 0, j: 0 }; say(); });
    cv.addEventListener("keydown", function (ev) {
      var p = cv.cursor || { i: 0, j: 0 };
      var mv = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[ev.key];
      if (ev.key === "Home") mv = [0, -p.j];
      if (ev.key === "End") mv = [0, w - 1 - p.j];
      if (mv) {
        cv.cursor = { i: Math.max(0, Math.min(h - 1, p.i + mv[0])), j: Math.max(0, Math.min(w - 1, p.j + mv[1])) };
        say();
      } else if (ev.key === "Enter" || ev.key === " ") {
        cv.cursor = p;
        opts.onCell({ c: opts.channel || 0, i: p.i, j: p.j, canvas: cv, keyboard: true });
      } else return;
      ev.preventDefault();
      ev.stopPropagation();
    });
  }

  /* outline cells on a heatmap: list of {i, j, color, dash}; replaces the previous outline */
  function outline(cv, cells) {
    var g = cv.getContext("2d"), c = cv.cell;
    if (cv.orig) g.putImageData(cv.orig, 0, 0);
    else cv.orig = g.getImageData(0, 0, cv.width, cv.height);
    cells.forEach(function (p) {
      g.strokeStyle = p.color || "#f08c00";
      g.lineWidth = p.width || 2;
      g.setLineDash(p.dash ? [3, 2] : []);
      g.strokeRect(p.j * c + 1, p.i * c + 1, c - 2, c - 2);
    });
  }

  function bars(data, opts) {
    var n = data.length, w = Math.max(2, Math.min(14, Math.floor(300 / Math.max(n, 1))));
    var cv = MG.h("canvas", { width: n * w, height: 60, class: "mg-heat" });
    var g = cv.getContext("2d"), r = range(data, 0, n), m = Math.max(Math.abs(r[0]), Math.abs(r[1])) || 1;
    for (var k = 0; k < n; k++) {
      var v = data[k], hgt = isFinite(v) ? Math.abs(v) / m * 28 : 28;
      g.fillStyle = opts.diverging ? color(v, 0, m, true) : (isFinite(v) ? "#4263eb" : "#ff00ff");
      g.fillRect(k * w, v >= 0 || !isFinite(v) ? 30 - hgt : 30, w - 1, Math.max(hgt, 1));
    }
    cv.cell = w;
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", "bars of " + n + " values from " + MG.fmt(r[0]) + " to " + MG.fmt(r[1]));
    if (opts.onCell) {
      cv.addEventListener("click", function (ev) {
        var b = cv.getBoundingClientRect();
        opts.onCell({ c: 0, i: 0, j: Math.floor((ev.clientX - b.left) * cv.width / b.width / w), flat: true });
      });
      cv.setAttribute("tabindex", "0");
      cv.setAttribute("role", "application");
      cv.setAttribute("aria-roledescription", "bars");
      cv.setAttribute("data-keys", "own");
      cv.setAttribute("aria-label", "bars of " + n + " values; Left and Right move, Enter explains the value");
      var at = 0;
      cv.addEventListener("keydown", function (ev) {
        var mv = { ArrowLeft: -1, ArrowRight: 1 }[ev.key];
        if (mv) { at = Math.max(0, Math.min(n - 1, at + mv)); MG.say("element " + at + ": " + MG.fmt(data[at], 6)); }
        else if (ev.key === "Enter" || ev.key === " ") opts.onCell({ c: 0, i: 0, j: at, flat: true, keyboard: true });
        else return;
        ev.preventDefault();
        ev.stopPropagation();
      });
    }
    return cv;
  }

  /* The picture of an encoded array for one sample: one heatmap per channel (NCHW), a
     heatmap (2-D), bars (1-D) or the number (0-d). */
  function picture(enc, opts) {
    opts = opts || {};
    var a = MG.arr(enc);
    if (!a) return MG.h("span", { class: "mg-hint", text: "no values" });
    var shape = a.shape, d = a.data, box = MG.h("div", { class: "mg-pics" });
    box.canvases = [];
    if (shape.length === 0) { box.appendChild(MG.h("b", { text: MG.fmt(d[0], 6) })); return box; }
    if (shape.length === 1) { box.appendChild(bars(d, opts)); return box; }
    var lead = shape.length === 4 ? Math.min(opts.sample || 0, shape[0] - 1) : 0;
    var C = shape.length === 4 ? shape[1] : shape.length === 3 ? shape[0] : 1;
    var H = shape[shape.length - 2], W = shape[shape.length - 1];
    var per = C * H * W, base = shape.length === 4 ? lead * per : 0;
    var limit = Math.min(C, opts.maxChannels || 16);
    var r = range(d, base, per);
    var size = C > 1 ? (opts.size || 96) : (opts.size || 180);
    for (var c = 0; c < limit; c++) {
      var cv = map2d(d, base + c * H * W, H, W, {
        diverging: opts.diverging, size: size, range: r, label: opts.label,
        channel: C > 1 ? c : undefined, onCell: opts.onCell
      });
      cv.channel = c;
      box.canvases.push(cv);
      box.appendChild(MG.h("figure", { class: "mg-fig" }, [cv,
        C > 1 ? MG.h("figcaption", { text: "ch " + c }) : null]));
    }
    if (limit < C) box.appendChild(MG.h("span", { class: "mg-hint", text: "+" + (C - limit) + " more channels" }));
    box.key = shape.join(",") + "/" + lead;
    return box;
  }

  /* repaint a picture() with another array of the same shape; false when it cannot */
  function repaint(box, enc, opts) {
    var a = MG.arr(enc), shape = a && a.shape;
    if (!a || shape.length < 2) return false;
    var lead = shape.length === 4 ? Math.min(opts.sample || 0, shape[0] - 1) : 0;
    if (box.key !== shape.join(",") + "/" + lead) return false;
    var C = shape.length === 4 ? shape[1] : shape.length === 3 ? shape[0] : 1;
    var H = shape[shape.length - 2], W = shape[shape.length - 1], per = C * H * W;
    var base = shape.length === 4 ? lead * per : 0, r = range(a.data, base, per);
    box.canvases.forEach(function (cv, c) { paint(cv, a.data, base + c * H * W, r); });
    return true;
  }

  function hist(h, title) {
    if (!h) return null;
    var n = h.counts.length, cv = MG.h("canvas", { width: n * 8, height: 40, class: "mg-hist", role: "img",
      "aria-label": "histogram of " + title + " in " + n + " bins from " + MG.fmt(h.lo) + " to " + MG.fmt(h.hi) +
        "; counts " + h.counts.join(", ") });
    var g = cv.getContext("2d"), m = Math.max.apply(null, h.counts) || 1;
    h.counts.forEach(function (v, k) {
      g.fillStyle = "#748ffc";
      var hh = v / m * 38;
      g.fillRect(k * 8, 40 - hh, 7, hh);
    });
    return MG.h("div", { class: "mg-histbox" }, [MG.h("div", { class: "mg-cap", text: title }), cv,
      MG.h("div", { class: "mg-cap", text: MG.fmt(h.lo) + " … " + MG.fmt(h.hi) })]);
  }

  MG.heat = { picture: picture, repaint: repaint, paint: paint, map2d: map2d, outline: outline, hist: hist, color: color };
})(window.MG);
