/* Details panel: what a clicked node is. Tensors: name, role, shape, dtype, one-line stats,
   value and gradient pictures side by side for a chosen sample, histograms. Ops: attributes,
   plugin and version, saved arrays with bytes, the derivative card with this call's numbers.
   Other modules add sections through MG.detailsHooks: fn(section, info) with info =
   {view, id, node, tensor, call}. */
(function (MG) {
  "use strict";
  MG.detailsHooks = [];

  function statsLine(s) {
    if (!s) return "–";
    var parts = ["min " + MG.fmt(s.min), "max " + MG.fmt(s.max), "mean " + MG.fmt(s.mean), "std " + MG.fmt(s.std)];
    if (s.nan) parts.push(s.nan + " NaN");
    if (s.inf) parts.push(s.inf + " inf");
    return parts.join(" · ");
  }
  MG.statsLine = statsLine;

  function row(k, v) { return MG.h("tr", {}, [MG.h("th", { text: k }), MG.h("td", {}, [v])]); }

  function sampleSelect(enc, what) {
    var a = MG.arr(enc);
    if (!a || a.shape.length !== 4 || a.shape[0] < 2) return null;
    var sel = MG.h("select", { "aria-label": "sample", class: "mg-sample",
      onchange: function () { MG.state.sample = Number(sel.value); MG.emit("sample", { index: MG.state.sample }); } });
    for (var k = 0; k < a.shape[0]; k++) {
      var o = MG.h("option", { value: String(k), text: what + " " + (a.index ? a.index[0][k] : k) });
      if (k === MG.state.sample) o.selected = true;
      sel.appendChild(o);
    }
    return MG.h("label", {}, ["show ", sel]);
  }

  function tensorSection(key, opts) {
    var t = MG.payload.graph.tensors[key];
    if (!t) return null;
    opts = opts || {};
    var box = MG.h("section", { class: "mg-tensor", "data-tensor": key });
    box.appendChild(MG.h("h3", { text: (t.name || t.role) + "  " + JSON.stringify(t.shape).replace(/,/g, ", ") + " " + t.dtype }));
    var tbl = MG.h("table", { class: "mg-kv" }, [
      row("role", t.role + (t.op ? " (output of " + t.op + ")" : "")),
      row("value", t.freed ? "freed by backward()" : statsLine(t.stats)),
      row("gradient", t.grad_stats ? statsLine(t.grad_stats) + (t.grad_from ? " (from " + t.grad_from + ")" : "") : "–")
    ]);
    if (t.grad_stats) tbl.appendChild(row("grad norm", MG.fmt(t.grad_stats.norm)));
    box.appendChild(tbl);
    var sub = t.value && t.value.index;
    if (sub) box.appendChild(MG.h("p", { class: "mg-hint", text: "Pictures show a subsample: " +
      t.value.shape.join("×") + " of " + t.shape.join("×") + " (statistics use every value)." }));
    var pick = sampleSelect(t.value || t.grad, t.role === "parameter" ? "filter" : "sample");
    if (pick) box.appendChild(pick);
    var pics = MG.h("div", { class: "mg-side" });
    if (t.value) {
      var pv = MG.heat.picture(t.value, { sample: MG.state.sample, onCell: opts.onValueCell, label: "values of " + (t.name || t.role) });
      pics.appendChild(MG.h("div", { class: "mg-col" }, [MG.h("div", { class: "mg-cap", text: "value" }), pv]));
      box.valuePics = pv;
    }
    if (t.grad) {
      var pg = MG.heat.picture(t.grad, { sample: MG.state.sample, diverging: true, onCell: opts.onGradCell, label: "gradient of " + (t.name || t.role) });
      pics.appendChild(MG.h("div", { class: "mg-col" }, [MG.h("div", { class: "mg-cap", text: "gradient (blue − / red +)" }), pg]));
      box.gradPics = pg;
    }
    box.appendChild(pics);
    var hs = MG.h("div", { class: "mg-side" }, [MG.heat.hist(t.hist, "values"), MG.heat.hist(t.grad_hist, "gradient")]);
    box.appendChild(hs);
    return box;
  }
  MG.tensorSection = tensorSection;

  function bytes(n) { return n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : (n / 1048576).toFixed(2) + " MiB"; }

  function callSection(key, backwardNode) {
    var c = MG.payload.graph.calls[key];
    var box = MG.h("section", { class: "mg-call" });
    box.appendChild(MG.h("h3", { text: c.op + (backwardNode ? " backward" : "") + (c.scope ? "  in " + c.scope : "") }));
    var attrs = Object.keys(c.attrs).map(function (k) { return k + "=" + JSON.stringify(c.attrs[k]); }).join(", ");
    var tbl = MG.h("table", { class: "mg-kv" }, [
      row("attributes", attrs || "none"),
      row("from", c.plugin ? "plugin " + c.plugin + (c.version ? " " + c.version : "") : "minigrad core"),
      row("inputs", c.inputs.map(function (i) {
        var t = MG.payload.graph.tensors[i.tensor];
        return i.name + " " + (t ? JSON.stringify(t.shape) : "");
      }).join(", "))
    ]);
    var saved = c.saved === null ? "freed by backward()" : c.saved.length ? c.saved.map(function (s) {
      return s.shape ? JSON.stringify(s.shape) + " " + s.dtype + " (" + bytes(s.bytes) + ")" : s.value;
    }).join("; ") + "  total " + bytes(c.saved.reduce(function (a, s) { return a + (s.bytes || 0); }, 0)) : "nothing";
    tbl.appendChild(row("saved for backward", saved));
    box.appendChild(tbl);
    box.appendChild(card(c, key));
    return box;
  }

  /* The derivative card: the op's formula, its jargon in one plain sentence, the statistics
     of this call's arrays, then the formula with one element's real numbers (the same lines
     the stepper writes: every number of a line belongs to the same element). */
  function card(c, key) {
    var el = MG.h("div", { class: "mg-card" });
    el.appendChild(MG.h("div", { class: "mg-card-title", text: "derivative card" }));
    el.appendChild(MG.h("code", { class: "mg-formula", text: c.formula || "(this op declares no formula)" }));
    if (c.plain) el.appendChild(MG.h("p", { class: "mg-plain", text: c.plain }));
    var out = MG.payload.graph.tensors[c.output] || {};
    var step = (MG.payload.graph.steps || []).filter(function (s) { return s.call === key; })[0];
    // an input named y (log_loss's target) takes the name dy: the output's gradient is g
    var dout = c.inputs.some(function (inp) { return inp.name === "y"; }) ? "g" : "dy";
    var lines = [MG.h("li", { text: dout + " (gradient of the output) : " + statsLine(out.grad_stats) })];
    c.inputs.forEach(function (inp, i) {
      var t = MG.payload.graph.tensors[inp.tensor];
      if (!t) return;  // an optional input not given (no bias)
      lines.push(MG.h("li", { text: inp.name + " : " + (t.freed ? "freed" : statsLine(t.stats)) }));
      if (step && step.input_grads[i]) lines.push(MG.h("li", { text: "d" + inp.name + " (this call's share) : " + statsLine(step.input_grads[i]) }));
    });
    el.appendChild(MG.h("ul", {}, lines));
    if (step && step.math && step.math.length) {
      el.appendChild(MG.h("div", { class: "mg-cap", text: "with one element's numbers (this call):" }));
      el.appendChild(MG.h("pre", { class: "mg-arith mg-card-math", text: step.math.join("\n") }));
    }
    return el;
  }

  function moduleSection(node, sel) {
    var fwd = MG.payload.graph.views.forward.nodes, ops = [], params = [];
    node.members.forEach(function (id) {
      var n = fwd[id];
      if (!n) return;
      if (n.call) ops.push(MG.payload.graph.calls[n.call].op);
      var t = n.tensor && MG.payload.graph.tensors[n.tensor];
      if (n.kind === "tensor" && t && t.role === "parameter") params.push((t.name || "param") + " " + JSON.stringify(t.shape));
    });
    return MG.h("section", {}, [
      MG.h("table", { class: "mg-kv" }, [row("ops", ops.join(", ") || "none"), row("parameters", params.join(", ") || "none"),
        row("call", node.calls[0] + " of " + node.calls[1])]),
      MG.h("button", { text: "open in the forward graph", class: "mg-open",
        onclick: function () { MG.openModule(node.label); } })
    ]);
  }

  MG.on("select", function (sel) {
    var g = MG.payload.graph, node = g.views[sel.view].nodes[sel.id];
    var panel = MG.panel;
    MG.panelOwner = "graph";
    panel.innerHTML = "";
    panel.appendChild(MG.h("h2", { text: node.label, "data-node": sel.id }));
    panel.appendChild(MG.h("div", { class: "mg-hint", text: sel.view + " view · " + node.kind + (node.scope ? " · " + node.scope : "") }));
    var info = { view: sel.view, id: sel.id, node: node, tensor: node.tensor, call: node.call, panel: panel };
    if (node.kind === "module") { panel.appendChild(moduleSection(node, sel)); return; }
    if (node.call) panel.appendChild(callSection(node.call, node.kind === "backward"));
    var sec = MG.h("div", { class: "mg-extra" });
    panel.appendChild(sec);
    if (node.tensor && !node.call) {
      info.section = tensorSection(node.tensor, {});
      if (info.section) panel.appendChild(info.section);
    }
    MG.detailsHooks.forEach(function (fn) { fn(sec, info); });
  });

  MG.on("sample", function () {
    if (MG.state.selected) MG.emit("select", MG.state.selected);
  });
})(window.MG);
