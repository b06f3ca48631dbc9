/* Window explainer: click an output cell of conv2d or a pooling op and see its input window
   (padding shown as padding, clipped partial windows, the max winner) and the arithmetic
   with the engine's numbers. In the backward view, click a gradient cell: the terms that
   sum to it (conv input and weight gradients, which outputs a max-pool input's gradient
   came from, the k contributions of a tensor used k times). Geometry comes resolved from
   Python (windows.py); values are the engine's arrays embedded in the page. */
(function (MG) {
  "use strict";
  var G = function () { return MG.payload.graph; };

  function exact(enc) { // usable for arithmetic: nothing but the batch axis was cut
    if (!enc) return null;
    var a = MG.arr(enc);
    if (!a.index) return a;
    for (var k = 1; k < a.index.length; k++) if (a.index[k].length !== a.shape[k] || a.index[k][0] !== 0 ||
      (a.index[k].length > 1 && a.index[k][1] !== 1)) return null;
    return a;
  }
  function at(a, idx) { // idx over a's (possibly sample-cut) shape
    var f = 0;
    for (var k = 0; k < idx.length; k++) f = f * a.shape[k] + idx[k];
    return a.data[f];
  }
  function sampleId(a, n) { return a.index ? a.index[0][n] : n; }

  /* cells of output (i, j): [{p, q, r, c, code}] code 0 input, 1 padding, 2 past it */
  function cells(w, i, j) {
    var out = [], H = w.in_hw[0], W = w.in_hw[1];
    for (var p = 0; p < w.kernel[0]; p++) for (var q = 0; q < w.kernel[1]; q++) {
      var r = i * w.stride[0] - w.pad[0] + p * w.dilation[0], c = j * w.stride[1] - w.pad[2] + q * w.dilation[1];
      var inside = r >= 0 && r < H && c >= 0 && c < W;
      var padded = r >= -w.pad[0] && r < H + w.pad[1] && c >= -w.pad[2] && c < W + w.pad[3];
      out.push({ p: p, q: q, r: r, c: c, code: inside ? 0 : padded ? 1 : 2 });
    }
    return out;
  }
  MG.windowCells = cells;

  /* The forward arithmetic of output cell (n, o, i, j) of call `c`; n indexes the embedded
     samples. Returns {terms, text, value, engine, winner, divisor, bias, used: [{ch, cells}]} */
  function forward(c, n, o, i, j) {
    var w = c.window, t = G().tensors, x = exact(t[c.inputs[0].tensor].value);
    var y = exact(t[c.output].value);
    if (!x || !y) return { error: "values were subsampled or freed: no arithmetic for this op" };
    var glob = w.kind.indexOf("global") === 0, res = { terms: [], parts: [], used: [] };
    res.engine = glob ? at(y, [n, o]) : at(y, [n, o, i, j]);
    if (w.kind === "conv") {
      var k = MG.arr(t[c.inputs[1].tensor].value), b = c.inputs[2] && t[c.inputs[2].tensor];
      var cg = k.shape[1], first = Math.floor(o / (k.shape[0] / (x.shape[1] / cg))) * cg;
      for (var ch = first; ch < first + cg; ch++) {
        var cl = cells(w, i, j);
        cl.forEach(function (e) {
          e.v = e.code === 0 ? at(x, [n, ch, e.r, e.c]) : 0;
          e.k = at(k, [o, ch - first, e.p, e.q]);
          if (e.code === 0) {
            res.terms.push(e.v * e.k);
            res.parts.push(MG.term(e.v, 6) + "*" + MG.term(e.k, 6));
          }
        });
        res.used.push({ ch: ch, cells: cl });
      }
      res.bias = b ? MG.arr(b.value).data[o] : null;
      var groups = (c.attrs && c.attrs.groups) || 1;
      if (groups > 1) {  // the filter reads only its group's input channels
        res.group = { g: Math.floor(o / (k.shape[0] / groups)), of: groups, first: first, last: first + cg - 1 };
        res.groupText = "filter " + o + " (group " + res.group.g + " of " + groups + ") sees input channels " +
          first + ".." + res.group.last;
      }
    } else {
      var cl2 = glob ? null : cells(w, i, j), vals = [];
      if (glob) {
        cl2 = [];
        for (var r = 0; r < w.in_hw[0]; r++) for (var q = 0; q < w.in_hw[1]; q++) cl2.push({ p: r, q: q, r: r, c: q, code: 0 });
      }
      cl2.forEach(function (e) { e.v = e.code === 0 ? at(x, [n, o, e.r, e.c]) : (w.kind === "max" ? -Infinity : 0); if (e.code === 0) vals.push(e); });
      res.used.push({ ch: o, cells: cl2 });
      if (w.kind.slice(-3) === "max") {
        var best = null;
        vals.forEach(function (e) { if (best === null || (isNaN(e.v) && !isNaN(best.v)) || (!isNaN(best.v) && e.v > best.v)) best = e; });
        best.winner = true;
        res.winner = [sampleId(x, n), o, best.r, best.c];
        res.terms = [best.v];
        res.text = "max of " + vals.length + " values = " + MG.fmt(best.v, 6) + " (winner at row " + best.r + ", col " + best.c + ")";
      } else {
        var d = w.kind.slice(-3) === "avg" ? (glob ? vals.length : cl2.filter(function (e) {
          return e.code === 0 || (e.code === 1 && w.count_include_pad);
        }).length) : 1;
        res.divisor = w.kind.slice(-3) === "avg" ? d : null;
        res.terms = vals.map(function (e) { return e.v / d; });
        res.parts = vals.map(function (e) { return MG.term(e.v, 6); });
      }
    }
    var sum = res.terms.reduce(function (a, v) { return a + v; }, 0) + (res.bias || 0);
    var scale = res.terms.reduce(function (a, v) { return a + Math.abs(v); }, 0) + Math.abs(res.bias || 0);
    res.value = MG.snap(sum, scale);  // float noise around 0 is 0
    res.scale = scale;
    if (!res.text) {
      if (res.divisor) {
        var whole = MG.sumText(res.parts, 0, {});
        res.text = "(" + whole.slice(0, whole.lastIndexOf(" = ")) + ") / " + res.divisor + " = " + MG.fmt(res.value, 6);
      } else {
        res.text = MG.sumText(res.parts, sum, { bias: res.bias, scale: scale });
      }
      if (res.groupText) res.text = res.groupText + ": " + res.text;
    }
    return res;
  }
  MG.explainCell = forward;
  MG.gradCell = function () { return gradCell.apply(null, arguments); };  // the conv view's backward
  MG.exactArr = exact;  // an embedded array usable for arithmetic, or null
  MG.arrAt = at;

  function windowTable(cl, kind) {
    var kh = 0, kw = 0;
    cl.forEach(function (e) { kh = Math.max(kh, e.p + 1); kw = Math.max(kw, e.q + 1); });
    if (kh * kw > 144) return MG.h("p", { class: "mg-hint", text: "window of " + kh + "×" + kw + " cells" });
    var tb = MG.h("table", { class: "mg-win" });
    for (var p = 0; p < kh; p++) {
      var tr = MG.h("tr");
      for (var q = 0; q < kw; q++) {
        var e = cl[p * kw + q];
        var txt = e.code === 0 ? MG.fmt(e.v, 4) : e.code === 1 ? "pad" : "–";
        if (e.k !== undefined) txt += " ×" + MG.term(e.k, 3);
        tr.appendChild(MG.h("td", { class: "mg-c" + e.code + (e.winner ? " mg-winner" : ""), text: txt,
          title: e.code === 0 ? "input row " + e.r + ", col " + e.c : e.code === 1 ? "padding" : "past the padding (partial window)" }));
      }
      tb.appendChild(tr);
    }
    return tb;
  }

  function show(box, c, n, o, i, j, inputPics) {
    var res = forward(c, n, o, i, j);
    box.innerHTML = "";
    var glob = c.window.kind.indexOf("global") === 0;
    box.appendChild(MG.h("h4", { text: "output cell " + (glob ? "[" + o + "]" : "[ch " + o + ", row " + i + ", col " + j + "]") }));
    if (res.error) { box.appendChild(MG.h("p", { text: res.error })); return; }
    if (res.group) box.appendChild(MG.h("p", { class: "mg-group", text: res.groupText + " (only they are multiplied)" }));
    var x = exact(G().tensors[c.inputs[0].tensor].value);
    ((inputPics && inputPics.canvases) || []).forEach(function (cv) { MG.heat.outline(cv, []); });
    res.used.slice(0, 6).forEach(function (u) {
      var row = MG.h("div", { class: "mg-side" });
      // the input channel with the window outlined, next to the window's numbers
      var H = x.shape[2], W = x.shape[3], base = (n * x.shape[1] + u.ch) * H * W;
      var cv = MG.heat.map2d(x.data, base, H, W, { size: 110 });
      var inside = u.cells.filter(function (e) { return e.code === 0; }).map(function (e) {
        return { i: e.r, j: e.c, color: e.winner ? "#e03131" : "#f08c00", width: e.winner ? 3 : 2 };
      });
      MG.heat.outline(cv, inside);
      row.appendChild(MG.h("div", {}, [MG.h("div", { class: "mg-cap", text: "input channel " + u.ch }), cv]));
      row.appendChild(MG.h("div", {}, [MG.h("div", { class: "mg-cap", text: "window (× weight)" }), windowTable(u.cells)]));
      box.appendChild(row);
      var big = inputPics && inputPics.canvases[u.ch];
      if (big) MG.heat.outline(big, inside);
    });
    if (res.used.length > 6) box.appendChild(MG.h("p", { class: "mg-hint", text: "+" + (res.used.length - 6) + " more input channels in the sum" }));
    box.appendChild(MG.h("pre", { class: "mg-arith", text: res.text }));
    box.appendChild(MG.h("p", { class: "mg-engine", text: "engine's value: " + MG.fmt(MG.snap(res.engine, res.scale), 8) +
      (res.divisor ? " · divisor " + res.divisor : "") }));
  }

  /* gradient cell of a tensor with k contributions */
  function contributions(box, t, n, idx) {
    var parts = [], sum = 0, sizes = [];
    t.contributions.forEach(function (cb) {
      var a = MG.arr(cb.grad), v = at(a, a.shape.length === 4 ? [n].concat(idx) : idx);
      sum += v;
      sizes.push(v);
      parts.push(MG.term(v, 6) + " (" + cb.from + ")");
    });
    box.innerHTML = "";
    box.appendChild(MG.h("h4", { text: "gradient cell: " + t.contributions.length + " contributions" }));
    box.appendChild(MG.h("pre", { class: "mg-arith", text: MG.sumText(parts, sum, { sizes: sizes, sep: "\n+ ", limit: 1e9 }) }));
  }

  /* the gradient call c sent to its input pos: its own contribution when the input was used
     several times, else the input's whole gradient; with a word saying which */
  function share(c, pos) {
    var t = G().tensors[c.inputs[pos].tensor];
    var mine = (t.contributions || []).filter(function (cb) { return cb.call === c.key && cb.input === pos; })[0];
    if (mine) return { enc: mine.grad, what: "this call's contribution (the input is used " + t.contributions.length + " times)" };
    return { enc: t.grad, what: "engine's gradient" };
  }

  /* gradient of an input of a max/avg/sum pool or conv2d, at (n, ch, h, w) */
  function gradCell(box, c, pos, n, ch, h, wc) {
    var w = c.window, t = G().tensors, dy = exact(t[c.output].grad), parts = [], sum = 0, sizes = [];
    box.innerHTML = "";
    if (!dy) { box.appendChild(MG.h("p", { text: "the output gradient was subsampled: no arithmetic" })); return null; }
    var O = dy.shape[1], OH = w.out_hw[0], OW = w.out_hw[1];
    if (w.kind === "conv" && pos === 1) {
      var x = exact(t[c.inputs[0].tensor].value), o = ch, cc = h, p = wc[0], q = wc[1];
      for (var s = 0; s < dy.shape[0]; s++) for (var i = 0; i < OH; i++) for (var j = 0; j < OW; j++) {
        var e = cells(w, i, j)[p * w.kernel[1] + q];
        if (e.code !== 0) continue;
        var v = at(dy, [s, o, i, j]) * at(x, [s, cc, e.r, e.c]);
        sum += v;
        sizes.push(v);
        parts.push(MG.term(at(dy, [s, o, i, j]), 4) + "*" + MG.term(at(x, [s, cc, e.r, e.c]), 4));
      }
      var sh = share(c, 1), total = at(MG.arr(sh.enc), [o, cc, p, q]);
      var N = t[c.inputs[0].tensor].shape[0];
      // the largest terms first, then how many more: zeros no longer hide the ones that count
      var scale = sizes.reduce(function (acc, v) { return acc + Math.abs(v); }, 0);
      var more = dy.shape[0] < N;  // the other samples' share comes from the engine's total
      box.appendChild(MG.h("h4", { text: "weight gradient [" + [o, cc, p, q].join(", ") + "]: dy × input over samples and positions" }));
      box.appendChild(MG.h("pre", { class: "mg-arith", text: MG.sumText(parts, sum, { sizes: sizes, limit: 8, scale: more ? undefined : scale }) +
        (more ? "  (the " + dy.shape[0] + " samples shown)\n+ " + MG.term(total - sum, 6) +
        "  (the other " + (N - dy.shape[0]) + " samples)" : "") + "\n= " + MG.fmt(more ? total : MG.snap(total, scale), 6) + "  (" + sh.what + ")" }));
      return { engine: total, sum: sum, index: [o, cc, p, q], tensor: c.inputs[1].tensor, pos: 1 };
    }
    for (var o2 = 0; o2 < (w.kind === "conv" ? O : 1); o2++) for (var i2 = 0; i2 < OH; i2++) for (var j2 = 0; j2 < OW; j2++) {
      cells(w, i2, j2).forEach(function (e) {
        if (e.code !== 0 || e.r !== h || e.c !== wc) return;
        if (w.kind === "conv") {
          var k = MG.arr(t[c.inputs[1].tensor].value), kv = at(k, [o2, ch, e.p, e.q]), g = at(dy, [n, o2, i2, j2]);
          sum += g * kv;
          sizes.push(g * kv);
          parts.push(MG.term(g, 4) + "*" + MG.term(kv, 4));
        } else if (w.kind === "max") {
          var r = forward(c, n, ch, i2, j2);
          if (r.winner && r.winner[2] === h && r.winner[3] === wc) {
            sum += at(dy, [n, ch, i2, j2]);
            sizes.push(at(dy, [n, ch, i2, j2]));
            parts.push(MG.term(at(dy, [n, ch, i2, j2]), 6) + " (from output [" + i2 + ", " + j2 + "], where it won)");
          }
        } else {
          var d = w.kind === "avg" ? forward(c, n, ch, i2, j2).divisor : 1;
          sum += at(dy, [n, ch, i2, j2]) / d;
          sizes.push(at(dy, [n, ch, i2, j2]) / d);
          parts.push(MG.term(at(dy, [n, ch, i2, j2]), 6) + (d !== 1 ? "/" + d : "") + " (output [" + i2 + ", " + j2 + "])");
        }
      });
    }
    box.appendChild(MG.h("h4", { text: "input gradient [ch " + ch + ", row " + h + ", col " + wc + "]" }));
    var conv = w.kind === "conv";  // many dy*kernel terms: one line, the largest first
    box.appendChild(MG.h("pre", { class: "mg-arith", text: parts.length ?
      MG.sumText(parts, sum, { sizes: sizes, limit: 8, sep: conv ? " + " : "\n+ " }) :
      "no output used this cell" + (w.kind === "max" ? " as its maximum" : "") + ": gradient 0" }));
    var gx = share(c, 0), ga = gx.enc && exact(gx.enc);
    var scale = sizes.reduce(function (acc, v) { return acc + Math.abs(v); }, 0);
    if (ga) box.appendChild(MG.h("p", { class: "mg-engine", text: gx.what + ": " + MG.fmt(MG.snap(at(ga, [n, ch, h, wc]), scale), 8) }));
    return { engine: ga ? at(ga, [n, ch, h, wc]) : null, sum: sum, index: [n, ch, h, wc], tensor: c.inputs[0].tensor, pos: 0 };
  }

  /* read the explanation out (aria-live), and keep the cell in the URL */
  function announce(box) {
    var parts = [];
    Array.prototype.forEach.call(box.querySelectorAll("h4, .mg-arith, .mg-engine, p"), function (e) {
      parts.push(e.textContent.replace(/\n/g, " "));
    });
    MG.say(parts.join(". "));
  }
  function explained(box, fn) {
    return function (cell) {
      fn(cell);
      announce(box);
      MG.url.set({ cell: [MG.state.sample, cell.c, cell.i, cell.j].join(",") }, true);
    };
  }
  /* the cell of the URL (sample, channel, row, col) explained again on the right picture */
  function target(pics, fn) {
    return function (cell) {
      var cv = pics && pics.canvases && pics.canvases[cell[1]];
      if (!cv) return;
      cv.cursor = { i: cell[2], j: cell[3] };
      fn({ c: cell[1], i: cell[2], j: cell[3], canvas: cv });
    };
  }

  MG.detailsHooks.push(function (sec, info) {
    MG.cellTarget = null;
    var g = G(), c = info.call && g.calls[info.call];
    if (c) c.key = info.call;
    var tk = info.tensor, t = tk && g.tensors[tk];
    var box = MG.h("div", { class: "mg-explain", id: "mg-explain" });
    if (c && c.window) {
      var n = MG.state.sample;
      var onGrad = explained(box, function (cell) { gradCell(box, c, 0, n, cell.c, cell.i, cell.j); });
      var inp = MG.tensorSection(c.inputs[0].tensor, info.view === "backward" ? { onGradCell: onGrad } : {});
      var onValue = explained(box, function (cell) {
        (outSec.valuePics.canvases || []).forEach(function (cv) { MG.heat.outline(cv, []); });
        MG.heat.outline(cell.canvas, [{ i: cell.i, j: cell.j, color: "#e8590c", width: 3 }]);
        show(box, c, n, cell.c, cell.i, cell.j, inp && inp.valuePics);
      });
      var outSec = MG.tensorSection(c.output, { onValueCell: onValue });
      MG.cellTarget = info.view === "backward" ? target(inp && inp.gradPics, onGrad) : target(outSec && outSec.valuePics, onValue);
      sec.appendChild(MG.h("p", { class: "mg-hint", text: info.view === "backward" ?
        "Click a cell of the input's gradient to see the terms that sum to it." :
        "Click a cell of the output to see its window and arithmetic." }));
      sec.appendChild(box);
      sec.appendChild(MG.h("div", { class: "mg-cap", text: "output" }));
      if (outSec) sec.appendChild(outSec);
      sec.appendChild(MG.h("div", { class: "mg-cap", text: "input " + c.inputs[0].name }));
      if (inp) sec.appendChild(inp);
      if (c.window.kind === "conv" && info.view === "backward") {
        var wsec = MG.tensorSection(c.inputs[1].tensor, {
          onGradCell: function (cell) {
            // the weight's picture shows filter o (picked like a sample), channel cell.c
            gradCell(box, c, 1, n, MG.state.sample, cell.c, [cell.i, cell.j]);
            announce(box);
          }
        });
        if (wsec) { sec.appendChild(MG.h("div", { class: "mg-cap", text: "weight" })); sec.appendChild(wsec); }
      }
      return;
    }
    var own = c && (c.op === "batch_norm" || c.op === "dropout") && info.node.kind !== "backward";  // 42_cells.js
    if (c && t && !own) {
      sec.appendChild(MG.h("div", { class: "mg-cap", text: "output" }));
      sec.appendChild(MG.tensorSection(tk, {}));
    }
    if (t && t.contributions && info.section) {
      sec.appendChild(MG.h("p", { class: "mg-hint", text: "Used " + t.contributions.length +
        " times: click a gradient cell to see the contributions the engine summed." }));
      sec.appendChild(box);
      var a = MG.arr(t.grad);
      var onSum = explained(box, function (cell) {
        var idx = a.shape.length === 4 ? [cell.c, cell.i, cell.j] : a.shape.length === 1 ? [cell.j] : [cell.i, cell.j];
        contributions(box, t, MG.state.sample, idx);
      });
      var sel2 = MG.tensorSection(tk, { onGradCell: onSum });
      MG.cellTarget = target(sel2 && sel2.gradPics, onSum);
      info.section.replaceWith(sel2);
      info.section = sel2;
    }
  });
})(window.MG);
