/* Training timeline (payload.timeline, from Recorder.explore): the loss curve with a cursor,
   a slider and the arrow keys over the recorded frames, conv filters at the frame and as a
   filmstrip over the run, the probes' feature maps, health series with their flags, and in
   the panel "why did this weight change?": the optimizer's own arithmetic template filled
   with the frame's numbers (formatted as Python's "%.6g", so it reads as minigrad prints). */
(function (MG) {
  "use strict";
  var T = null, S = { k: 0, param: null, flat: 0, probe: 0 }, el = {};

  /* Python's format(x, ".6g") */
  /* numbers as Python's explain_update writes them (minigrad.numtext, 6 digits) */
  function g6(x) { return MG.fmt(x, 6); }

  function frame() { return T.frames[S.k]; }
  function info(name) { return T.params.filter(function (p) { return p.name === name; })[0]; }
  function unravel(flat, shape) {
    var idx = [];
    for (var d = shape.length - 1; d >= 0; d--) { idx.unshift(flat % shape[d]); flat = Math.floor(flat / shape[d]); }
    return idx;
  }
  function at(enc, flat) { var a = MG.arr(enc); return a && flat < a.data.length ? a.data[flat] : null; }


  /* ---- the frames: packed by recorder_page._pack, unpacked once at mount -----------------
     T.frames comes as {json, size}: the frames' JSON, DEFLATE-compressed. Their arrays:
     T.blobs[b] holds the same array of many frames, one row per frame: each row XORed with
     the row before ("xor"; "delta": the difference of uint8 levels), split into byte planes,
     DEFLATE-compressed, base64. A frame's array is {z: [b, row]}, {same: [k, ...path]} (the
     array at that path of frame k), {sub: [p, q]} (float32(p - q)) or {div: [p, s]}
     (float32(p / float32(s))): the same bits as the engine's, every one. */
  /* raw DEFLATE (RFC 1951), inflated by the browser's own DecompressionStream */
  function inflateRaw(bytes, size, what) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Response(stream).arrayBuffer().then(function (buf) {
      if (buf.byteLength !== size) throw new Error("timeline data: " + what + " inflated to " + buf.byteLength + " bytes, expected " + size);
      return new Uint8Array(buf);
    });
  }
  /* before the page is built: inflate the frames' JSON and every blob's byte planes */
  function prepare(payload) {
    var T = payload.timeline, jobs = [], t0 = performance.now();
    if (typeof DecompressionStream === "undefined")
      return Promise.reject(new Error("this page needs a browser that can inflate data (DecompressionStream: Chrome 80, Firefox 113, Safari 16.4 or newer)"));
    if (!Array.isArray(T.frames))  // the frames' JSON, compressed (ASCII: names are escaped)
      jobs.push(inflateRaw(bytesOf(T.frames.json), T.frames.size, "the frames").then(function (b) {
        T.frames = JSON.parse(new TextDecoder().decode(b));
      }));
    (T.blobs || []).forEach(function (b, i) {
      if (b.planes) return;
      jobs.push(inflateRaw(bytesOf(b.z), b.n * b.rows * WIDTH[b.dtype], "blob " + i).then(function (planes) { b.planes = planes; }));
    });
    return Promise.all(jobs).then(function () { MG.timeline.inflateMs = performance.now() - t0; });
  }
  var WIDTH = { float32: 4, float64: 8, int32: 4, uint8: 1 };
  function unblob(b) {  // -> one typed array per row
    var w = WIDTH[b.dtype], row = b.n * w, total = row * b.rows, i;
    var planes = b.planes, bytes = new Uint8Array(total), N = b.n * b.rows;
    for (var p = 0; p < w; p++) for (var e = 0, o = p * N; e < N; e++) bytes[e * w + p] = planes[o + e];
    if (b.mode === "xor") for (i = row; i < total; i++) bytes[i] ^= bytes[i - row];
    if (b.mode === "delta") for (i = row; i < total; i++) bytes[i] = (bytes[i] + bytes[i - row]) & 255;
    var out = [];
    for (var r = 0; r < b.rows; r++) out.push(new MG.TYPED[b.dtype](bytes.buffer, r * row, b.n));
    return out;
  }
  function arrayFrom(enc, data) {  // what MG.arr gives for a plain encoded array
    var a = MG.arrOf(enc, data);
    a.unpacked = true;
    return a;
  }
  function bytesOf(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function unpack(T) {  // after prepare(): every compressed part is inflated
    var rows = (T.blobs || []).map(unblob);
    function slot(k, path) {
      var box = T.frames[k];
      for (var i = 0; i < path.length - 1; i++) box = box && box[path[i]];
      return box ? { box: box, key: path[path.length - 1] } : null;
    }
    function get(ref) {  // the unpacked array at [k, ...path]
      var s = slot(ref[0], ref.slice(1));
      if (!s || !s.box[s.key]) throw new Error("timeline data: no array at " + ref.join("/"));
      return resolve(s.box, s.key);
    }
    function resolve(box, key) {
      var enc = box[key], a = null, i;
      if (!enc || typeof enc !== "object" || enc.unpacked) return enc;
      if (enc.z) a = arrayFrom(enc, rows[enc.z[0]][enc.z[1]]);
      else if (enc.same) a = get(enc.same);
      else if (enc.sub || enc.div) {
        var x = get((enc.sub || enc.div)[0]).data, out = new Float32Array(x.length);
        if (enc.sub) { var y = get(enc.sub[1]).data; for (i = 0; i < x.length; i++) out[i] = x[i] - y[i]; }
        else { var s = Math.fround(MG.num(enc.div[1])); for (i = 0; i < x.length; i++) out[i] = x[i] / s; }
        a = arrayFrom(enc, out);  // a Float32Array rounds each float64 result to float32
      } else return enc;  // plain {shape, dtype, b64}: MG.arr decodes it
      box[key] = a;
      return a;
    }
    T.frames.forEach(function (f) {
      ["params", "grads", "updates", "pics", "acts"].forEach(function (sec) {
        Object.keys(f[sec] || {}).forEach(function (n) { resolve(f[sec], n); });
      });
      Object.keys(f.explain || {}).forEach(function (n) {
        var e = f.explain[n];
        if (typeof e.templates === "number") e.templates = T.templates[e.templates];
        Object.keys(e.values).forEach(function (k) { resolve(e.values, k); });
      });
    });
  }
  /* an unpacked array is already what MG.arr returns */
  var decodeArr = MG.arr;
  MG.arr = function (enc) { return enc && enc.unpacked ? enc : decodeArr(enc); };

  /* ---- SVG line charts (loss curve, health sparklines) -------------------------------- */
  var NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  /* nice tick values from lo to hi (about n of them): 1, 2 or 5 times a power of ten */
  function ticks(lo, hi, n) {
    var span = hi - lo, raw = span / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).filter(function (st) { return st >= raw; })[0] || raw;
    var out = [];
    for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function short(v) { return String(Number(v.toPrecision(3))); }

  /* A line chart. With opts.axes: a y axis with ticks (decades on a log scale; opts.percent
     shows 0-100%), an x axis of steps with ticks, and their titles. */
  function chart(xs, ys, opts) {
    var W = opts.width, H = opts.height, pad = opts.pad || 4, log = opts.log, ax = opts.axes;
    var L = ax ? 52 : pad, R = pad + (ax ? 6 : 0), T0 = pad + (ax ? 4 : 0), B = ax ? 34 : pad;
    var pts = [], lo = Infinity, hi = -Infinity, x0 = xs[0], x1 = xs[xs.length - 1];
    ys.forEach(function (y, i) {
      y = MG.num(y);
      if (y === null || !isFinite(y)) return;
      var v = log ? (y > 0 ? Math.log10(y) : null) : y;  // on a log scale 0 sits at the bottom
      if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      pts.push([xs[i], v]);
    });
    if (opts.range) { lo = opts.range[0]; hi = opts.range[1]; }
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (hi === lo) { hi += 1; lo -= 1; }
    pts.forEach(function (p) { if (p[1] === null) p[1] = lo; });
    var sx = function (x) { return L + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (W - L - R); };
    var sy = function (v) { return H - B - (v - lo) / (hi - lo) * (H - T0 - B); };
    var box = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, class: opts.cls || "mg-tl-chart",
      role: "img", "aria-label": (opts.title || "chart") + ": " + pts.length + " points" +
        (pts.length ? ", from " + g6(MG.num(ys[0])) + " to " + g6(MG.num(ys[ys.length - 1])) : "") });
    box.appendChild(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#fff", stroke: "#dee2e6" }));
    if (ax) {
      var yt = log ? ticks(Math.floor(lo), Math.ceil(hi), 4).filter(function (v) { return v >= lo - 1e-9 && v <= hi + 1e-9 && v === Math.round(v); })
        : ticks(lo, hi, 4);
      if (log && yt.length < 2) yt = ticks(lo, hi, 3);
      yt.forEach(function (v) {
        var y = sy(v).toFixed(1);
        box.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#e9ecef" }));
        box.appendChild(svg("line", { x1: L - 4, x2: L, y1: y, y2: y, stroke: "#495057" }));
        var t = svg("text", { x: L - 6, y: Number(y) + 4, "text-anchor": "end", class: "mg-tl-axis" });
        t.textContent = opts.percent ? Math.round(v * 100) + "%" : log ? short(Math.pow(10, v)) : short(v);
        box.appendChild(t);
      });
      ticks(x0, x1, Math.max(2, Math.floor((W - L - R) / 80))).forEach(function (v) {
        var x = sx(v).toFixed(1);
        box.appendChild(svg("line", { x1: x, x2: x, y1: H - B, y2: H - B + 4, stroke: "#495057" }));
        var t = svg("text", { x: x, y: H - B + 16, "text-anchor": "middle", class: "mg-tl-axis" });
        t.textContent = short(v);
        box.appendChild(t);
      });
      box.appendChild(svg("path", { d: "M" + L + "," + T0 + "V" + (H - B) + "H" + (W - R), fill: "none", stroke: "#495057" }));
      var xt = svg("text", { x: (L + W - R) / 2, y: H - 3, "text-anchor": "middle", class: "mg-tl-axis" });
      xt.textContent = "step";
      box.appendChild(xt);
      var ytl = svg("text", { x: 12, y: (T0 + H - B) / 2, "text-anchor": "middle", class: "mg-tl-axis",
        transform: "rotate(-90 12 " + ((T0 + H - B) / 2) + ")" });
      ytl.textContent = opts.ytitle || "";
      box.appendChild(ytl);
    }
    box.appendChild(svg("polyline", { fill: "none", stroke: opts.color || "#1c7ed6", "stroke-width": 1.5,
      points: pts.map(function (p) { return sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1); }).join(" ") }));
    if (opts.dots) pts.forEach(function (p) {
      box.appendChild(svg("circle", { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.5, fill: opts.color || "#1c7ed6" }));
    });
    (opts.marks || []).forEach(function (m) {
      box.appendChild(svg("circle", { cx: sx(m), cy: T0 + 2, r: 3, fill: "#e03131", class: "mg-tl-mark" }));
    });
    var cur = svg("line", { x1: 0, x2: 0, y1: T0, y2: H - B, stroke: "#e8590c", "stroke-width": 1.5, class: "mg-tl-cursor" });
    box.appendChild(cur);
    box.cursorAt = function (x) { var p = sx(x).toFixed(1); cur.setAttribute("x1", p); cur.setAttribute("x2", p); };
    box.xAt = function (px) { return x0 + (px - L) / (W - L - R) * (x1 - x0); };
    box.range = [lo, hi];
    return box;
  }

  /* ---- the frame: slider, numbers ----------------------------------------------------- */
  function nearest(step) {
    var best = 0;
    T.frames.forEach(function (f, i) { if (Math.abs(f.step - step) < Math.abs(T.frames[best].step - step)) best = i; });
    return best;
  }
  function go(k) {
    S.k = Math.max(0, Math.min(T.frames.length - 1, k));
    el.slider.value = String(S.k);
    var f = frame();
    el.frameText.textContent = "frame " + S.k + " of " + (T.frames.length - 1);
    el.step.textContent = String(f.step);
    el.loss.textContent = f.loss === null ? "–" : g6(MG.num(f.loss));
    el.charts.forEach(function (c) { c.cursorAt(f.step); });
    drawFilters(); drawMaps(); drawPredictions(); drawTable(); explain();
    clearTimeout(urlTimer);  // writing the URL costs a few ms: once scrubbing pauses
    urlTimer = setTimeout(frameToUrl, 150);
    MG.emit("frame", { index: S.k, step: f.step });
  }
  var urlTimer = 0;
  function frameToUrl() { clearTimeout(urlTimer); urlTimer = 0; MG.url.set({ frame: S.k }, false); }

  function drawTable() {
    var f = frame(), rows = [MG.h("tr", {}, ["parameter", "‖w‖", "‖grad‖", "‖update‖"].map(function (t) {
      return MG.h("th", { text: t });
    }))];
    T.params.forEach(function (p) {
      var n = (f.norms && f.norms[p.name]) || [null, null, null];  // over every element
      rows.push(MG.h("tr", { "data-param": p.name }, [MG.h("td", { text: p.name })].concat(n.map(function (v) {
        return MG.h("td", { text: v === null ? "–" : g6(MG.num(v)) });
      }))));
    });
    el.table.replaceChildren(MG.h("table", { class: "mg-kv mg-tl-table" }, rows));
  }

  /* ---- filters: at the frame (click a weight) and as a filmstrip over the run ---------- */
  var MAX_FILTERS = 32;  // (output, input) channel pairs drawn per conv layer at a frame
  function picOf(f, name) { return (f.pics && f.pics[name]) || f.params[name]; }
  function filterMaps(enc, p, opts) {
    var a = MG.arr(enc), s = p.shape, hw = s[2] * s[3], box = MG.h("div", { class: "mg-tl-filters" });
    box.cells = [];
    if (!a) return box;
    var lim = absMax(enc), shown = 0, total = s[0] * s[1];
    for (var o = 0; o < s[0]; o++) for (var c = 0; c < s[1]; c++) {
      var start = (o * s[1] + c) * hw;
      if (start + hw > a.data.length || shown === MAX_FILTERS) {
        box.appendChild(MG.h("p", { class: "mg-hint", text: "+ " + (total - shown) + " more filters not drawn" }));
        return box;
      }
      shown += 1;
      (function (o, c, start) {
        var cv = MG.heat.map2d(a.data, start, s[2], s[3], { diverging: true, range: [-lim, lim], size: opts.size,
          label: p.name + " filter " + o + (s[1] > 1 ? ", input channel " + c : ""),
          onCell: opts.click ? function (cell) { pick(p.name, start + cell.i * s[3] + cell.j); } : null });
        box.cells.push({ cv: cv, start: start });
        if (opts.click && S.param === p.name && S.flat >= start && S.flat < start + hw)
          MG.heat.outline(cv, [{ i: Math.floor((S.flat - start) / s[3]), j: (S.flat - start) % s[3] }]);
        box.appendChild(MG.h("figure", { class: "mg-fig" }, [cv, opts.click ? MG.h("figcaption", { text: o + (s[1] > 1 ? "," + c : "") }) : null]));
      })(o, c, start);
    }
    return box;
  }
  var absMaxes = new WeakMap();
  function absMax(enc) {
    if (enc && absMaxes.has(enc)) return absMaxes.get(enc);
    var a = MG.arr(enc), m = 0;
    if (a) for (var i = 0; i < a.data.length; i++) if (isFinite(a.data[i])) m = Math.max(m, Math.abs(a.data[i]));
    if (enc) absMaxes.set(enc, m || 1);
    return m || 1;
  }
  /* the filmstrip: one row per filter, one column per chosen frame, on one colour scale */
  var strips = {};
  /* the filmstrip of p for these frames, built once; scrubbing only moves the highlight */
  function filmstripCached(p, picks) {
    var key = picks.join(","), hit = strips[p.name];
    if (!hit || hit.key !== key) hit = strips[p.name] = { key: key, table: filmstrip(p, picks) };
    Array.prototype.forEach.call(hit.table.querySelectorAll("[data-k]"), function (c) {
      c.classList.toggle("mg-on", Number(c.getAttribute("data-k")) === S.k);
    });
    return hit.table;
  }
  function filmstrip(p, picks) {
    var s = p.shape, hw = s[2] * s[3], n = Math.min(s[0] * s[1], 16), lim = 0;
    picks.forEach(function (k) { lim = Math.max(lim, absMax(picOf(T.frames[k], p.name))); });
    var rows = [MG.h("tr", {}, [MG.h("td", {})].concat(picks.map(function (k) {
      return MG.h("th", { class: k === S.k ? "mg-on" : "", "data-k": String(k), text: "step " + T.frames[k].step, title: "go to this frame", onclick: function () { go(k); } });
    })))];
    for (var r = 0; r < n; r++) {
      var cells = [MG.h("th", { text: "filter " + Math.floor(r / s[1]) + (s[1] > 1 ? "," + (r % s[1]) : "") })];
      picks.forEach(function (k) {
        var a = MG.arr(picOf(T.frames[k], p.name)), td = MG.h("td", { class: k === S.k ? "mg-on" : "", "data-k": String(k) });
        if (a && (r + 1) * hw <= a.data.length)
          td.appendChild(MG.heat.map2d(a.data, r * hw, s[2], s[3], { diverging: true, range: [-lim, lim], size: 30 }));
        cells.push(td);
      });
      rows.push(MG.h("tr", {}, cells));
    }
    return MG.h("table", { class: "mg-tl-strip" }, rows);
  }
  /* the filters at this frame: built once per layer, then repainted (and the picked weight
     outlined again) as the frame changes */
  function repaintFilters(box, enc, p) {
    var a = MG.arr(enc), lim = absMax(enc), s = p.shape, hw = s[2] * s[3];
    if (!a || !box.cells) return false;
    box.cells.forEach(function (c) {
      if (c.start + hw > a.data.length) return;
      MG.heat.paint(c.cv, a.data, c.start, [-lim, lim]);
      if (S.param === p.name && S.flat >= c.start && S.flat < c.start + hw)
        MG.heat.outline(c.cv, [{ i: Math.floor((S.flat - c.start) / s[3]), j: (S.flat - c.start) % s[3] }]);
    });
    return true;
  }
  function drawFilters() {
    var f = frame(), out = [], convs = T.params.filter(function (p) { return p.shape.length === 4; });
    el.filterBoxes = el.filterBoxes || {};
    if (el.filterHeads && convs.every(function (p) {  // the same DOM: repaint, retitle
      var box = el.filterBoxes[p.name];
      return box && repaintFilters(box, picOf(f, p.name), p);
    })) {
      convs.forEach(function (p) {
        el.filterHeads[p.name].textContent = p.name + " at step " + f.step + " (" + p.shape.join("×") + "; click a weight to see why it changed)";
        filmstripCached(p, pickFrames(9));
      });
      return;
    }
    el.filterHeads = {};
    T.params.filter(function (p) { return p.shape.length === 4; }).forEach(function (p) {
      var box = el.filterBoxes[p.name], enc = picOf(f, p.name);
      if (!box || !repaintFilters(box, enc, p)) box = el.filterBoxes[p.name] = filterMaps(enc, p, { click: true, size: 64 });
      out.push(el.filterHeads[p.name] = MG.h("h3", { text: p.name + " at step " + f.step + " (" + p.shape.join("×") + "; click a weight to see why it changed)" }));
      out.push(box);
      out.push(MG.h("div", { class: "mg-cap", text: "filmstrip: the same filters over the run, one colour scale (blue −, red +); click a step" }), MG.h("div", { class: "mg-tl-scroll" }, [filmstripCached(p, pickFrames(9))]));
    });
    if (!out.length) out.push(MG.h("p", { class: "mg-hint", text: "no conv filters in this model" }));
    el.filters.replaceChildren.apply(el.filters, out);
  }
  function pickFrames(n) {
    var N = T.frames.length, out = [];
    for (var i = 0; i < Math.min(n, N); i++) out.push(Math.round(i * (N - 1) / Math.max(1, Math.min(n, N) - 1)));
    return out;  // fixed over the run: scrubbing moves the highlight, it does not redraw
  }

  /* ---- feature maps of the probes ------------------------------------------------------ */
  function drawMaps() {
    var f = frame(), out = [];
    if (!T.activations.length) { el.maps.replaceChildren(MG.h("p", { class: "mg-hint", text: "record with probes=... to see feature maps" })); return; }
    if (el.mapPics && el.mapPics.probe === S.probe && T.activations.every(function (a) {  // same pictures: repaint
      var enc = f.acts[a.name], pic = el.mapPics[a.name];
      if (!enc || !pic) return !enc && !pic;
      if (enc.shape.length === 2) { var v = valuesOf(enc, a.shape[1]); pic.replaceWith(v); el.mapPics[a.name] = v; return true; }
      return MG.heat.repaint(pic, enc, { sample: S.probe });
    })) return;
    el.mapPics = { probe: S.probe };
    if (T.probes) out.push(MG.h("div", { class: "mg-tl-act" }, [MG.h("div", { class: "mg-cap", text: "probe " + S.probe }),
      MG.heat.picture(T.probes, { sample: S.probe, size: 72, label: "probe " + S.probe })]));
    T.activations.forEach(function (a) {
      var enc = f.acts[a.name]; if (!enc) return;
      var pic = MG.heat.picture(enc, { sample: S.probe, size: 60, maxChannels: 8, label: a.name + " of probe " + S.probe });
      if (enc.shape.length === 2) pic = valuesOf(enc, a.shape[1]);
      else if (enc.shape.length === 4 && a.shape.length === 4 && a.shape[1] > enc.shape[1])  // the page keeps the channels it draws
        pic.appendChild(MG.h("span", { class: "mg-hint", text: "+" + (a.shape[1] - enc.shape[1]) + " more channels" }));
      el.mapPics[a.name] = pic;
      out.push(MG.h("div", { class: "mg-tl-act", "data-act": a.name }, [MG.h("div", { class: "mg-cap", text: a.name + " (" + a.kind + ")" }), pic]));
    });
    el.maps.replaceChildren.apply(el.maps, out);
  }
  /* every probe at this frame: its picture and the class the model predicts (✓/✗ with labels) */
  function className(k) { return T.classes && T.classes[k] !== undefined ? T.classes[k] : String(k); }
  function drawPredictions() {
    var f = frame(), out = [];
    if (!T.probes || !f.pred) { el.preds.replaceChildren(MG.h("p", { class: "mg-hint", text: "no predictions: record with probes=..." })); return; }
    var right = 0;
    el.predPics = el.predPics || [];
    f.pred.forEach(function (k, i) {
      var pic = el.predPics[i] = el.predPics[i] || MG.heat.picture(T.probes, { sample: i, size: 36, label: "probe " + i });
      var y = T.labels ? T.labels[i] : null, ok = y === null ? null : y === k;
      if (ok) right += 1;
      var text = "predicts " + className(k) + (ok === null ? "" : ok ? " ✓" : " ✗ (is " + className(y) + ")");
      out.push(MG.h("button", { class: "mg-tl-pred" + (ok === false ? " mg-wrong" : "") + (i === S.probe ? " mg-on" : ""),
        "data-probe": String(i), "aria-pressed": i === S.probe ? "true" : "false",
        onclick: function () { S.probe = i; el.probe && (el.probe.value = String(i)); drawMaps(); drawPredictions(); } }, [
        pic, MG.h("span", { text: "probe " + i + " " }), MG.h("b", { text: text })]));
    });
    var head = T.labels ? right + " of " + f.pred.length + " probes right at step " + f.step : "predicted classes at step " + f.step;
    el.preds.replaceChildren(MG.h("div", { class: "mg-cap", id: "mg-tl-predsum", text: head }), MG.h("div", { class: "mg-tl-preds" }, out));
  }

  function valuesOf(enc, width) {  // (N, F) outputs: the chosen probe's first numbers (the page keeps 12)
    var a = MG.arr(enc), F = a.shape[1], vals = [];
    for (var j = 0; j < Math.min(F, 12); j++) vals.push(g6(a.data[S.probe * F + j]));
    return MG.h("code", { class: "mg-tl-vals", text: vals.join("  ") + ((width || F) > 12 ? " …" : "") });
  }

  /* ---- health series and flags --------------------------------------------------------- */
  var METRIC = { dead_relu: "dead", saturated: "saturated", large_updates: "update_ratio", exploding: "grad_norm", vanishing: "grad_norm" };
  var LABEL = { grad_norm: "gradient norm", update_ratio: "update / weight", dead: "dead ReLU units", saturated: "saturated units", weight_norm: "weight norm" };
  function drawHealth(box) {
    var H = T.health, flags = H.flags;
    var list = MG.h("ul", { class: "mg-tl-flags" });
    if (!flags.length) list.appendChild(MG.h("li", { class: "mg-tl-ok", text: "No flags: nothing looks wrong in this run." }));
    flags.forEach(function (fl) {
      list.appendChild(MG.h("li", { class: "mg-tl-flag", "data-kind": fl.kind, title: "go to step " + fl.step,
        onclick: function () { go(nearest(fl.step)); } }, [MG.h("b", { text: "step " + fl.step + " " }), fl.message]));
    });
    box.appendChild(list);
    var grid = MG.h("div", { class: "mg-tl-grid" });
    Object.keys(H.layers).sort().forEach(function (layer) {
      Object.keys(H.layers[layer]).sort().forEach(function (key) {
        var ys = H.layers[layer][key], marks = flags.filter(function (fl) {
          return fl.layer === layer && METRIC[fl.kind] === key;
        }).map(function (fl) { return fl.step; });
        var c = chart(H.steps, ys, { width: 210, height: 46, title: layer + " " + (LABEL[key] || key), log: key === "grad_norm" || key === "update_ratio", marks: marks, color: marks.length ? "#e03131" : "#2f9e44" });
        el.charts.push(c);
        grid.appendChild(MG.h("div", { class: "mg-tl-spark", "data-series": layer + "/" + key }, [
          MG.h("div", { class: "mg-cap", text: layer + ": " + (LABEL[key] || key) + (c.range[0] !== Infinity && (key === "grad_norm" || key === "update_ratio") ? " (log)" : "") }), c]));
      });
    });
    box.appendChild(grid);
  }

  /* ---- why did this weight change? (panel) --------------------------------------------- */
  function pick(name, flat) {
    S.param = name; S.flat = flat; drawFilters(); explain();
    if (urlTimer) frameToUrl();  // the frame first: the new history entry keeps it
    var p = info(name);
    MG.url.set({ node: name, cell: p ? unravel(flat, p.shape).join(",") : null }, true);
    MG.say(Array.prototype.map.call(el.explain.children, function (e) { return e.textContent; }).join(". "));
  }
  function valueFor(key, ex, f, name, flat) {
    var inFrame = { grad: f.grads, new_weight: f.params, change: f.updates }[key];
    var v = key in ex.values ? ex.values[key] : inFrame ? inFrame[name] : undefined;
    if (v === undefined || v === null) return null;
    return typeof v === "object" ? at(v, flat) : MG.num(v);
  }
  function explain() {
    var p = info(S.param), f = frame(), box = el.explain;
    if (!p || !box) return;
    var idx = unravel(S.flat, p.shape), where = p.name + "[" + idx.join(", ") + "]";
    el.index.value = String(S.flat);
    el.param.value = p.name;
    var lines = [], ex = f.explain && f.explain[p.name];
    el.w.textContent = g6(at(f.params[p.name], S.flat));
    el.g.textContent = f.grads[p.name] ? g6(at(f.grads[p.name], S.flat)) : "–";
    el.u.textContent = f.updates[p.name] ? g6(at(f.updates[p.name], S.flat)) : "–";
    el.where.textContent = where + " at step " + f.step;
    if (S.flat >= p.kept) lines.push("This page keeps the first " + p.kept + " elements of " + p.name + " only.");
    else if (f.step === 0) lines.push("Frame 0 is the start: no update led to these weights.");
    else if (!T.optimizer) lines.push("Record with optimizer=... to see the arithmetic of each update.");
    else if (!ex) lines.push(p.name + " was not updated at this step.");
    else ex.templates.forEach(function (t) {  // as the optimizer fills them: (-x) unless "= x"
      lines.push(t.replace(/(= )?\{(\w+)\}/g, function (m, eq, key) {
        var v = key === "where" ? where : valueFor(key, ex, f, p.name, S.flat);
        if (v === null) return m;
        var text = key === "where" ? v : g6(v);
        return eq ? "= " + text : text.charAt(0) === "-" ? "(" + text + ")" : text;
      }));
    });
    box.replaceChildren.apply(box, lines.map(function (l) { return MG.h("div", { class: "mg-tl-line", text: l }); }));
  }
  function mountPanel() {
    el.param = MG.h("select", { id: "mg-tl-param", "aria-label": "parameter", onchange: function () { pick(el.param.value, 0); } },
      T.params.map(function (p) { return MG.h("option", { value: p.name, text: p.name + " " + p.shape.join("×") }); }));
    el.index = MG.h("input", { id: "mg-tl-index", type: "number", min: "0", step: "1", "aria-label": "flat index", class: "mg-tl-num",
      onchange: function () { var p = info(S.param), n = Math.floor(Number(el.index.value)) || 0; pick(S.param, Math.max(0, Math.min(p.kept - 1, n))); } });
    el.w = MG.h("b", { id: "mg-tl-w" }); el.g = MG.h("b", { id: "mg-tl-g" }); el.u = MG.h("b", { id: "mg-tl-u" });
    el.where = MG.h("h3", { id: "mg-tl-where" });
    el.explain = MG.h("div", { id: "mg-tl-explain", class: "mg-arith" });
    MG.panelOwner = "timeline";
    MG.panel.replaceChildren(MG.h("h2", { text: "Why did this weight change?" }),
      MG.h("div", { class: "mg-toolbar-row" }, [el.param, MG.h("label", {}, ["element ", el.index])]), el.where,
      MG.h("table", { class: "mg-kv" }, [MG.h("tr", {}, [MG.h("th", { text: "weight after" }), MG.h("td", {}, [el.w])]),
        MG.h("tr", {}, [MG.h("th", { text: "gradient" }), MG.h("td", {}, [el.g])]),
        MG.h("tr", {}, [MG.h("th", { text: "update (new − old)" }), MG.h("td", {}, [el.u])])]),
      MG.h("div", { class: "mg-card-title", text: (T.optimizer || "optimizer") + " arithmetic at this step" }), el.explain,
      MG.h("p", { class: "mg-hint", text: "Click a weight in a filter, or pick a parameter and element. ←/→ move through frames." }));
  }

  /* ---- the view ------------------------------------------------------------------------ */
  function mount(root, payload) {
    T = payload.timeline; el.charts = [];
    var t0 = performance.now();
    unpack(T);
    MG.timeline.unpackMs = performance.now() - t0;
    S.param = T.params.length ? (T.params.filter(function (p) { return p.shape.length === 4; })[0] || T.params[0]).name : null;
    // drawn at the width they get (a phone's screen, say), so their text stays readable
    var room = Math.max(300, (root.clientWidth || 1000) - 24);
    var steps = T.losses.map(function (_, i) { return i + 1; }), W = Math.min(T.accuracy ? 560 : 900, room), AW = Math.min(340, room), CH = room < 500 ? 130 : 170;
    var logLoss = T.losses.every(function (v) { return MG.num(v) > 0 && isFinite(MG.num(v)); });
    var loss = chart(steps.length ? steps : [0, 1], steps.length ? T.losses : [null, null], {
      width: W, height: CH, pad: 8, cls: "mg-tl-loss", log: logLoss, axes: true, ytitle: "loss", title: "loss of every step" });
    loss.style.cursor = "pointer";
    loss.addEventListener("click", function (ev) {
      var b = loss.getBoundingClientRect();
      go(nearest(loss.xAt((ev.clientX - b.left) * W / b.width)));
    });
    el.charts.push(loss);
    var acc = null;
    if (T.accuracy) {
      acc = chart(T.frames.map(function (f) { return f.step; }), T.accuracy, { width: AW, height: CH, pad: 8, cls: "mg-tl-loss mg-tl-acc",
        axes: true, percent: true, range: [0, 1], dots: true, color: "#2b8a3e", ytitle: "accuracy", title: "accuracy on the " + T.labels.length + " probes" });
      el.charts.push(acc);
      acc.style.cursor = "pointer";
      acc.addEventListener("click", function (ev) {
        var b = acc.getBoundingClientRect();
        go(nearest(acc.xAt((ev.clientX - b.left) * AW / b.width)));
      });
    }
    el.slider = MG.h("input", { id: "mg-tl-slider", type: "range", min: "0", max: String(T.frames.length - 1), step: "1", value: "0",
      class: "mg-tl-slider", "aria-label": "frame", oninput: function () { go(Number(el.slider.value)); } });
    el.frameText = MG.h("span", { id: "mg-tl-frame" });
    el.step = MG.h("b", { id: "mg-tl-step" }); el.loss = MG.h("b", { id: "mg-tl-loss" });
    var btn = function (t, d) { return MG.h("button", { text: t, title: t === "◀" ? "previous frame (←)" : "next frame (→)", onclick: function () { go(S.k + d); } }); };
    var note = T.kept.length < T.recorded ? " · the page shows " + T.kept.length + " of " + T.recorded + " recorded frames" : "";
    el.filters = MG.h("div", { id: "mg-tl-filters" }); el.maps = MG.h("div", { id: "mg-tl-maps", class: "mg-tl-maps" });
    el.table = MG.h("div", { id: "mg-tl-table" });
    var health = MG.h("div", { id: "mg-tl-health" });
    el.preds = MG.h("div", { id: "mg-tl-preds" });
    var probes = el.probe = T.probes ? MG.h("select", { id: "mg-tl-probe", "aria-label": "probe", onchange: function () { S.probe = Number(this.value); drawMaps(); drawPredictions(); } },
      Array.apply(null, { length: T.probes.shape[0] }).map(function (_, i) { return MG.h("option", { value: String(i), text: "probe " + i }); })) : null;
    root.appendChild(MG.h("div", { class: "mg-tl" }, [
      MG.h("div", { class: "mg-tl-top" }, [MG.h("div", { class: "mg-cap", text: "loss of every step (" + (logLoss ? "log" : "linear") + " scale)" +
        (acc ? " and accuracy on the probes at each frame" : "") + "; the orange line is the chosen frame; click to jump" }),
        MG.h("div", { class: "mg-tl-charts" }, [loss, acc])]),
      MG.h("div", { class: "mg-toolbar-row mg-tl-bar" }, [btn("◀", -1), el.slider, btn("▶", 1), el.frameText,
        MG.h("span", {}, ["step ", el.step]), MG.h("span", {}, ["loss ", el.loss]),
        MG.h("span", { class: "mg-hint", text: note })]),
      MG.h("div", { class: "mg-tl-body" }, [
        MG.h("section", {}, [MG.h("h2", { text: "Filters" }), el.filters]),
        MG.h("section", {}, [MG.h("h2", { text: "Predictions" }), el.preds]),
        MG.h("section", {}, [MG.h("h2", {}, ["Feature maps of the probes ", probes]), el.maps]),
        MG.h("section", {}, [MG.h("h2", { text: "Health" }), health]),
        MG.h("section", {}, [MG.h("h2", { text: "Parameters at this frame" }), el.table])])]));
    drawHealth(health);
    go(0);  // the panel is built by show(), which runs right after mount
  }

  /* the URL's frame, and its node (a parameter) and cell (an element's index) */
  MG.on("restore", function (st) {
    if (!T || MG.state.view !== "timeline") return;
    if (st.frame !== undefined) go(Number(st.frame) || 0);
    clearTimeout(urlTimer); urlTimer = 0;  // the URL already says where we are
    var p = st.node && info(st.node);
    if (!p) return;
    var idx = (st.cell || "").split(",").map(Number), flat = 0;
    if (idx.length === p.shape.length && idx.every(function (v, d) { return v >= 0 && v < p.shape[d]; }))
      idx.forEach(function (v, d) { flat = flat * p.shape[d] + v; });
    S.param = p.name; S.flat = flat; drawFilters(); explain();
  });

  MG.views.timeline = {
    title: "Training", order: 5,
    keys: ["←/→ Home End frame"],
    available: function (payload) { return !!payload.timeline; },
    prepare: prepare,
    mount: mount,
    show: function () { if (T) { mountPanel(); explain(); } },
    key: function (ev) {
      if (ev.key === "ArrowRight") { go(S.k + 1); return true; }
      if (ev.key === "ArrowLeft") { go(S.k - 1); return true; }
      if (ev.key === "Home") { go(0); return true; }
      if (ev.key === "End") { go(T.frames.length - 1); return true; }
      return false;
    }
  };
  MG.timeline = { go: go, pick: pick, state: S,
    parts: { filters: drawFilters, maps: drawMaps, predictions: drawPredictions, table: drawTable, explain: explain } };
})(window.MG);
