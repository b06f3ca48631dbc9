/* Backward stepper: a slider and the arrow keys replay the engine's own order of backward
   calls and accumulations (payload.graph.steps, recorded from its traversal). At step k the
   nodes of steps < k are marked done, step k's node is current, its edges are lit with the
   gradient they carry, and a running sum shows "contribution j of k". */
(function (MG) {
  "use strict";
  var S = { k: 0, bars: [] };

  /* predict first (MG.quiz.on): the first line a learner can work out by hand shows "= ?"
     until a guess; the score is the page's one score */
  function quizLine(s) {
    if (!MG.quiz || !s.math_quiz) return -1;
    for (var k = 0; k < s.math_quiz.length; k++) if (s.math_quiz[k]) return k;
    return -1;
  }
  function qkey(s, k) { return "step:" + s.index + ":" + k; }
  function shownMath(s) {
    var q = quizLine(s);
    if (q < 0 || !MG.quiz.hidden(qkey(s, q))) return s.math;
    var m = s.math.slice();
    m[q] = s.math_quiz[q];
    return m;
  }

  function describe(s) {
    var g = MG.payload.graph, t = s.tensor && g.tensors[s.tensor];
    var name = t ? (t.name || t.role) : "";
    if (s.kind === "seed") return s.grad && s.grad.size === 1 ? "seed: dL/dL = " + MG.fmt(s.grad.min) :
      "seed: d(output)/d(output) = " + MG.statsLine(s.grad);
    if (s.kind === "step" && s.math && s.math.length) {
      return g.calls[s.call].op + " backward: " + shownMath(s).join("; ");
    }
    if (s.kind === "step") {
      var c = g.calls[s.call];
      return c.op + " backward gets dy (" + MG.statsLine(s.grad) + ") and sends " +
        s.input_grads.map(function (x, i) { return x ? "d" + c.inputs[i].name + " (norm " + MG.fmt(x.norm) + ")" : null; })
          .filter(Boolean).join(", ");
    }
    if (s.kind === "accumulate") return "accumulate into " + name + ": contribution " + s.of[0] + " of " + s.of[1] +
      " (norm " + MG.fmt(s.contribution.norm) + "), partial sum norm " + MG.fmt(s.total.norm);
    return "leaf " + name + ".grad = " + MG.statsLine(s.grad);
  }

  function apply() {
    var steps = MG.payload.graph.steps, pane = MG.panes.backward;
    S.bars.forEach(function (b) {
      b.slider.value = String(S.k);
      b.label.textContent = S.k === 0 ? "before backward: " + steps.length + " steps to replay" :
        "step " + S.k + " / " + steps.length + " · " + describe(steps[S.k - 1]);
    });
    if (!pane) return;
    var done = [], cur = steps[S.k - 1];
    for (var k = 0; k < S.k - 1; k++) if (steps[k].node) done.push(steps[k].node);
    pane.holder.classList.toggle("mg-stepping", S.k > 0);
    pane.mark("mg-done", done);
    pane.mark("mg-current", cur && cur.node ? [cur.node] : []);
    pane.markEdges("mg-lit", cur ? cur.edges : []);
    partials(pane, steps);
    if (cur && cur.node && S.follow !== false) pane.focus(cur.node);  // the view follows the replay
    MG.emit("step", { index: S.k });
  }

  /* each "+" node shows its running sum so far: "2 of 3, |sum| 4.2" */
  function partials(pane, steps) {
    var last = {};
    for (var k = 0; k < S.k; k++) if (steps[k].kind === "accumulate" && steps[k].node) last[steps[k].node] = steps[k];
    Object.keys(pane.nodes).forEach(function (id) {
      var s = last[id];
      if (s || pane.nodes[id].querySelector("text.mg-partial"))
        pane.badge(id, "mg-partial", s ? s.of[0] + " of " + s.of[1] + ", |sum| " + MG.fmt(s.total.norm) : null);
    });
  }

  /* the panel during a replay: what step k did, with the gradients it moved as pictures */
  function panel() {
    var g = MG.payload.graph, s = g.steps[S.k - 1], box = MG.panel;
    if (!s) return;
    box.innerHTML = "";
    box.appendChild(MG.h("h2", { text: "backward step " + S.k + " of " + g.steps.length }));
    if (s.kind === "step" && s.math && s.math.length) {
      box.appendChild(MG.h("p", { class: "mg-steptext", text: g.calls[s.call].op + " backward, at the element with the largest gradient:" }));
      var q = quizLine(s), key = q >= 0 ? qkey(s, q) : null, engine = q >= 0 ? MG.num(s.math_values[q]) : null;
      if (key && !MG.quiz.hidden(key)) {
        var told = MG.quiz.told(key, engine, "step gradient");
        if (told) box.appendChild(told);
      }
      box.appendChild(MG.h("pre", { class: "mg-arith mg-stepmath", text: shownMath(s).join("\n") }));
      if (key && MG.quiz.hidden(key)) {
        box.appendChild(MG.quiz.ask("Predict the value hidden as ? (work the numbers of the formula): ", engine, key, "step gradient",
          function () { apply(); panel(); }));
      }
    } else box.appendChild(MG.h("p", { class: "mg-steptext", text: describe(s) }));
    function pic(title, enc) {
      if (!enc) return;
      box.appendChild(MG.h("div", { class: "mg-cap", text: title }));
      box.appendChild(MG.heat.picture(enc, { sample: MG.state.sample, diverging: true }));
    }
    var t = s.tensor && g.tensors[s.tensor];
    if (s.kind === "step") {
      var c = g.calls[s.call];
      pic("dy: the gradient of " + c.op + "'s output", t && t.grad);
      c.inputs.forEach(function (inp, i) {
        var it = g.tensors[inp.tensor];
        if (!it || !s.input_grads[i]) return;
        var mine = (it.contributions || []).filter(function (cb) { return cb.call === s.call && cb.input === i; })[0];
        pic("d" + inp.name + ": sent to " + (it.name || it.role) + (mine ? " (one of " + it.contributions.length + " contributions)" : ""),
          mine ? mine.grad : it.grad);
      });
    } else if (t) {
      pic(s.kind === "accumulate" ? "the total once every contribution is in" : "gradient", t.grad);
    }
  }

  function go(k) {
    var n = MG.payload.graph.steps.length;
    S.k = Math.max(0, Math.min(n, k));
    apply();
    panel();
    MG.url.set({ step: S.k || null }, false);
    var s = MG.payload.graph.steps[S.k - 1];
    MG.say(s ? "backward step " + S.k + " of " + n + ": " + describe(s) : "before backward");
  }
  MG.stepTo = go;
  MG.stepState = S;

  function bar(view) {
    var steps = MG.payload.graph.steps;
    var slider = MG.h("input", { type: "range", min: "0", max: String(steps.length), value: "0",
      class: "mg-slider", "aria-label": "backward step", oninput: function () { go(Number(slider.value)); } });
    var label = MG.h("span", { class: "mg-steptext" });
    var el = MG.h("div", { class: "mg-stepper" }, [
      MG.h("button", { text: "◀", title: "previous step (←)", onclick: function () { go(S.k - 1); } }),
      slider,
      MG.h("button", { text: "▶", title: "next step (→)", onclick: function () { go(S.k + 1); } }),
      label
    ]);
    S.bars.push({ slider: slider, label: label });
    view.pane.insertBefore(el, view.pane.children[1] || null);
  }

  MG.on("mounted", function (ev) {
    var g = MG.payload.graph;
    if (!g || !g.steps || !g.steps.length) {
      if (g && g.note && ev.view.panes.some(function (p) { return p.which === "backward"; }))
        ev.view.pane.insertBefore(MG.h("div", { class: "mg-note", text: g.note }), ev.view.pane.children[1] || null);
      return;
    }
    if (ev.view.panes.some(function (p) { return p.which === "backward"; })) bar(ev.view);
  });
  MG.on("panes", function () { apply(); });
  MG.on("quiz", function () { if (S.k > 0 && MG.panes.backward) { apply(); panel(); } });
  MG.on("key", function (ev) {
    if (!MG.panes.backward || !MG.payload.graph.steps.length) return;
    if (ev.key === "ArrowRight") { go(S.k + 1); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft") { go(S.k - 1); ev.preventDefault(); }
    else if (ev.key === "Home") { go(0); ev.preventDefault(); }
    else if (ev.key === "End") { go(MG.payload.graph.steps.length); ev.preventDefault(); }
  });
})(window.MG);
