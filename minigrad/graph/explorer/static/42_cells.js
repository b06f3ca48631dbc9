/* Elementwise cells: click an output cell of batch_norm and see the channel's mean and
   variance (the batch's in training, the running statistics in eval), the normalised value,
   scale and shift; click an output cell of dropout and see it kept (x * 1/(1-p)) or dropped,
   next to the mask as a picture. The same, in the network view, for a cell of a layer that
   ends in batch_norm or dropout (MG.emit("netcell") of 05_network.js). The per-channel statistics and the mask come from Python
   (payload.py: call.norm, call.mask); the arithmetic is written here from them. */
(function (MG) {
  "use strict";
  var G = function () { return MG.payload.graph; };

  function flat(a, idx) {
    var f = 0;
    for (var k = 0; k < idx.length; k++) f = f * a.shape[k] + idx[k];
    return f;
  }
  function par(v) { return MG.term(v, 6); }  // after an operator: "(-0.5)"

  /* the index (in the embedded arrays) and the channel of a clicked picture cell */
  function where(a, cell) {
    var n = cell.n !== undefined ? cell.n : MG.state.sample;
    if (a.shape.length === 4) return { idx: [Math.min(n, a.shape[0] - 1), cell.c, cell.i, cell.j], ch: cell.c };
    if (a.shape.length === 2) return { idx: [cell.i, cell.j], ch: cell.j };
    return null;
  }
  function label(a, w) {
    var idx = w.idx.slice();
    if (a.index) idx[0] = a.index[0][idx[0]];
    return "[" + idx.join(", ") + "]";
  }

  /* {text, value, engine, stats} for batch_norm call c at cell; null if values are missing */
  function normCell(c, cell) {
    var t = G().tensors, x = t[c.inputs[0].tensor].value, y = t[c.output].value;
    if (!x || !y || !c.norm) return null;
    var xa = MG.arr(x), ya = MG.arr(y), w = where(ya, cell);
    if (!w) return null;
    var s = c.norm, ch = w.ch, xv = xa.data[flat(xa, w.idx)];
    var mean = s.mean[ch], v = s.var[ch], wt = s.weight ? s.weight[ch] : 1, b = s.bias ? s.bias[ch] : null;
    var xhat = (xv - mean) / Math.sqrt(v + s.eps), value = xhat * wt + (b === null ? 0 : b);
    var shape = t[c.inputs[0].tensor].shape, count = shape.reduce(function (p, q) { return p * q; }, 1) / shape[1];
    var from = s.training ? "over the batch's " + count + " values of channel " + ch : "running statistics of channel " + ch;
    var text = "mean " + MG.fmt(mean, 6) + ", variance " + MG.fmt(v, 6) + " (" + from + ")\n" +
      "normalised: (" + MG.fmt(xv, 6) + " - " + par(mean) + ") / sqrt(" + MG.fmt(v, 6) + " + " + String(s.eps) +
      ") = " + MG.fmt(xhat, 6) + "\nscale and shift: " + MG.fmt(xhat, 6) + "*" + par(wt) +
      (b === null ? "" : " + " + par(b)) + " = " + MG.fmt(value, 6);
    return { where: w, label: label(ya, w), text: text, value: value, engine: ya.data[flat(ya, w.idx)],
      stats: { mean: mean, var: v, eps: s.eps, xhat: xhat, weight: wt, bias: b } };
  }

  function dropCell(c, cell) {
    var t = G().tensors, x = t[c.inputs[0].tensor].value, y = t[c.output].value;
    if (!x || !y || !c.mask) return null;
    var xa = MG.arr(x), ya = MG.arr(y), ma = MG.arr(c.mask), w = where(ya, cell);
    if (!w) return null;
    var xv = xa.data[flat(xa, w.idx)], s = ma.data[flat(ma, w.idx)], p = c.attrs.p;
    var text = s === 0 ? "dropped: " + MG.fmt(xv, 6) + "*0 (mask 0) = 0"
      : "kept: " + MG.fmt(xv, 6) + "*" + par(s) + (s === 1 ? " (identity)" : " (1/(1 - " + MG.fmt(p, 6) + "))") +
        " = " + MG.fmt(xv * s, 6);
    return { where: w, label: label(ya, w), text: text, value: xv * s, engine: ya.data[flat(ya, w.idx)],
      stats: { p: p, scale: s } };
  }
  MG.normCell = normCell;
  MG.dropCell = dropCell;

  /* the gradient call c sent to its input: its own contribution when the input is used
     several times, else the input's gradient */
  function sentGrad(c, key) {
    var t = G().tensors[c.inputs[0].tensor];
    var mine = (t.contributions || []).filter(function (cb) { return cb.call === key && cb.input === 0; })[0];
    return mine ? { enc: mine.grad, what: "this call's contribution" } : { enc: t.grad, what: "engine's gradient" };
  }

  /* an input-gradient cell of batch_norm: in training every element moved its channel's
     mean and variance, so dx = w / sigma * (dy - mean(dy) - xhat * mean(dy * xhat)) with the
     two means over the channel's whole batch (from Python); in eval dx = dy * w / sigma */
  function normGradCell(c, key, cell) {
    var t = G().tensors, s = c.norm, xe = t[c.inputs[0].tensor].value, ge = t[c.output].grad;
    if (!s || !xe || !ge || (s.training && !s.dy_mean)) return null;
    var xa = MG.arr(xe), ga = MG.arr(ge), w = where(ga, cell);
    if (!w) return null;
    var ch = w.ch, xv = xa.data[flat(xa, w.idx)], dy = ga.data[flat(ga, w.idx)];
    var sigma = Math.sqrt(s.var[ch] + s.eps), xhat = (xv - s.mean[ch]) / sigma, wt = s.weight ? s.weight[ch] : 1, value, text;
    if (s.training) {
      var m1 = s.dy_mean[ch], m2 = s.dyxhat_mean[ch];
      value = wt / sigma * (dy - m1 - xhat * m2);
      text = "dx = w / sigma * (dy - mean(dy) - xhat * mean(dy * xhat))   (means over channel " + ch + " of the batch)\n" +
        "xhat = (" + MG.fmt(xv, 6) + " - " + par(s.mean[ch]) + ") / " + MG.fmt(sigma, 6) + " = " + MG.fmt(xhat, 6) + "\n" +
        "dx = " + MG.fmt(wt, 6) + " / " + MG.fmt(sigma, 6) + " * (" + MG.fmt(dy, 6) + " - " + par(m1) + " - " + par(xhat) +
        " * " + par(m2) + ") = " + MG.fmt(MG.snap(value, Math.abs(wt / sigma) * (Math.abs(dy) + Math.abs(m1) + Math.abs(xhat * m2))), 6);
    } else {
      value = dy * wt / sigma;
      text = "dx = dy * w / sigma   (eval: the running statistics are constants)\n" +
        "dx = " + MG.fmt(dy, 6) + " * " + par(wt) + " / " + MG.fmt(sigma, 6) + " = " + MG.fmt(value, 6);
    }
    var sent = sentGrad(c, key), sa = sent.enc && MG.arr(sent.enc);
    return { label: label(ga, w), text: text, value: value, what: sent.what, engine: sa ? sa.data[flat(sa, w.idx)] : null };
  }

  /* an input-gradient cell of dropout: dx = dy * mask (0 dropped, 1/(1-p) kept) */
  function dropGradCell(c, key, cell) {
    var t = G().tensors, ge = t[c.output].grad;
    if (!ge || !c.mask) return null;
    var ga = MG.arr(ge), ma = MG.arr(c.mask), w = where(ga, cell);
    if (!w) return null;
    var dy = ga.data[flat(ga, w.idx)], m = ma.data[flat(ma, w.idx)], value = dy * m;
    var text = "dx = dy * mask   (0 where dropped, 1/(1 - p) where kept)\n" +
      "dx = " + MG.fmt(dy, 6) + " * " + par(m) + (m === 0 ? " (dropped)" : " (kept)") + " = " + MG.fmt(value, 6);
    var sent = sentGrad(c, key), sa = sent.enc && MG.arr(sent.enc);
    return { label: label(ga, w), text: text, value: value, what: sent.what, engine: sa ? sa.data[flat(sa, w.idx)] : null };
  }
  MG.normGradCell = normGradCell;
  MG.dropGradCell = dropGradCell;

  /* the backward view: a click on a cell of the input's gradient writes its arithmetic */
  MG.detailsHooks.push(function (sec, info) {
    var g = G(), c = info.call && g.calls[info.call];
    if (!c || (c.op !== "batch_norm" && c.op !== "dropout") || info.node.kind !== "backward") return;
    var t = g.tensors[c.inputs[0].tensor];
    if (!t || !t.grad) return;
    var box = MG.h("div", { class: "mg-explain mg-gradcell", id: "mg-gradcell" });
    var fn = c.op === "batch_norm" ? normGradCell : dropGradCell;
    var inSec;
    function onGrad(cell) {
      var res = fn(c, info.call, cell);
      box.innerHTML = "";
      if (!res) { box.appendChild(MG.h("p", { text: "values were freed or subsampled: no arithmetic for this cell" })); return; }
      (inSec.gradPics.canvases || []).forEach(function (cv) { MG.heat.outline(cv, []); });
      if (cell.canvas) MG.heat.outline(cell.canvas, [{ i: cell.i, j: cell.j, color: "#e8590c", width: 3 }]);
      box.appendChild(MG.h("h4", { text: "input gradient " + res.label }));
      box.appendChild(MG.h("pre", { class: "mg-arith", text: res.text }));
      if (res.engine !== null) box.appendChild(MG.h("p", { class: "mg-engine", text: res.what + ": " + MG.fmt(res.engine, 8) }));
      MG.say(res.text.replace(/\n/g, "; ") + (res.engine !== null ? ". " + res.what + " " + MG.fmt(res.engine, 8) : ""));
    }
    inSec = MG.tensorSection(c.inputs[0].tensor, { onGradCell: onGrad });
    if (!inSec) return;
    sec.appendChild(MG.h("p", { class: "mg-hint", text: "Click a cell of the input's gradient to see its arithmetic." }));
    sec.appendChild(box);
    sec.appendChild(MG.h("div", { class: "mg-cap", text: "input " + c.inputs[0].name }));
    sec.appendChild(inSec);
  });

  function maskPicture(c, n) {
    var mp = MG.heat.picture(c.mask, { sample: n, label: "dropout mask (0 dropped, 1/(1-p) kept)" });
    mp.classList.add("mg-mask");
    return MG.h("div", {}, [MG.h("div", { class: "mg-cap", text: "mask: 0 where dropped, " +
      MG.fmt(1 / (1 - c.attrs.p), 6) + " = 1/(1 - p) where kept" }), mp]);
  }

  /* the network view: a click on a cell of a layer ending in batch_norm or dropout */
  function openNet(layer, n, ch, i, j, push) {
    if (!layer || layer.main || !layer.cells) return false;
    var c = G().calls[layer.cells], res = (c.op === "batch_norm" ? normCell : dropCell)(c, { n: n, c: ch, i: i, j: j });
    var slot = MG.views.network.slot;
    slot.textContent = "";
    var box = MG.h("section", { class: "mg-conv mg-cellbox", id: "mg-cellbox", "aria-label": "how the cell was computed" });
    slot.appendChild(box);
    box.appendChild(MG.h("h3", { text: layer.name + ": " + c.op + " · channel " + ch + ", cell (" + i + ", " + j + ") · sample " + n }));
    if (!res) box.appendChild(MG.h("p", { text: "values were freed or subsampled: no arithmetic for this cell" }));
    else {
      box.appendChild(MG.h("pre", { class: "mg-arith", text: res.text }));
      box.appendChild(MG.h("p", { class: "mg-engine", text: "engine's value: " + MG.fmt(res.engine, 8) }));
      MG.say(res.text.replace(/\n/g, "; ") + ". Engine's value " + MG.fmt(res.engine, 8));
    }
    if (c.op === "dropout" && c.mask) box.appendChild(maskPicture(c, n));
    MG.url.set({ node: layer.name, cell: [n, ch, i, j].join(",") }, push);
    if (MG.netMark) MG.netMark(layer.name, n, ch, i, j);
    box.scrollIntoView({ block: "nearest" });
    return true;
  }
  function layerByName(name) {
    var net = G() && G().network;
    return net && net.layers.filter(function (l) { return l.name === name; })[0];
  }
  MG.on("netcell", function (d) { openNet(d.layer, d.n, d.c, d.i, d.j, true); });
  MG.on("restore", function (st) {
    if (st.view && st.view !== "network") return;
    if (!st.node || !st.cell || !G() || !G().network) return;
    var layer = layerByName(st.node), cell = st.cell.split(",").map(Number);
    if (!layer || layer.main || !layer.cells || cell.length !== 4 || cell.some(isNaN)) return;
    if (MG.state.view !== "network") MG.show("network");
    openNet(layer, cell[0], cell[1], cell[2], cell[3], false);
  });

  MG.detailsHooks.push(function (sec, info) {
    var g = G(), c = info.call && g.calls[info.call];
    if (!c || (c.op !== "batch_norm" && c.op !== "dropout") || info.node.kind === "backward") return;
    var box = MG.h("div", { class: "mg-explain", id: "mg-explain" });
    var explainFn = c.op === "batch_norm" ? normCell : dropCell;
    var outSec;
    function onValue(cell) {
      var res = explainFn(c, cell);
      box.innerHTML = "";
      if (!res) { box.appendChild(MG.h("p", { text: "values were freed or subsampled: no arithmetic for this cell" })); return; }
      (outSec.valuePics.canvases || []).forEach(function (cv) { MG.heat.outline(cv, []); });
      if (cell.canvas) MG.heat.outline(cell.canvas, [{ i: cell.i, j: cell.j, color: "#e8590c", width: 3 }]);
      box.appendChild(MG.h("h4", { text: "output cell " + res.label }));
      box.appendChild(MG.h("pre", { class: "mg-arith", text: res.text }));
      box.appendChild(MG.h("p", { class: "mg-engine", text: "engine's value: " + MG.fmt(res.engine, 8) }));
      MG.say(res.text.replace(/\n/g, "; ") + ". Engine's value " + MG.fmt(res.engine, 8));
      MG.url.set({ cell: [MG.state.sample, cell.c, cell.i, cell.j].join(",") }, true);
    }
    outSec = MG.tensorSection(c.output, { onValueCell: onValue });
    if (!outSec) return;
    MG.cellTarget = function (cell) {
      var cv = outSec.valuePics && outSec.valuePics.canvases[cell[1]];
      if (cv) { cv.cursor = { i: cell[2], j: cell[3] }; onValue({ c: cell[1], i: cell[2], j: cell[3], canvas: cv }); }
    };
    var hint = c.op === "batch_norm"
      ? (c.norm && c.norm.training ? "Training: each channel is normalised with the batch's mean and variance."
        : "Eval: each channel is normalised with its running mean and variance.")
      : "Each element is kept and scaled by 1/(1 - p), or dropped (0).";
    sec.appendChild(MG.h("p", { class: "mg-hint", text: hint + " Click a cell of the output to see its arithmetic." }));
    sec.appendChild(box);
    if (c.op === "batch_norm" && c.norm) {
      var tb = MG.h("table", { class: "mg-kv mg-norm" }, [MG.h("tr", {}, ["channel", "mean", "variance", "scale", "shift"].map(function (h) {
        return MG.h("th", { text: h });
      }))]);
      c.norm.mean.slice(0, 32).forEach(function (m, k) {
        tb.appendChild(MG.h("tr", {}, [k, m, c.norm.var[k], c.norm.weight ? c.norm.weight[k] : 1,
          c.norm.bias ? c.norm.bias[k] : 0].map(function (v, col) { return MG.h("td", { text: col ? MG.fmt(v, 6) : String(v) }); })));
      });
      sec.appendChild(MG.h("div", { class: "mg-cap", text: "channel statistics (eps " + String(c.norm.eps) + ")" }));
      sec.appendChild(tb);
    }
    if (c.op === "dropout" && c.mask) sec.appendChild(maskPicture(c, MG.state.sample));
    sec.appendChild(MG.h("div", { class: "mg-cap", text: "output" }));
    sec.appendChild(outSec);
  });
})(window.MG);
