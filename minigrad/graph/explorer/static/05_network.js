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

  function channelMaps(layer, a, n, col) {
    var C = a.shape[1], H = a.shape[2], W = a.shape[3], per = C * H * W;
    var r = layerRange(a, n), diverging = r[0] < 0 && r[1] > 0;
    var size = C <= 3 ? 132 : C <= 8 ? 84 : C <= 16 ? 52 : 40;
    var grid = MG.h("div", { class: "mg-net-maps" + (C > 8 ? " mg-net-many" : "") });
    grid.style.gridTemplateColumns = "repeat(" + (C === 1 ? 1 : C <= 4 ? 2 : C <= 9 ? 3 : C <= 16 ? 4 : 5) + ", auto)";
    for (var c = 0; c < C; c++) {
      (function (c) {
        var cv = MG.heat.map2d(a.data, n * per + c * H * W, H, W, {
          size: size, cell: Math.max(3, Math.floor(size / Math.max(H, W))), range: r, diverging: diverging,
          label: layer.name, channel: C > 1 ? c : undefined,
          onCell: layer.main || layer.cells ? function (p) {
            MG.emit("netcell", { layer: layer, n: n, c: c, i: p.i, j: p.j });
          } : null
        });
        cv.setAttribute("data-layer", layer.name);
        cv.setAttribute("data-channel", c);
        grid.appendChild(MG.h("figure", { class: "mg-fig mg-net-fig" }, [cv,
          MG.h("figcaption", { text: C > 1 ? "ch " + c : H + "×" + W })]));
      })(c);
    }
    col.appendChild(grid);
    col.appendChild(colorBar(r, diverging));
  }

  function vector(layer, a, n, col) { // (N, F): bars for a few units, a strip for many
    var F = a.shape[1], start = n * F, r = layerRange(a, n), diverging = r[0] < 0 && r[1] > 0;
    if (layer.kind === "flatten" || F > 32) {
      var w = Math.min(F, 8), h = Math.ceil(F / w), vals = new Float64Array(h * w).fill(NaN);
      for (var k = 0; k < F; k++) vals[k] = a.data[start + k];
      var cv = MG.heat.map2d(vals, 0, h, w, { size: Math.min(110, h * 10), range: r, diverging: diverging, label: layer.name });
      cv.classList.add("mg-net-strip");
      cv.setAttribute("data-layer", layer.name);
      col.appendChild(MG.h("figure", { class: "mg-fig mg-net-fig" }, [cv,
        MG.h("figcaption", { text: F + " values, 8 a row" })]));
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
      list.appendChild(MG.h("div", { class: "mg-net-unit", "data-value": String(v) }, [
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

  function column(title, sub, kind) {
    return MG.h("section", { class: "mg-net-col mg-net-" + kind, "aria-label": title }, [
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

  var KIND = { conv: "convolution", pool: "pooling", activation: "activation", dense: "fully connected",
    flatten: "flatten", softmax: "softmax", loss: "loss", op: "op" };

  function draw(box) {
    var net = N(), t = G().tensors, n = MG.state.sample || 0;
    box.textContent = "";
    var row = MG.h("div", { class: "mg-net-row" });
    var xin = MG.arr(t[net.input.tensor].value);
    var colIn = column(net.input.name, "input · " + shapeText(net.input.shape), "input");
    if (xin && xin.shape.length === 4) channelMaps({ name: net.input.name, main: null }, xin, Math.min(n, xin.shape[0] - 1), colIn);
    row.appendChild(colIn);
    net.layers.forEach(function (layer) {
      var te = t[layer.tensor], sub = KIND[layer.kind] + " · " + shapeText(layer.shape);
      if (layer.ops.length > 1) sub += " · " + layer.ops.join(", ");
      var col = column(layer.name, sub, layer.kind);
      col.setAttribute("data-layer", layer.name);
      var a = te && !te.freed ? MG.arr(te.value) : null;
      if (!a) col.appendChild(MG.h("p", { class: "mg-hint", text: "values freed by backward()" }));
      else if (a.shape.length === 4) channelMaps(layer, a, Math.min(n, a.shape[0] - 1), col);
      else if (a.shape.length === 2 && layer.kind !== "loss") vector(layer, a, n, col);
      if (layer.kind === "loss") prediction(net.prediction, n, col, a && a.shape.length === 0 ? a.data[0] : null);
      else if (a && a.shape.length === 0) col.appendChild(MG.h("p", { class: "mg-net-loss" }, [MG.h("b", { text: MG.fmt(a.data[0], 6) })]));
      row.appendChild(col);
    });
    box.appendChild(row);
    applyMark();
  }

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
      var body = MG.h("div", { class: "mg-net", id: "mg-net", tabindex: "-1" });
      var conv = MG.h("div", { class: "mg-conv-slot", id: "mg-conv-slot" });
      var scroller = MG.h("div", { class: "mg-net-scroll" }, [body, conv]);
      el.appendChild(bar);
      el.appendChild(scroller);
      MG.views.network.body = body;
      MG.views.network.slot = conv;
      draw(body);
      if (G().quiz) MG.setQuiz(true);  // explore(..., quiz=True)
      MG.on("sample", function () { draw(body); });
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
