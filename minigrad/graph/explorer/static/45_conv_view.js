/* The linked convolution view: a click on a cell of a conv or pooling map in the network
   view opens input | kernel | output side by side, with the numbers in the cells of small
   maps, the window over the input, the grid of element-wise products (or, for pooling, the
   window's values with the winner or the divisor) and the running sum. The window slides:
   play, pause, step, the slider, or hover over the output to scrub; the output fills in as
   the window passes. Every number is the engine's (MG.explainCell of 40_window.js reads the
   arrays embedded in the page). MG.convView.open(layerName, n, o, i, j) opens it from code
   and from a deep link (#node=conv1&cell=n,o,i,j). */
(function (MG) {
  "use strict";
  var G = function () { return MG.payload.graph; };
  var S = null, timer = null;
  var TABLE_MAX = 16; // maps up to 16 x 16 show their numbers

  function fmt(v) { return MG.fmt(v, 3); }

  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    if (S && S.playBtn) { S.playBtn.textContent = "▶ play"; S.playBtn.setAttribute("aria-pressed", "false"); }
  }

  function layerByName(name) {
    var net = G().network;
    return net && net.layers.filter(function (l) { return l.name === name; })[0];
  }

  function table(h, w, cellFn, cls) {
    var tb = MG.h("table", { class: "mg-cgrid " + (cls || "") });
    for (var i = 0; i < h; i++) {
      var tr = MG.h("tr");
      for (var j = 0; j < w; j++) {
        var d = cellFn(i, j);
        tr.appendChild(MG.h("td", { class: d.cls || "", text: d.text, "data-i": i, "data-j": j }));
      }
      tb.appendChild(tr);
    }
    return tb;
  }

  function at4(a, n, c, i, j) {
    return a.data[((n * a.shape[1] + c) * a.shape[2] + i) * a.shape[3] + j];
  }

  function render() {
    var c = S.call, w = c.window, n = S.n, o = S.o, H = S.outH, W = S.outW;
    var i = Math.floor(S.frame / W), j = S.frame % W, glob = w.kind.indexOf("global") === 0;
    var res = MG.explainCell(c, n, o, i, j);
    var box = S.box, key = [n, o, i, j].join(",");
    var qk = S.layer.name + ":" + key, hidden = hiddenNow(qk);  // predict first, then reveal
    box.textContent = "";
    box.setAttribute("data-frame", String(S.frame));
    box.setAttribute("data-frames", String(H * W));
    box.setAttribute("data-cell", [n, o, i, j].join(","));
    var conv = w.kind === "conv";
    box.appendChild(MG.h("h3", { text: S.layer.name + (conv ? ": convolution" : ": " + c.op) + " · output channel " + o +
      ", cell (" + i + ", " + j + ") · sample " + n }));
    if (res.error) { box.appendChild(MG.h("p", { text: res.error })); return; }
    var u = res.used[Math.min(S.ch, res.used.length - 1)];
    var t = G().tensors, x = MG.arr(t[c.inputs[0].tensor].value), y = MG.arr(t[c.output].value);
    var inH = w.in_hw[0], inW = w.in_hw[1], win = {};
    u.cells.forEach(function (e) { if (e.code === 0) win[e.r + "," + e.c] = e; });
    var grids = MG.h("div", { class: "mg-conv-grids" });
    // input
    var inBox = MG.h("div", { class: "mg-conv-input" }, [MG.h("div", { class: "mg-conv-cap",
      text: "input" + (x.shape[1] > 1 ? " channel " + u.ch : "") + " (" + inH + "×" + inW + ")" })]);
    if (inH <= TABLE_MAX && inW <= TABLE_MAX) {
      inBox.appendChild(table(inH, inW, function (r, q) {
        var e = win[r + "," + q];
        var picked = S.back && S.back.kind === "x" && S.back.r === r && S.back.q === q ? " mg-picked" : "";
        return { text: fmt(at4(x, n, u.ch, r, q)), cls: (e ? "mg-in-win" + (e.winner && !hidden ? " mg-winner" : "") : "") + picked };
      }, "mg-conv-in"));
    } else {
      var cv = MG.heat.map2d(x.data, (n * x.shape[1] + u.ch) * inH * inW, inH, inW, { size: 196, label: "input" });
      MG.heat.outline(cv, Object.keys(win).map(function (k) { var e = win[k]; return { i: e.r, j: e.c, color: "#e8590c", width: 1 }; }));
      inBox.appendChild(cv);
    }
    grids.appendChild(inBox);
    // kernel, or the pooling rule
    var kh = w.kernel ? w.kernel[0] : inH, kw = w.kernel ? w.kernel[1] : inW;
    if (conv) {
      var kBox = MG.h("div", { class: "mg-conv-kernel" }, [MG.h("div", { class: "mg-conv-cap", text: "kernel (weights of output channel " + o + ")" })]);
      kBox.appendChild(table(kh, kw, function (p, q) {
        return { text: fmt(u.cells[p * kw + q].k), cls: S.back && S.back.kind === "w" && S.back.p === p && S.back.q === q ? "mg-picked" : "" };
      }, "mg-conv-k"));
      if (res.bias !== null && res.bias !== undefined) kBox.appendChild(MG.h("div", { class: "mg-conv-cap", text: "bias " + fmt(res.bias) }));
      grids.appendChild(kBox);
    } else {
      grids.appendChild(MG.h("div", { class: "mg-conv-kernel" }, [MG.h("div", { class: "mg-conv-cap",
        text: w.kind.slice(-3) === "max" ? "window " + kh + "×" + kw + ": the largest value wins" :
          "window " + kh + "×" + kw + ": the mean" + (res.divisor ? " (÷ " + res.divisor + ")" : "") })]));
    }
    // products (or the window's values)
    var prod = MG.h("div", { class: "mg-conv-prod" }, [MG.h("div", { class: "mg-conv-cap",
      text: conv ? "input × kernel, element by element" : "values in the window" })]);
    prod.appendChild(table(kh, kw, function (p, q) {
      var e = u.cells[p * kw + q];
      if (!e || e.code !== 0) return { text: e && e.code === 1 ? "pad" : "–", cls: "mg-pad" };
      if (hidden && conv) return { text: "?", cls: "mg-hidden-val" };
      return { text: conv ? fmt(e.v * e.k) : fmt(e.v), cls: e.winner && !hidden ? "mg-winner" : "" };
    }, "mg-conv-products"));
    grids.appendChild(prod);
    // output, filled in up to the current window
    var oBox = MG.h("div", { class: "mg-conv-output" }, [MG.h("div", { class: "mg-conv-cap", text: "output channel " + o + " (" + H + "×" + W + ")" })]);
    var ocell = function (r, q) { return glob ? y.data[n * y.shape[1] + o] : at4(y, n, o, r, q); };
    var out;
    if (H <= TABLE_MAX && W <= TABLE_MAX) {
      out = table(H, W, function (r, q) {
        var k = r * W + q;
        var hide = k === S.frame && hidden;
        return { text: hide ? "?" : k <= S.frame ? fmt(ocell(r, q)) : "", cls: k === S.frame ? "mg-now" : k > S.frame ? "mg-later" : "" };
      }, "mg-conv-out");
      out.addEventListener("mouseover", function (ev) {
        var td = ev.target.closest && ev.target.closest("td");
        if (!td) return;
        stop();
        go(+td.getAttribute("data-i") * W + +td.getAttribute("data-j"));
      });
    } else {
      out = MG.heat.map2d(y.data, (n * y.shape[1] + o) * H * W, H, W, { size: 196, label: "output" });
      MG.heat.outline(out, [{ i: i, j: j, color: "#d6336c", width: 2 }]);
      out.addEventListener("mousemove", function (ev) {
        var b = out.getBoundingClientRect(), s = out.width / b.width;
        var q = Math.floor((ev.clientX - b.left) * s / out.cell), r = Math.floor((ev.clientY - b.top) * s / out.cell);
        if (r >= 0 && r < H && q >= 0 && q < W && r * W + q !== S.frame) { stop(); go(r * W + q); }
      });
    }
    oBox.appendChild(out);
    grids.appendChild(oBox);
    box.appendChild(grids);
    // controls
    var tools = MG.h("div", { class: "mg-conv-tools" });
    tools.appendChild(MG.h("button", { text: "◀ step", "aria-label": "step to the previous window", onclick: function () { stop(); go(S.frame - 1); } }));
    S.playBtn = MG.h("button", { class: "mg-conv-play", text: timer ? "❚❚ pause" : "▶ play", "aria-pressed": timer ? "true" : "false",
      onclick: function () { if (timer) stop(); else play(); } });
    tools.appendChild(S.playBtn);
    tools.appendChild(MG.h("button", { class: "mg-conv-next", text: "step ▶", "aria-label": "step to the next window", onclick: function () { stop(); go(S.frame + 1); } }));
    var slider = MG.h("input", { type: "range", min: "0", max: String(H * W - 1), value: String(S.frame), "aria-label": "window position",
      oninput: function () { stop(); go(+slider.value); } });
    tools.appendChild(slider);
    tools.appendChild(MG.h("span", { class: "mg-hint", text: "window " + (S.frame + 1) + " of " + H * W }));
    if (res.used.length > 1) {
      var sel = MG.h("select", { "aria-label": "input channel shown", onchange: function () { S.ch = +sel.value; render(); } });
      res.used.forEach(function (uu, k) { sel.appendChild(MG.h("option", { value: String(k), text: "input channel " + uu.ch })); });
      sel.value = String(S.ch);
      tools.appendChild(sel);
    }
    box.appendChild(tools);
    // the sum, written out, and the running sum
    var lines = [];
    if (res.groupText && res.used.length > 1) lines.push(res.groupText + " (only they are multiplied):");
    if (conv && res.used.length > 1) {
      var total = 0, per = [];
      res.used.forEach(function (uu) {
        var s = 0;
        uu.cells.forEach(function (e) { if (e.code === 0) s += e.v * e.k; });
        per.push(s);
        total += s;
      });
      var inWin = u.cells.filter(function (e) { return e.code === 0; });
      var chText = inWin.map(function (e) { return MG.term(e.v, 4) + "*" + MG.term(e.k, 4); });
      lines.push("input channel " + u.ch + ": " + MG.sumText(chText, per[S.ch], { limit: 1e9,
        scale: inWin.reduce(function (a, e) { return a + Math.abs(e.v * e.k); }, 0) }));
      lines.push("sum over the " + res.used.length + " input channels: " + MG.sumText(per.map(function (v) { return MG.term(v, 4); }),
        res.value, { bias: res.bias, limit: 1e9, scale: res.scale }));
    } else {
      lines.push(res.text);
    }
    if (conv || res.divisor) {
      var run = 0, steps = [];
      res.terms.forEach(function (v) { run += v; steps.push(MG.fmt(run, 4)); });
      if (res.bias !== null && res.bias !== undefined) steps.push(MG.fmt(run + res.bias, 4) + " (+ bias)");
      if (res.used.length === 1 && steps.length) lines.push("running sum: " + (steps.length > 16 ? steps.slice(0, 15).concat(["…", steps[steps.length - 1]]) : steps).join(" → "));
    }
    S.res = res;
    if (hidden) {
      box.appendChild(quizForm(outputPrompt(res), res.engine, qk, "output cell"));
    } else {
      var told = resultLine(qk, res.engine, "output cell");
      if (told) box.appendChild(told);
      box.appendChild(MG.h("pre", { class: "mg-conv-arith", text: lines.join("\n") }));
      box.appendChild(MG.h("p", { class: "mg-conv-engine", text: "engine's value: " + MG.fmt(MG.snap(res.engine, res.scale), 8) }));
    }
    if (t[c.output].grad && MG.gradCell) backward(box, conv, u);
  }

  /* Predict, then reveal: with MG.quiz.on a value stays hidden until the learner types a
     guess (an output cell with its products and sum; a gradient cell with its terms; a
     weight's next value after one SGD step); then the arithmetic, the gap and the score. */
  var Q = { on: false, revealed: {}, results: {}, right: 0, total: 0, lr: null };
  MG.quiz = Q;
  function score() { return Q.right + " of " + Q.total + " right"; }
  /* right: within 1% of the value (gradients are often small: an absolute margin would
     call 0 right for -0.0027), or within 1e-6 of a value that is 0 */
  function close(guess, engine) { return Math.abs(guess - engine) <= Math.max(0.01 * Math.abs(engine), 1e-6); }
  function outputPrompt(res) {
    var kind = S.call.window.kind;
    return kind === "conv" ? "Predict the hidden output cell (the sum of input × kernel" + (res.bias !== null && res.bias !== undefined ? " + bias" : "") + "): " :
      kind.slice(-3) === "max" ? "Predict the hidden output cell (the largest value in the window): " :
        "Predict the hidden output cell (the mean of the window): ";
  }
  /* a form asking for the value under key qk; `what` names it for screen readers; after a
     guess, `after` (default: draw the convolution view again) shows the answer */
  function quizForm(prompt, engine, qk, what, after) {
    var input = MG.h("input", { type: "text", inputmode: "decimal", class: "mg-quiz-guess", "aria-label": "your guess for the hidden " + what,
      placeholder: "your guess", size: "10" });
    var form = MG.h("form", { class: "mg-quiz", "data-quiz": what, onsubmit: function (ev) {
      ev.preventDefault();
      var guess = parseFloat(input.value.replace(",", ".").replace("\u2212", "-"));
      if (isNaN(guess)) { input.setAttribute("aria-invalid", "true"); MG.say("type a number"); return; }
      var ok = close(guess, engine);
      Q.total += 1;
      if (ok) Q.right += 1;
      Q.results[qk] = { guess: guess, ok: ok };
      Q.revealed[qk] = true;
      (after || render)();
      MG.say((ok ? "right" : "off by " + MG.fmt(guess - engine, 4)) + "; the value is " + MG.fmt(engine, 6));
    } }, [
      MG.h("label", {}, [prompt, input]),
      MG.h("button", { type: "submit", class: "mg-quiz-check", text: "check" }),
      MG.h("span", { class: "mg-hint mg-quiz-score", text: " score " + score() })
    ]);
    setTimeout(function () { if (document.activeElement === document.body || !document.activeElement) input.focus(); }, 0);
    return form;
  }
  function resultLine(qk, engine, what) {
    var done = Q.results[qk];
    if (!done) return null;
    return MG.h("p", { class: "mg-quiz-result " + (done.ok ? "mg-ok" : "mg-wrong"), role: "status", "data-quiz": what,
      text: "your guess " + MG.fmt(done.guess, 6) + ", the engine's value " + MG.fmt(engine, 6) + ": " +
        (done.ok ? "right" : "off by " + MG.fmt(done.guess - engine, 4)) + " · score " + score() });
  }
  function hiddenNow(qk) { return Q.on && !Q.revealed[qk]; }
  Q.ask = quizForm;  // the stepper (50_stepper.js) asks with the same form and score
  Q.told = resultLine;
  Q.hidden = hiddenNow;

  /* The backward of the same call: a kernel cell's weight gradient (dy sliding over x,
     summed over samples and positions, the largest terms first), an input cell's gradient
     (dy times the kernel over the windows that cover it; max pooling routes it to winners);
     for a tensor used by several ops, each one's contribution and their sum; for a weight,
     its next value after one SGD step. */
  function backward(box, conv, u) {
    var c = S.call, sec = MG.h("section", { class: "mg-conv-back", "aria-label": "backward" });
    sec.appendChild(MG.h("h4", { text: "Backward" }));
    sec.appendChild(MG.h("p", { class: "mg-hint", text: conv ?
      "Click a kernel cell: its weight gradient is dy sliding over the input. Click an input cell: the gradient it gets." :
      "Click an input cell: the gradient it gets (max pooling sends dy to each window's winner only)." }));
    var g = MG.h("div", { class: "mg-conv-grad" });
    sec.appendChild(g);
    box.appendChild(sec);
    if (!S.back) return;
    var work = MG.h("div");
    var r = S.back.kind === "w" ? MG.gradCell(work, c, 1, S.n, S.o, u.ch, [S.back.p, S.back.q])
      : MG.gradCell(work, c, 0, S.n, u.ch, S.back.r, S.back.q);
    var qk = S.layer.name + ":" + (S.back.kind === "w" ? "dW" : "dx") + ":" + (r ? r.index.join(",") : "");
    if (r && r.engine !== null && hiddenNow(qk)) {
      var head = work.querySelector("h4");
      if (head) g.appendChild(head);
      var shared = (G().tensors[r.tensor].contributions || []).length > 1 ? "this convolution's share of " : "";
      g.appendChild(quizForm(S.back.kind === "w" ?
        "Predict " + shared + "this weight's gradient (the sum of dy × input over every sample and window position): " :
        conv ? "Predict this input cell's gradient (the sum of dy × kernel over the windows that cover it): " :
          "Predict this input cell's gradient (the dy of the windows it won" + (c.window.kind === "max" ? "" : ", or its share of each window") + "): ",
      r.engine, qk, S.back.kind === "w" ? "weight gradient" : "input gradient"));
      return;
    }
    var told = r && r.engine !== null && resultLine(qk, r.engine, S.back.kind === "w" ? "weight gradient" : "input gradient");
    if (told) g.appendChild(told);
    while (work.firstChild) g.appendChild(work.firstChild);
    if (!r) return;
    contributions(sec, r);
    if (S.back.kind === "w") nextValue(sec, r);
  }

  /* a tensor used by several ops: each one's contribution at this cell, and their sum */
  function contributions(g, r) {
    var T = G().tensors[r.tensor], cbs = T && T.contributions;
    if (!cbs || !T.grad) return;
    var idx = r.index, sum = 0, lines = [], sizes = [];
    cbs.forEach(function (cb) {
      var a = MG.exactArr(cb.grad);
      if (!a) return;
      var v = MG.arrAt(a, idx);
      sum += v;
      sizes.push(v);
      var from = cb.call === S.call.key ? cb.from + " (this convolution)" : cb.from;
      lines.push(MG.term(v, 6) + "  from " + from);
    });
    var all = MG.exactArr(T.grad);
    if (!all || lines.length !== cbs.length) return;
    var total = MG.arrAt(all, idx);
    g.appendChild(MG.h("h4", { text: (T.name || "this tensor") + " is used by " + cbs.length + " ops: its gradient is the sum of their contributions" }));
    g.appendChild(MG.h("pre", { class: "mg-arith mg-contrib", text: "  " + MG.sumText(lines, sum, { sizes: sizes, sep: "\n+ ", limit: 1e9 }) }));
    g.appendChild(MG.h("p", { class: "mg-engine mg-contrib-total", text: "engine's gradient: " + MG.fmt(total, 8) }));
  }

  /* the weight's next value after one SGD step, w - lr * grad, in the weight's precision */
  function nextValue(g, r) {
    var T = G().tensors[r.tensor], wa = MG.exactArr(T.value), ga = MG.exactArr(T.grad);
    if (!wa || !ga) return;
    if (Q.lr === null) Q.lr = typeof G().lr === "number" ? G().lr : 0.1;
    var f32 = T.dtype === "float32", round = function (v) { return f32 ? Math.fround(v) : v; };
    var w = MG.arrAt(wa, r.index), gr = MG.arrAt(ga, r.index), lr = Q.lr;
    var step = round(round(lr) * gr), next = round(w - step);
    var where = (T.name || "weight") + "[" + r.index.join(", ") + "]";
    var box = MG.h("div", { class: "mg-next" });
    var lrIn = MG.h("input", { type: "number", step: "any", min: "0", value: String(lr), class: "mg-quiz-lr", "aria-label": "learning rate",
      onchange: function () { var v = parseFloat(lrIn.value); if (v >= 0) { Q.lr = v; render(); } } });
    box.appendChild(MG.h("h4", { text: "Next value after one SGD step" }));
    box.appendChild(MG.h("label", { class: "mg-hint" }, ["learning rate ", lrIn]));
    var qk = S.layer.name + ":next:" + r.index.join(",") + "@" + lr;
    if (hiddenNow(qk)) {
      box.appendChild(quizForm("Predict " + where + " after the step (w − lr × grad, with w = " + MG.fmt(w, 6) +
        ", grad = " + MG.fmt(gr, 6) + "): ", next, qk, "next weight value"));
    } else {
      var told = resultLine(qk, next, "next weight value");
      if (told) box.appendChild(told);
      box.appendChild(MG.h("pre", { class: "mg-arith mg-next-arith", text: where + ": SGD step, lr=" + MG.fmt(lr, 6) +
        "\nu = lr * grad = " + MG.fmt(lr, 6) + " * " + MG.term(gr, 6) + " = " + MG.fmt(step, 6) +
        "\nw = w - u = " + MG.fmt(w, 6) + " - " + MG.term(step, 6) + " = " + MG.fmt(next, 8) }));
    }
    g.appendChild(box);
  }
  function pickBack(ev) {
    var td = ev.target.closest && ev.target.closest("td"), tb = td && td.closest("table");
    if (!td || !S) return;
    var i = +td.getAttribute("data-i"), j = +td.getAttribute("data-j");
    if (tb.classList.contains("mg-conv-k")) S.back = { kind: "w", p: i, q: j };
    else if (tb.classList.contains("mg-conv-in")) S.back = { kind: "x", r: i, q: j };
    else return;
    render();
  }

  function go(k) {
    var F = S.outH * S.outW;
    S.frame = Math.max(0, Math.min(F - 1, k));
    S.visited[S.frame] = true;
    if (timer || S.starting) S.played.push(S.frame);
    render();
    var i = Math.floor(S.frame / S.outW), j = S.frame % S.outW;
    MG.url.set({ cell: [S.n, S.o, i, j].join(",") }, false);
    if (MG.netMark && S.outH * S.outW > 1) MG.netMark(S.layer.name, S.n, S.o, i, j);
    MG.say("window " + (S.frame + 1) + ": " + MG.fmt(S.res && S.res.engine, 6));
  }

  function play() {
    stop();
    S.played = [];
    S.starting = true;
    if (S.frame >= S.outH * S.outW - 1) go(0); else S.played.push(S.frame);
    S.starting = false;
    timer = setInterval(function () {
      if (S.frame >= S.outH * S.outW - 1) { stop(); return; }
      go(S.frame + 1);
    }, MG.convView.interval);
    S.playBtn.textContent = "❚❚ pause";
    S.playBtn.setAttribute("aria-pressed", "true");
  }

  function open(name, n, o, i, j, push) {
    var layer = layerByName(name);
    if (!layer || !layer.main) return false;
    var c = G().calls[layer.main], yEnc = G().tensors[c.output];
    c.key = layer.main;  // contributions name their call by key
    if (!c.window || !yEnc || !yEnc.value) return false;
    var y = MG.arr(yEnc.value), glob = c.window.kind.indexOf("global") === 0;
    stop();
    var slot = MG.views.network.slot;
    slot.textContent = "";
    var box = MG.h("section", { class: "mg-conv", id: "mg-conv", "aria-label": "how the cell was computed", onclick: pickBack });
    slot.appendChild(box);
    S = { layer: layer, call: c, n: n, o: o, ch: 0, box: box, outH: glob ? 1 : y.shape[2], outW: glob ? 1 : y.shape[3],
      visited: {}, played: [] };
    MG.url.set({ node: name, cell: [n, o, i, j].join(",") }, push);
    go(i * S.outW + j);
    box.scrollIntoView({ block: "nearest" });
    return true;
  }

  MG.setQuiz = function (on) {
    Q.on = !!on;
    var box = document.getElementById("mg-quiz-toggle");
    if (box) box.checked = Q.on;
    if (S) { stop(); render(); }
    MG.emit("quiz", { on: Q.on });
  };
  MG.convView = {
    open: open,
    interval: 600,
    state: function () { return S; },
    visited: function () { return S ? Object.keys(S.visited).length : 0; },
    play: function () { if (S) play(); },
    playing: function () { return !!timer; },
    stop: stop
  };

  MG.on("netcell", function (d) {
    open(d.layer.name, d.n, d.c, d.i, d.j, true);
  });
  MG.on("restore", function (st) {
    // a teacher's link (#node=conv1&cell=n,o,i,j) or the network view's own state; a graph
    // view's node of the same name is that view's business
    if (st.view && st.view !== "network") return;
    if (!st.node || !st.cell || !G() || !G().network || !layerByName(st.node)) return;
    var cell = st.cell.split(",").map(Number);
    if (cell.length !== 4 || cell.some(isNaN)) return;
    if (MG.state.view !== "network") MG.show("network");
    open(st.node, cell[0], cell[1], cell[2], cell[3], false);
  });
})(window.MG);
