/* Health overlays: the first op whose forward or backward made NaN/Inf is outlined red,
   each relu is labelled with its dead fraction, backward edges are coloured by gradient
   norm (log scale, grey -> orange -> red) with vanishing/exploding ones flagged. The "health"
   button (key h) turns the overlay on and off; a one-line summary sits above the graph. */
(function (MG) {
  "use strict";
  var on = true, panes = [];

  function nodesOf(pane, call) {
    var ids = [];
    Object.keys(pane.data.nodes).forEach(function (id) { if (pane.data.nodes[id].call === call) ids.push(id); });
    return ids;
  }

  function summary() {
    var h = MG.payload.graph.health, parts = [];
    if (h.forward_nan) parts.push("⚠ " + h.forward_nan.message);
    if (h.backward_nan) parts.push("⚠ " + h.backward_nan.message);
    if (!h.forward_nan && !h.backward_nan) parts.push("no NaN/Inf");
    Object.keys(h.relu).sort().forEach(function (k) {
      var c = MG.payload.graph.calls[k];
      parts.push("relu" + (c.scope ? " (" + c.scope + ")" : "") + ": " + Math.round(h.relu[k].dead * 100) + "% dead");
    });
    var v = h.edges.filter(function (e) { return e.kind === "vanishing"; }).length;
    var x = h.edges.filter(function (e) { return e.kind === "exploding"; }).length;
    parts.push(v + " vanishing, " + x + " exploding gradient edges (dashed)");
    parts.push("backward edge colour: gradient norm, blue small → red large (log scale)");
    return "health: " + parts.join(" · ");
  }

  function paint(pane) {
    var h = MG.payload.graph.health, bad = [];
    [h.forward_nan, h.backward_nan].forEach(function (f) { if (f) bad = bad.concat(nodesOf(pane, f.call)); });
    pane.mark("mg-bad", on ? bad : []);
    Object.keys(h.relu).forEach(function (call) {
      nodesOf(pane, call).forEach(function (id) {
        var show = on && pane.data.nodes[id].kind === "op";
        pane.badge(id, "mg-badge", show ? Math.round(h.relu[call].dead * 100) + "% dead" : null);
      });
    });
    if (pane.which !== "backward") return;
    var norms = pane.data.edges.map(function (e) { return e.grad ? MG.num(e.grad.norm) : null; });
    var logs = norms.filter(function (v) { return v > 0 && isFinite(v); }).map(Math.log10);
    var lo = Math.min.apply(null, logs.concat([0])), hi = Math.max.apply(null, logs.concat([0]));
    var flagged = {};
    h.edges.forEach(function (f) { flagged[f.edge] = f.kind; });
    pane.edges.forEach(function (el, i) {
      if (!el) return;
      var path = el.querySelector("path"), v = norms[i];
      if (!path) return;
      if (!on || v === null) { path.style.stroke = ""; el.classList.remove("mg-flag"); return; }
      var t = !isFinite(v) ? 1 : v > 0 ? (Math.log10(v) - lo) / ((hi - lo) || 1) : 0;
      path.style.stroke = isNaN(v) || !isFinite(v) ? "#c92a2a" : "hsl(" + Math.round(210 - 210 * t) + ",70%," + Math.round(55 - 10 * t) + "%)";
      path.style.strokeWidth = String(1 + 2.5 * t);
      el.classList.toggle("mg-flag", !!flagged[i]);
      if (flagged[i]) el.setAttribute("data-flag", flagged[i]);
    });
  }

  MG.on("mounted", function (ev) {
    var view = ev.view, row = view.pane.querySelector(".mg-toolbar");
    row.appendChild(MG.h("button", { text: "health", title: "Health overlay on/off (key h)",
      onclick: function () { on = !on; panes.forEach(paint); } }));
    view.pane.insertBefore(MG.h("div", { class: "mg-health", text: summary(), tabindex: "0", role: "note" }), view.pane.children[1] || null);
  });
  MG.on("pane", function (ev) { panes.push(ev.pane); paint(ev.pane); });
  MG.on("key", function (ev) { if (ev.key === "h") { on = !on; panes.forEach(paint); } });
  MG.on("update", function () {  // a live page swapped in new numbers (live/80_playground.js)
    panes.forEach(paint);
    Array.prototype.forEach.call(document.querySelectorAll(".mg-health"), function (e) { e.textContent = summary(); });
  });
})(window.MG);
