/* Search: a box in each graph view's toolbar; typing marks every node whose name, op or
   scope contains the text, Enter moves to the next match, "/" focuses the box. */
(function (MG) {
  "use strict";
  var boxes = [];

  function matches(pane, q) {
    if (!q) return [];
    q = q.toLowerCase();
    return Object.keys(pane.data.nodes).filter(function (id) {
      var n = pane.data.nodes[id], t = n.tensor && MG.payload.graph.tensors[n.tensor];
      return [n.label, n.scope, t && t.name, id].some(function (s) { return s && String(s).toLowerCase().indexOf(q) >= 0; });
    });
  }

  MG.on("mounted", function (ev) {
    var view = ev.view, at = 0;
    var count = MG.h("span", { class: "mg-hint" });
    var input = MG.h("input", { type: "search", placeholder: "search names (/)", class: "mg-search",
      "aria-label": "search nodes" });
    function run(next) {
      var total = 0;
      view.panes.forEach(function (p) {
        var m = matches(p, input.value);
        p.mark("mg-match", m);
        total += m.length;
        if (m.length && next !== undefined) { p.focus(m[next % m.length]); }
      });
      count.textContent = input.value ? total + " found" : "";
    }
    input.addEventListener("input", function () { at = 0; run(0); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { at += 1; run(at); e.preventDefault(); }
      if (e.key === "Escape") { input.value = ""; run(); }
    });
    var row = view.pane.querySelector(".mg-toolbar-row");
    row.appendChild(input);
    row.appendChild(count);
    boxes.push({ view: view, input: input, run: run });
  });

  MG.on("clear", function () {
    boxes.forEach(function (b) { if (b.input.value) { b.input.value = ""; b.run(); } });
  });

  MG.on("key", function (ev) {
    if (ev.key !== "/") return;
    var b = boxes.filter(function (x) { return x.view === MG.views[MG.state.view]; })[0];
    if (b) { b.input.focus(); ev.preventDefault(); }
  });
})(window.MG);
