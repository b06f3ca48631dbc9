/* The network view, the page's first view: the learner's CNN as pictures, one column per
   layer from the input to the loss. Every channel of a feature map is a picture (a diverging
   blue-white-red scale with a colour bar where values are signed, light-to-dark blue where
   they are not), a flattened vector a strip, dense units bars, and with a loss the softmax
   probabilities with the class names, the predicted class and the true label. A click on a
   cell of a conv or pooling map opens the linked convolution view (45_conv_view.js) through
   MG.emit("netcell", {layer, n, c, i, j}); a cell of a batch_norm or dropout map is explained
   by 42_cells.js on the same event. Data: payload.graph.network (network.py), whose
   layers point at payload.graph.tensors and .calls by key. */
(function (MG) {
  "use strict";
  var G = function () { return MG.payload.graph; };
  var N = function () { return G().network; };

  function layerRange(a, n) { // [lo, hi] over sample n of an (N, ...) or unbatched array
    var per = a.shape.length ? a.data.length / (a.shape.length >= 2 ? a.shape[0] : 1) : 1;
    if (a.shape.length < 2) per = a.data.length;
    var start = a.shape.length >= 2 ? n * per : 0, lo = Infinity, hi = -Infinity;
    for (var k = start; k < start + per; k++) {
      var v = a.data[k];
      if (isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    return lo === Infinity ? [0, 0] : [lo, hi];
  }

  /* a colour bar for range r: the scale's colours from lo to hi with the two ends (and 0) */
  function colorBar(r, diverging) {
    var n = 48, vals = new Float64Array(n), lo = diverging ? -Math.max(Math.abs(r[0]), Math.abs(r[1])) : r[0];
    var hi = diverging ? -lo : r[1];
    for (var k = 0; k < n; k++) vals[k] = lo + (hi - lo) * k / (n - 1);
    var cv = MG.heat.map2d(vals, 0, 1, n, { size: 96, cell: 2, range: [lo, hi], diverging: diverging });
    cv.classList.add("mg-net-bar-cv");
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", "colour bar from " + MG.fmt(lo) + " to " + MG.fmt(hi));
    return MG.h("div", { class: "mg-net-cbar" }, [
      MG.h("span", { text: MG.fmt(lo, 3) }), cv, MG.h("span", { text: MG.fmt(hi, 3) })
    ]);
  }

  /* ---- fitting the row to the width --------------------------------------------------
     The first view holds the whole network, input to loss, inside the width it has: one
     tile size for every map (a layer with many channels gets a grid of more columns and
     fewer rows), from the largest down to the smallest still legible (a pixel a cell, at
     least 16 px), flattened vectors as thin strips, dense units as bars, and the
     probabilities column at its own width. Rows are kept within the height when they can
     be; a network that cannot fit even so scrolls sideways with the output column pinned
     at the right edge. Below 700 px the columns stack (each one the full width). */
  var TGAP = 4, MIN_COL = 30, TILE_MAX = 96;
  /* the sizes of a column's frame: gap between columns, padding and border, a title's letter
     (13 px bold, 12 px when compact), the probabilities column and a column of bars */
  var ROOMY = { gap: 4, pad: 10, letter: 7.6, out: 190, bars: 180 };
  var COMPACT = { gap: 3, pad: 8, letter: 7, out: 170, bars: 72 };

  function minTile(H, W) { return Math.max(16, Math.min(28, Math.max(H, W))); }

  /* what each column needs: {kind: "maps", C, H, W} | {kind: "strip", F} | {kind: "bars",
     F, named} | {kind: "out"} | {kind: "small"} */
  function needs(net) {
    var t = G().tensors, cols = [];
    function of(a, layer) {
      if (!a) return { kind: "small" };
      if (a.shape.length === 4) return { kind: "maps", C: a.shape[1], H: a.shape[2], W: a.shape[3] };
      if (a.shape.length === 2 && (!layer || layer.kind !== "loss")) {
        var F = a.shape[1];
        return layer && layer.kind !== "flatten" && F <= 32 ? { kind: "bars", F: F } : { kind: "strip", F: F };
      }
      return { kind: layer && layer.kind === "loss" && net.prediction ? "out" : "small" };
    }
    cols.push(of(MG.arr(t[net.input.tensor].value), null));
    net.layers.forEach(function (layer) {
      var te = t[layer.tensor];
      cols.push(of(te && !te.freed ? MG.arr(te.value) : { shape: layer.shape }, layer));
      if (layer.kind === "loss") cols[cols.length - 1].kind = net.prediction ? "out" : "small";
    });
    [net.input.name].concat(net.layers.map(function (l) { return l.name; })).forEach(function (name, k) {
      cols[k].letters = String(name).length;  // a column is at least as wide as its title
    });
    return cols;
  }

  function rowOf(F, target) { // a row length near target that divides F (no empty cells)
    for (var d = 0; d <= target / 2; d++) {
      if (F % (target - d) === 0) return target - d;
      if (F % (target + d) === 0) return target + d;
    }
    return target;
  }
  function stripShape(F, maxH, cell) { // columns and rows of a strip: about 8 a row, wider when tall
    var t = Math.min(F, 8);
    while (Math.ceil(F / t) * cell > maxH && t < 64 && t < F) t *= 2;
    var w = Math.min(F, rowOf(F, t));
    return [w, Math.ceil(F / w)];
  }

  /* the grid of one maps column for tile size s and a height budget: {g, rows, tile, width} */
  function least(col, m) { return Math.max(MIN_COL, Math.ceil((col.letters || 0) * m.letter)); }

  function mapsGrid(col, s, hAvail, m) {
    var tile = col.C === 1 ? Math.min(2 * s, TILE_MAX + 32) : s, cap = tile >= 36 ? 14 : 0;
    var rowsMax = Math.max(1, Math.floor((hAvail + TGAP) / (tile + TGAP + cap)));
    var g = Math.min(col.C, Math.ceil(col.C / rowsMax));
    var inner = g * tile + (g - 1) * TGAP;
    return { g: g, rows: Math.ceil(col.C / g), tile: tile, cap: cap > 0, width: Math.max(least(col, m), inner) + m.pad };
  }

  function fixedWidth(col, compact, hAvail) {
    var m = compact ? COMPACT : ROOMY, lo = least(col, m), cell = compact ? 3 : 4;
    if (col.kind === "strip") return Math.max(lo, stripShape(col.F, hAvail, cell)[0] * cell) + m.pad;
    if (col.kind === "bars") return Math.max(lo, m.bars) + m.pad;
    if (col.kind === "out") return Math.max(lo, m.out) + m.pad;
    return Math.max(lo, 90) + m.pad;
  }

  /* the plan for a row `avail` px wide and `hAvail` px high: per column its width and, for
     maps, its grid; fit false when even the smallest tiles need more than the width */
  function plan(cols, avail, hAvail) {
    var tries = [[hAvail, false], [hAvail, true], [hAvail * 1.6, true], [hAvail * 2.5, true], [hAvail * 4, true], [1e6, true]];
    for (var t = 0; t < tries.length; t++) {
      var h = tries[t][0], compact = tries[t][1], m = compact ? COMPACT : ROOMY, fixed = m.gap * (cols.length - 1), sLo = 0;
      cols.forEach(function (c) {
        if (c.kind !== "maps") fixed += fixedWidth(c, compact, hAvail);
        else sLo = Math.max(sLo, c.C === 1 ? 8 : minTile(c.H, c.W));
      });
      for (var s = TILE_MAX; s >= sLo; s -= 2) {
        var total = fixed, grids = [];
        for (var k = 0; k < cols.length; k++) {
          if (cols[k].kind !== "maps") { grids.push(null); continue; }
          var gr = mapsGrid(cols[k], Math.max(s, cols[k].C === 1 ? 0 : minTile(cols[k].H, cols[k].W)), h, m);
          grids.push(gr);
          total += gr.width;
        }
        if (total <= avail) return { fit: true, compact: compact, grids: grids, tile: s, width: total };
      }
    }
    // scrolling anyway: tiles of a comfortable size
    var last = cols.map(function (c) { return c.kind === "maps" ? mapsGrid(c, Math.max(28, minTile(c.H, c.W)), hAvail, COMPACT) : null; });
    return { fit: false, compact: true, grids: last, tile: null, width: null };
  }

  function channelMaps(layer, a, n, col, grid) {
    var C = a.shape[1], H = a.shape[2], W = a.shape[3], per = C * H * W;
    var r = layerRange(a, n), diverging = r[0] < 0 && r[1] > 0, legacy = !grid;
    var size = legacy ? (C <= 3 ? 132 : C <= 8 ? 84 : C <= 16 ? 52 : 40) : grid.tile;
    var maps = MG.h("div", { class: "mg-net-maps" + (legacy && C > 8 ? " mg-net-many" : "") + (grid && !grid.cap ? " mg-net-dense" : "") });
    maps.style.gridTemplateColumns = legacy
      ? "repeat(" + (C === 1 ? 1 : C <= 4 ? 2 : C <= 9 ? 3 : C <= 16 ? 4 : 5) + ", auto)"
      : "repeat(" + grid.g + ", " + size + "px)";
    var side = Math.max(H, W);
    for (var c = 0; c < C; c++) {
      (function (c) {
        var cv = MG.heat.map2d(a.data, n * per + c * H * W, H, W, {
          size: size, cell: Math.max(3, Math.floor(size / side)), range: r, diverging: diverging,
          label: layer.name, channel: C > 1 ? c : undefined,
          onCell: layer.main || layer.cells ? function (p) {
            MG.emit("netcell", { layer: layer, n: n, c: c, i: p.i, j: p.j });
          } : null
        });
        if (!legacy) {  // the canvas keeps whole cells; the page scales it to the tile
          cv.style.width = (size * W / side) + "px";
          cv.style.height = (size * H / side) + "px";
        }
        cv.setAttribute("data-layer", layer.name);
        cv.setAttribute("data-channel", c);
        cv.title = layer.name + (C > 1 ? " channel " + c : "") + " (" + H + "×" + W + ")";
        var cap = legacy || grid.cap ? MG.h("figcaption", { text: C > 1 ? "ch " + c : H + "×" + W }) : null;
        maps.appendChild(MG.h("figure", { class: "mg-fig mg-net-fig" }, [cv, cap]));
      })(c);
    }
    col.appendChild(maps);
    col.appendChild(colorBar(r, diverging));
  }

  function vector(layer, a, n, col, fit) { // (N, F): bars for a few units, a strip for many
    var F = a.shape[1], start = n * F, r = layerRange(a, n), diverging = r[0] < 0 && r[1] > 0;
    if (layer.kind === "flatten" || F > 32) {
      var cell = fit ? (fit.compact ? 3 : 4) : 10, shape = fit ? stripShape(F, fit.hAvail, cell) : [Math.min(F, 8), Math.ceil(F / Math.min(F, 8))];
      var w = shape[0], h = shape[1], vals = new Float64Array(h * w).fill(NaN);
      for (var k = 0; k < F; k++) vals[k] = a.data[start + k];
      var cv = MG.heat.map2d(vals, 0, h, w, { size: fit ? Math.max(h, w) * 3 : Math.min(110, h * 10), cell: 3, range: r, diverging: diverging, label: layer.name });
      if (fit) { cv.style.width = (w * cell) + "px"; cv.style.height = (h * cell) + "px"; }
      cv.classList.add("mg-net-strip");
      cv.setAttribute("data-layer", layer.name);
      cv.title = layer.name + ": " + F + " values, " + w + " a row";
      col.appendChild(MG.h("figure", { class: "mg-fig mg-net-fig" }, [cv,
        MG.h("figcaption", { text: F + " values" + (fit ? "" : ", " + w + " a row") })]));
      col.appendChild(colorBar(r, diverging));
      return;
    }
    // the scores just before the loss, one per class: named by the classes
    var pred = N().prediction, last = N().layers[N().layers.length - 2];
    var names = pred && last === layer && F === pred.classes.length ? pred.classes : null;
    var m = Math.max(Math.abs(r[0]), Math.abs(r[1])) || 1, list = MG.h("div", { class: "mg-net-units", "data-layer": layer.name });
    for (var u = 0; u < F; u++) {
      var v = a.data[start + u], pct = Math.min(50, Math.abs(v) / m * 50);
      var bar = MG.h("span", { class: "mg-net-ubar " + (v < 0 ? "mg-neg" : "mg-pos") });
      bar.style.width = pct + "%";
      bar.style.left = v < 0 ? (50 - pct) + "%" : "50%";
      list.appendChild(MG.h("div", { class: "mg-net-unit", "data-value": String(v), title: (names ? names[u] : "unit " + u) + ": " + MG.fmt(v, 6) }, [
        MG.h("span", { class: "mg-net-uname", text: names ? names[u] : String(u) }),
        MG.h("span", { class: "mg-net-utrack" }, [bar]),
        MG.h("span", { class: "mg-net-uval", text: MG.fmt(v, 3) })
      ]));
    }
    col.appendChild(list);
  }

  function prediction(pred, n, col, loss) {
    if (!pred || n >= pred.predicted.length) return;
    var p = MG.arr(pred.probs), C = p.shape[1], list = MG.h("div", { class: "mg-net-probs" });
    for (var k = 0; k < C; k++) {
      var v = p.data[n * C + k], cls = "mg-net-prob" + (k === pred.predicted[n] ? " mg-pred" : "") + (k === pred.label[n] ? " mg-true" : "");
      var bar = MG.h("span", { class: "mg-net-pbar" });
      bar.style.width = Math.max(0, Math.min(100, v * 100)) + "%";
      list.appendChild(MG.h("div", { class: cls, "data-class": pred.classes[k], "data-p": String(v) }, [
        MG.h("span", { class: "mg-net-pname", text: pred.classes[k] }),
        MG.h("span", { class: "mg-net-ptrack" }, [bar]),
        MG.h("span", { class: "mg-net-pval", text: MG.fmt(v, 4) })
      ]));
    }
    col.appendChild(MG.h("div", { class: "mg-cap", text: "probabilities (" + pred.how + ")" }));
    col.appendChild(list);
    var ok = pred.predicted[n] === pred.label[n];
    col.appendChild(MG.h("p", { class: "mg-net-verdict " + (ok ? "mg-ok" : "mg-wrong") }, [
      "predicted ", MG.h("b", { class: "mg-net-predicted", text: pred.classes[pred.predicted[n]] }),
      ", true label ", MG.h("b", { class: "mg-net-label", text: pred.classes[pred.label[n]] }),
      ok ? " ✓" : " ✗"
    ]));
    col.appendChild(MG.h("p", { class: "mg-net-loss" }, [
      "this sample's loss −log p(" + pred.classes[pred.label[n]] + ") = ",
      MG.h("b", { text: MG.fmt(pred.sample_loss[n], 4) })
    ]));
    if (loss !== null) col.appendChild(MG.h("p", { class: "mg-net-loss" }, ["batch loss = ", MG.h("b", { class: "mg-net-batchloss", text: MG.fmt(loss, 6) })]));
  }

  function column(title, sub, kind, more) {
    return MG.h("section", { class: "mg-net-col mg-net-" + kind, "aria-label": title, title: more || null }, [
      MG.h("h3", { class: "mg-net-name", text: title }),
      MG.h("div", { class: "mg-net-sub", text: sub })
    ]);
  }

  function shapeText(shape) {
    if (shape.length === 4) return shape[1] + (shape[1] === 1 ? " map " : " maps ") + shape[2] + "×" + shape[3];
    if (shape.length === 2) return shape[1] + " units";
    if (shape.length === 0) return "one number";
    return "shape (" + shape.join(", ") + ")";
  }

  /* channels × height × width, free to wrap after the channels: "16×" then "8×8" */
  function dims(shape) {
    var rest = shape.slice(1);
    return rest.length === 3 ? rest[0] + "×\u200b" + rest[1] + "×" + rest[2] : rest.join("×");
  }

  var KIND = { conv: "convolution", pool: "pooling", activation: "activation", dense: "fully connected",
    flatten: "flatten", softmax: "softmax", loss: "loss", op: "op" };
  var SHORT = { conv: "conv", pool: "pool", activation: "activation", dense: "dense",
    flatten: "flatten", softmax: "softmax", loss: "loss", op: "op" };

  var FRAME_HEIGHT = 760;  // a notebook output's frame before the page tells its height
  /* the room the row has: its width, and the height left for the pictures under the titles */
  function room(box) {
    var scroller = box.parentNode, w = box.clientWidth || (scroller && scroller.clientWidth) || window.innerWidth;
    // in a notebook's frame the frame takes the row's height (tellFrameHeight): the plan uses
    // the frame's first height, so a new height cannot change the plan and the height again
    var h = window.parent !== window ? FRAME_HEIGHT - 120 :
      scroller && scroller.clientHeight ? scroller.clientHeight : window.innerHeight - 120;
    return { width: w - 16, height: Math.max(160, h - 16 - 44 - 30) };
  }

  function stacked() { return window.matchMedia("(max-width: 700px)").matches; }

  var fitted = null;  // the plan the row was drawn with, and the room it had
  function draw(box) {
    var net = N(), t = G().tensors, n = MG.state.sample || 0;
    box.textContent = "";
    var cols = needs(net), space = room(box), legacy = stacked();
    var p = legacy ? null : plan(cols, space.width, space.height);
    fitted = { plan: p, width: space.width, height: space.height, stacked: legacy };
    var fit = p ? { compact: p.compact, hAvail: space.height } : null;
    var row = MG.h("div", { class: "mg-net-row" + (p ? " mg-net-fit" : "") + (p && p.compact ? " mg-net-compact" : "") + (p && !p.fit ? " mg-net-over" : "") });
    var xin = MG.arr(t[net.input.tensor].value), k = 0;
    function sized(col, kk) {  // the plan's width for column kk
      if (!p) return col;
      var gr = p.grids[kk];
      col.style.width = (gr ? gr.width : fixedWidth(cols[kk], p.compact, space.height)) + "px";
      return col;
    }
    var colIn = column(net.input.name, p ? "input · " + dims(net.input.shape) : "input · " + shapeText(net.input.shape), "input",
      "input · " + shapeText(net.input.shape));
    if (xin && xin.shape.length === 4) channelMaps({ name: net.input.name, main: null }, xin, Math.min(n, xin.shape[0] - 1), colIn, p ? p.grids[0] : null);
    row.appendChild(sized(colIn, 0));
    net.layers.forEach(function (layer) {
      k += 1;
      var te = t[layer.tensor], full = KIND[layer.kind] + " · " + shapeText(layer.shape);
      if (layer.ops.length > 1) full += " · " + layer.ops.join(", ");
      var what = layer.kind === "activation" || layer.kind === "op" ? layer.ops[layer.ops.length - 1] : SHORT[layer.kind];
      var sub = p ? what + " · " + (layer.shape.length > 1 ? dims(layer.shape) : shapeText(layer.shape)) : full;
      var col = column(layer.name, sub, layer.kind, full);
      col.setAttribute("data-layer", layer.name);
      var a = te && !te.freed ? MG.arr(te.value) : null;
      if (!a) col.appendChild(MG.h("p", { class: "mg-hint", text: "freed", title: "values freed by backward()" }));
      else if (a.shape.length === 4) channelMaps(layer, a, Math.min(n, a.shape[0] - 1), col, p ? p.grids[k] : null);
      else if (a.shape.length === 2 && layer.kind !== "loss") vector(layer, a, n, col, fit);
      if (layer.kind === "loss" && net.prediction) prediction(net.prediction, n, col, a && a.shape.length === 0 ? a.data[0] : null);
      else if (a && a.shape.length === 0) col.appendChild(MG.h("p", { class: "mg-net-loss" }, [MG.h("b", { text: MG.fmt(a.data[0], 6) })]));
      if (k === net.layers.length) col.classList.add("mg-net-last");  // pinned when the row scrolls
      row.appendChild(sized(col, k));
    });
    box.appendChild(row);
    applyMark();
    tellFrameHeight(box);  // after every drawing: a resize or a new sample can change it
  }

  /* a new size: draw again when the room changed enough to change the plan */
  var pending = 0;
  function refit() {
    pending = 0;
    var body = MG.views.network.body;
    if (!body || !fitted || MG.state.view !== "network") return;
    var space = room(body), legacy = stacked();
    if (legacy === fitted.stacked && (legacy || (Math.abs(space.width - fitted.width) < 2 && Math.abs(space.height - fitted.height) < 24))) return;
    draw(body);
  }
  function onResize() { if (!pending) pending = window.requestAnimationFrame(refit); }

  /* the cell whose arithmetic is open stays outlined on its map (MG.netMark(name, n, c, i,
     j) from the convolution view and the batch_norm/dropout cells; MG.netMark(null) clears) */
  var mark = null;
  function applyMark() {
    var body = MG.views.network.body;
    if (!body) return;
    Array.prototype.forEach.call(body.querySelectorAll("canvas[data-marked]"), function (cv) {
      MG.heat.outline(cv, []);
      cv.removeAttribute("data-marked");
    });
    if (!mark || mark.n !== (MG.state.sample || 0)) return;
    var cv = Array.prototype.filter.call(body.querySelectorAll(".mg-net-maps canvas"), function (e) {
      return e.getAttribute("data-layer") === mark.name && e.getAttribute("data-channel") === String(mark.c);
    })[0];
    if (!cv) return;
    MG.heat.outline(cv, [{ i: mark.i, j: mark.j, color: "#d6336c", width: 2 }]);
    cv.setAttribute("data-marked", mark.i + "," + mark.j);
  }
  MG.netMark = function (name, n, c, i, j) {
    mark = name === null || name === undefined ? null : { name: name, n: n, c: c, i: i, j: j };
    applyMark();
  };
  MG.on("clear", function () { MG.netMark(null); });

  /* in a notebook's frame: say once how tall the first view is (the page's top to the row's
     bottom); the output's listener (page.py inline_html) sizes the frame to it where the
     output runs scripts. Nothing is fetched: a message to the parent window only. */
  function tellFrameHeight(body) {
    if (window.parent === window || MG.state.view !== "network") return;
    var row = body.querySelector(".mg-net-row");
    if (!row) return;
    var h = Math.ceil(row.getBoundingClientRect().bottom + (window.scrollY || 0) + 16);
    try { window.parent.postMessage({ minigrad: "page-height", height: h }, "*"); } catch (e) { /* no parent to tell */ }
  }

  MG.netFit = function () { return fitted; };  // the plan of the row shown (tests read it)

  MG.views.network = {
    title: "Network",
    order: 5,
    available: function (payload) { return !!(payload.graph && payload.graph.network); },
    keys: function () { return N().samples > 1 ? ["[ ] sample"] : []; },
    mount: function (el) {
      var net = N(), bar = MG.h("div", { class: "mg-toolbar-row mg-net-tools" });
      bar.appendChild(MG.h("span", { class: "mg-hint", text: "Click a cell of a conv, pooling, batch_norm or dropout map to see how it was computed." }));
      if (net.samples > 1) {
        var pick = MG.h("label", { class: "mg-net-pick" }, ["sample "]);
        var sel = MG.h("select", { id: "mg-net-sample", "aria-label": "sample of the batch",
          onchange: function () { MG.state.sample = +sel.value; MG.emit("sample", { index: +sel.value }); } });
        for (var k = 0; k < net.samples; k++) sel.appendChild(MG.h("option", { value: String(k), text: "#" + k + " (of " + net.batch + ")" }));
        pick.appendChild(sel);
        bar.appendChild(pick);
        MG.on("sample", function (d) { sel.value = String(d.index); });
      }
      var quiz = MG.h("input", { type: "checkbox", id: "mg-quiz-toggle",
        onchange: function () { MG.setQuiz(quiz.checked); } });
      bar.appendChild(MG.h("label", { class: "mg-net-quiz", title: "hide a cell's value until you have typed a guess" },
        [quiz, " predict first"]));
      if (net.freed)  // backward() freed the layers' outputs: say how to keep them
        el.appendChild(MG.h("p", { class: "mg-net-freed", role: "note", id: "mg-net-freed",
          text: "backward() freed this step's intermediate values, so the maps and the probabilities cannot be shown. " +
            "Call mg.graph.explore(loss) before loss.backward(), or use loss.backward(retain_graph=True)." }));
      var body = MG.h("div", { class: "mg-net", id: "mg-net", tabindex: "-1" });
      var conv = MG.h("div", { class: "mg-conv-slot", id: "mg-conv-slot" });
      var scroller = MG.h("div", { class: "mg-net-scroll" }, [body, conv]);
      el.appendChild(bar);
      el.appendChild(scroller);
      MG.views.network.body = body;
      MG.views.network.slot = conv;
      document.body.classList.toggle("mg-wide", MG.state.view === "network");  // before the fit
      draw(body);
      if (G().quiz) MG.setQuiz(true);  // explore(..., quiz=True)
      MG.on("sample", function () { draw(body); });
      window.addEventListener("resize", onResize);
      MG.on("view", function (d) { if (d.name === "network") onResize(); });
      // the details panel serves the graph views: the network view takes the whole width
      MG.on("view", function (d) { document.body.classList.toggle("mg-wide", d.name === "network"); });
      document.body.classList.toggle("mg-wide", MG.state.view === "network");
    },
    key: function (ev) {
      var net = N();
      if ((ev.key === "[" || ev.key === "]") && net.samples > 1) {
        var n = ((MG.state.sample || 0) + (ev.key === "]" ? 1 : net.samples - 1)) % net.samples;
        MG.state.sample = n;
        MG.emit("sample", { index: n });
        return true;
      }
      return false;
    }
  };
})(window.MG);
