/* Playground (payload.playground, from minigrad.graph.Playground or `python -m minigrad
   playground`): the page made live. Paint input pixels (mouse, pen or touch) or type a cell's value,
   change a label, edit a kernel or weight value, press Step (or Play), Undo, Reset, set the
   learning rate. Every edit goes to Python, the engine recomputes forward and backward, and
   the page swaps in the new data in place: the selection stays, and what moved is marked
   (outlined cells, the "what changed" list, graph nodes ringed orange).

   Transports (payload.playground.transport):
     {kind: "http", url, token}  POST the edit as JSON to url, header X-Minigrad-Token
     {kind: "widget"}            postMessage {mg: "edit", id, edit} to the parent frame, which
                                 relays to Python and posts back {mg: "update", id, data};
                                 updates with id null come from edits made in Python.
   Other modules can listen to MG.on("update", fn(update)) after the data was swapped. */
(function (MG) {
  "use strict";
  var P = null, el = {}, ui = { sample: 0, channel: 0, brush: 1, mode: "paint", cell: null,
    param: null, filter: 0, elem: null, playing: false, busy: false };
  var pending = {}, nextId = 1, queue = [], lastMarks = {};

  /* ---- transport ----------------------------------------------------------------------- */
  function post(edit) {
    var t = P.transport || {};
    if (t.kind === "http") {
      return fetch(t.url, { method: "POST", headers: { "Content-Type": "application/json",
        "X-Minigrad-Token": t.token }, body: JSON.stringify(edit) }).then(function (r) {
        if (!r.ok) throw new Error("the playground server answered " + r.status);
        return r.json();
      });
    }
    if (t.kind === "widget" && window.parent !== window) {
      return new Promise(function (resolve) {
        var id = nextId++;
        pending[id] = resolve;
        window.parent.postMessage({ mg: "edit", id: id, edit: edit }, "*");
      });
    }
    return Promise.reject(new Error("this page is not connected to Python"));
  }

  window.addEventListener("message", function (ev) {
    var m = ev.data;
    if (!P || ev.source !== window.parent || !m || m.mg !== "update") return;
    if (m.id && pending[m.id]) { var f = pending[m.id]; delete pending[m.id]; f(m.data); }
    else if (m.data) apply(m.data);
  });

  /* one edit at a time, in order; resolves with the update (or {error}) */
  function send(edit) {
    return new Promise(function (resolve) {
      queue.push({ edit: edit, done: resolve });
      if (queue.length === 1) pump();
    });
  }
  function pump() {
    if (!queue.length) return;
    var job = queue[0];
    setBusy(true);
    post(job.edit).then(function (data) {
      if (data && data.error) status(data.error, true); else if (data) apply(data);
      job.done(data);
    }, function (err) {
      status(String(err && err.message || err), true);
      job.done({ error: String(err) });
    }).then(function () { queue.shift(); setBusy(queue.length > 0); pump(); });
  }

  /* ---- swapping in new data ------------------------------------------------------------ */
  function apply(up) {
    var g = MG.payload.graph, ng = up.graph;
    if (ng && g) {
      Object.keys(ng.views).forEach(function (v) {
        if (!g.views[v]) return;
        g.views[v].nodes = ng.views[v].nodes;    // the drawings (draw) stay: same graph
        g.views[v].edges = ng.views[v].edges;
      });
      Object.keys(ng).forEach(function (k) { if (k !== "views") g[k] = ng[k]; });
    }
    P = MG.payload.playground = up.playground;
    lastMarks = up.marks || {};
    markGraph(lastMarks);
    render();
    if (MG.state.selected) MG.emit("select", MG.state.selected);
    MG.emit("update", up);
  }
  MG.live = { send: send, apply: apply };
  MG.on("mounted", function () { markGraph(lastMarks); });  // a graph view opened later

  function markGraph(marks) {
    Object.keys(MG.views).forEach(function (name) {
      (MG.views[name].panes || []).forEach(function (pane) {
        var ids = Object.keys(pane.data.nodes).filter(function (id) {
          if (pane.data.nodes[id].call) return false;  // ring the tensors, not the ops
          var t = pane.data.nodes[id].tensor;
          return t && marks[t] && (pane.which === "backward" ? marks[t].grad !== undefined : marks[t].value !== undefined);
        });
        pane.mark("mg-changed", ids);
        Object.keys(pane.nodes).forEach(function (id) {
          var t = pane.data.nodes[id].tensor, m = t && marks[t];
          var d = m && (pane.which === "backward" ? m.grad : m.value);
          if (d !== undefined && d !== null) pane.nodes[id].setAttribute("data-moved", String(MG.num(d)));
          else pane.nodes[id].removeAttribute("data-moved");
        });
      });
    });
  }

  /* ---- helpers ------------------------------------------------------------------------- */
  function status(text, bad) {
    if (!el.status) return;
    el.status.textContent = text;
    el.status.classList.toggle("mg-pg-bad", !!bad);
  }
  function setBusy(on) {
    ui.busy = on;
    if (el.root) el.root.classList.toggle("mg-pg-busy", on);
  }
  function param(name) { return P.params.filter(function (p) { return p.name === name; })[0]; }
  function paramArrays(p) {
    if (p.tensor) {
      var t = MG.payload.graph.tensors[p.tensor];
      return { value: MG.arr(t.value), grad: MG.arr(t.grad) };
    }
    return { value: MG.arr(p.value), grad: MG.arr(p.grad) };
  }
  function flat(shape, idx) { var f = 0; for (var k = 0; k < idx.length; k++) f = f * shape[k] + idx[k]; return f; }
  function unflat(shape, f) {
    var idx = [];
    for (var d = shape.length - 1; d >= 0; d--) { idx.unshift(f % shape[d]); f = Math.floor(f / shape[d]); }
    return idx;
  }
  function changed(name) { return (P.changes && P.changes.arrays && P.changes.arrays[name]) || null; }
  /* outline the moved cells of `name` on canvases: pick(cellIndex) -> [canvasIndex, i, j] or null */
  function outlineMoved(canvases, name, pick) {
    var ch = changed(name), per = {};
    if (!ch) return;
    ch.cells.forEach(function (c) {
      var at = pick(c.index);
      if (at && canvases[at[0]]) (per[at[0]] = per[at[0]] || []).push({ i: at[1], j: at[2], color: "#f08c00" });
    });
    Object.keys(per).forEach(function (k) { MG.heat.outline(canvases[k], per[k]); });
  }
  function movedText(name) {
    var ch = changed(name);
    if (!ch) return "";
    return ch.count + " moved, max |Δ| " + MG.fmt(ch.max);
  }
  function button(text, title, fn, cls) {
    return MG.h("button", { text: text, title: title, class: cls || null, onclick: fn, type: "button" });
  }

  /* ---- the view ------------------------------------------------------------------------ */
  function controls() {
    var bar = MG.h("div", { class: "mg-pg-bar", role: "toolbar", "aria-label": "playground controls" });
    el.step = button("Step", "One optimizer step (key s)", function () { send({ op: "step", steps: 1 }); }, "mg-pg-step");
    el.play = button("Play", "Optimizer steps one after another until Pause (key p)", togglePlay, "mg-pg-play");
    el.undo = button("Undo", "Undo the last change (key u)", function () { send({ op: "undo" }); }, "mg-pg-undo");
    el.reset = button("Reset", "Back to the start (Undo takes it back)", function () { send({ op: "reset" }); }, "mg-pg-reset");
    el.lr = MG.h("input", { type: "number", step: "any", min: "0", class: "mg-pg-lr", "aria-label": "learning rate",
      onchange: function () {
        var v = Number(el.lr.value);
        if (v > 0 && isFinite(v)) send({ op: "lr", value: v }); else status("the learning rate must be a number > 0", true);
      } });
    el.loss = MG.h("span", { class: "mg-pg-loss", "aria-live": "polite" });
    el.status = MG.h("span", { class: "mg-pg-status", "aria-live": "polite" });
    [el.step, el.play, el.undo, el.reset, MG.h("label", {}, ["lr ", el.lr]), el.loss, el.status].forEach(function (c) { bar.appendChild(c); });
    return bar;
  }

  function togglePlay() {
    ui.playing = !ui.playing;
    el.play.textContent = ui.playing ? "Pause" : "Play";
    if (!ui.playing) return;
    (function loop() {
      if (!ui.playing) return;
      send({ op: "step", steps: 1 }).then(function (up) {
        if (up && up.error) { ui.playing = false; el.play.textContent = "Play"; return; }
        setTimeout(loop, 120);
      });
    })();
  }

  /* the input: one channel of one sample, painted with the mouse */
  function inputColumn() {
    var x = MG.arr(P.x), N = x.shape[0], C = x.shape.length === 4 ? x.shape[1] : 1;
    var col = MG.h("div", { class: "mg-pg-col mg-pg-input" });
    col.appendChild(MG.h("h3", { text: "input" }));
    if (x.shape.length !== 4) {
      col.appendChild(MG.heat.picture(P.x, { sample: ui.sample }));
      col.appendChild(MG.h("p", { class: "mg-hint", text: "painting needs an (N, C, H, W) input" }));
      return col;
    }
    var pick = MG.h("div", { class: "mg-pg-row" });
    if (N > 1) pick.appendChild(selectBox("sample", N, ui.sample, function (v) { ui.sample = v; render(); }));
    if (C > 1) pick.appendChild(selectBox("channel", C, ui.channel, function (v) { ui.channel = v; render(); }));
    col.appendChild(pick);
    var H = x.shape[2], W = x.shape[3], start = (ui.sample * C + ui.channel) * H * W;
    var lo = 0, hi = 1;
    for (var k = 0; k < H * W; k++) { var v = x.data[start + k]; if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
    var cv = MG.heat.map2d(x.data, start, H, W, { size: 216, cell: 24, range: [lo, hi] });
    cv.classList.add("mg-pg-canvas");
    cv.setAttribute("tabindex", "0");
    cv.setAttribute("role", "application");
    cv.setAttribute("aria-label", "input picture: drag to paint, arrows move the cell, Enter paints it");
    el.inputCanvas = cv;
    paintable(cv, H, W);
    col.appendChild(cv);
    outlineMoved([cv], "input", function (idx) {
      return idx[0] === ui.sample && idx[1] === ui.channel ? [0, idx[2], idx[3]] : null;
    });
    if (ui.cell) MG.heat.outline(cv, [{ i: ui.cell[0], j: ui.cell[1], color: "#1c7ed6", dash: true }]);
    var brush = MG.h("input", { type: "number", step: "any", value: String(ui.brush), class: "mg-pg-brush",
      "aria-label": "paint value", onchange: function () { ui.brush = Number(brush.value); } });
    var mode = MG.h("select", { "aria-label": "mouse mode", class: "mg-pg-mode",
      onchange: function () { ui.mode = mode.value; } }, [
      MG.h("option", { value: "paint", text: "drag to paint" }), MG.h("option", { value: "pick", text: "click to pick a cell" })]);
    mode.value = ui.mode;
    col.appendChild(MG.h("div", { class: "mg-pg-row" }, [MG.h("label", {}, ["value ", brush]), mode]));
    col.appendChild(cellEditor(x, C, H, W));
    var mv = movedText("input");
    if (mv) col.appendChild(MG.h("div", { class: "mg-pg-moved", text: mv }));
    return col;
  }

  function cellEditor(x, C, H, W) {
    var box = MG.h("div", { class: "mg-pg-row mg-pg-cell" });
    if (!ui.cell) { box.appendChild(MG.h("span", { class: "mg-hint", text: "pick a cell to type its value" })); return box; }
    var idx = [ui.sample, ui.channel, ui.cell[0], ui.cell[1]];
    var v = x.data[flat(x.shape, idx)];
    var inp = MG.h("input", { type: "number", step: "any", value: String(v), class: "mg-pg-cellvalue",
      "aria-label": "value of input cell " + idx.join(",") });
    inp.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); setInput([idx], Number(inp.value)); }
    });
    box.appendChild(MG.h("span", { text: "input[" + idx.join(", ") + "] = " }));
    box.appendChild(inp);
    box.appendChild(button("set", "Set this cell", function () { setInput([idx], Number(inp.value)); }));
    return box;
  }

  function setInput(cells, value) {
    if (!isFinite(value)) { status("a value must be a finite number", true); return; }
    send({ op: "set", name: "input", index: cells, value: value });
  }

  function paintable(cv, H, W) {
    var stroke = null;
    function cellAt(ev) {
      var b = cv.getBoundingClientRect(), s = cv.width / b.width;
      var j = Math.floor((ev.clientX - b.left) * s / cv.cell), i = Math.floor((ev.clientY - b.top) * s / cv.cell);
      return i >= 0 && i < H && j >= 0 && j < W ? [i, j] : null;
    }
    function add(c) {
      if (!c) return;
      var key = c[0] + "," + c[1];
      if (stroke.seen[key]) return;
      stroke.seen[key] = true;
      stroke.cells.push([ui.sample, ui.channel, c[0], c[1]]);
      var g = cv.getContext("2d");           // show the stroke at once; Python's data follows
      g.fillStyle = "rgba(240,140,0,0.55)";
      g.fillRect(c[1] * cv.cell, c[0] * cv.cell, cv.cell, cv.cell);
    }
    /* pointer events: a mouse, a pen or a finger paints the same way */
    cv.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) return;
      ev.preventDefault();
      var c = cellAt(ev);
      if (ui.mode === "pick") { if (c) { ui.cell = c; render(); } return; }
      stroke = { cells: [], seen: {} };
      if (cv.setPointerCapture) { try { cv.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic */ } }
      add(c);
    });
    cv.addEventListener("pointermove", function (ev) { if (stroke) add(cellAt(ev)); });
    function finish() {
      if (!stroke) return;
      var cells = stroke.cells;
      stroke = null;
      if (cells.length) setInput(cells, ui.brush);
    }
    cv.addEventListener("pointerup", finish);
    cv.addEventListener("pointercancel", finish);
    cv.addEventListener("lostpointercapture", finish);
    cv.addEventListener("keydown", function (ev) {
      var d = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[ev.key];
      if (d) {
        var c = ui.cell || [0, 0];
        ui.cell = [Math.max(0, Math.min(H - 1, c[0] + d[0])), Math.max(0, Math.min(W - 1, c[1] + d[1]))];
        ev.preventDefault(); ev.stopPropagation(); render(); focusCanvas();
      } else if ((ev.key === "Enter" || ev.key === " ") && ui.cell) {
        ev.preventDefault(); ev.stopPropagation();
        setInput([[ui.sample, ui.channel, ui.cell[0], ui.cell[1]]], ui.brush);
      }
    });
  }
  function focusCanvas() { if (el.inputCanvas) el.inputCanvas.focus(); }

  function selectBox(what, n, value, fn, names) {
    var s = MG.h("select", { "aria-label": what, class: "mg-pg-" + what,
      onchange: function () { fn(Number(s.value)); } });
    for (var k = 0; k < n; k++) s.appendChild(MG.h("option", { value: String(k), text: names ? names[k] : what + " " + k }));
    s.value = String(value);
    return MG.h("label", {}, [s]);
  }

  /* each layer's output for the chosen sample: a small network view */
  function layersColumn() {
    var col = MG.h("div", { class: "mg-pg-col mg-pg-layers" });
    col.appendChild(MG.h("h3", { text: "layers (sample " + ui.sample + ")" }));
    P.layers.forEach(function (L) {
      if (L.shape.length === 2 && /^flatten/.test(L.name)) return;   // the same numbers as the pool before
      var fig = MG.h("div", { class: "mg-pg-layer", "data-layer": L.name });
      var head = MG.h("div", { class: "mg-pg-layer-head" }, [MG.h("b", { text: L.name }),
        MG.h("span", { class: "mg-hint", text: " " + L.shape.join("×") })]);
      var mv = movedText(L.name);
      if (mv) head.appendChild(MG.h("span", { class: "mg-pg-moved", text: "  " + mv }));
      fig.appendChild(head);
      var a = MG.arr(L.value), s = Math.min(ui.sample, a.shape[0] - 1);
      if (a.shape.length === 4) {
        var pic = MG.heat.picture(L.value, { sample: s, size: 72, maxChannels: 16 });
        fig.appendChild(pic);
        outlineMoved(pic.canvases, L.name, function (idx) { return idx[0] === ui.sample ? [idx[1], idx[2], idx[3]] : null; });
      } else if (a.shape.length === 2) {
        var n = a.shape[1], row = Array.prototype.slice.call(a.data, s * n, s * n + n);
        fig.appendChild(MG.heat.picture({ shape: [n], dtype: "float64", b64: b64(row) }, { diverging: true }));
      }
      col.appendChild(fig);
    });
    return col;
  }
  function b64(values) {  // a row of numbers as an encoded float64 array (for MG.heat.picture)
    var buf = new Float64Array(values), bytes = new Uint8Array(buf.buffer), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }

  /* probabilities with class names, the label, and the label picker */
  function outputColumn() {
    var col = MG.h("div", { class: "mg-pg-col mg-pg-output" });
    col.appendChild(MG.h("h3", { text: "prediction (sample " + ui.sample + ")" }));
    var tgt = P.target[ui.sample];
    if (P.probabilities) {
      var pr = MG.arr(P.probabilities), C = pr.shape[1], base = ui.sample * C;
      var old = changed("probabilities"), olds = {};
      (old ? old.cells : []).forEach(function (c) { if (c.index[0] === ui.sample) olds[c.index[1]] = c.old; });
      var tbl = MG.h("table", { class: "mg-pg-probs" });
      for (var k = 0; k < C; k++) {
        var p = pr.data[base + k], truth = P.target_kind === "class" ? k === tgt : (k === 1) === (tgt >= 0.5);
        var bar = MG.h("div", { class: "mg-pg-bar-fill" + (truth ? " mg-pg-true" : "") });
        bar.style.width = (Math.max(0, Math.min(1, p)) * 100).toFixed(1) + "%";
        var delta = olds[k] !== undefined ? MG.h("span", { class: "mg-pg-delta", text: (p - olds[k] >= 0 ? " +" : " ") + MG.fmt(p - olds[k], 3) }) : null;
        tbl.appendChild(MG.h("tr", { "data-class": String(k) }, [
          MG.h("th", { text: P.classes[k] + (truth ? " ✓" : "") }),
          MG.h("td", { class: "mg-pg-barcell" }, [bar]),
          MG.h("td", { class: "mg-pg-prob", text: MG.fmt(p, 4) }, [delta])
        ]));
      }
      col.appendChild(tbl);
    } else {
      col.appendChild(MG.heat.picture(P.output, { sample: ui.sample }));
    }
    var label;
    if (P.target_kind === "class" && P.classes.length) {
      label = selectBox("label", P.classes.length, tgt, function (v) {
        send({ op: "set", name: "target", index: ui.sample, value: v });
      }, P.classes);
    } else {
      var inp = MG.h("input", { type: "number", step: "any", min: "0", max: "1", value: String(tgt), class: "mg-pg-label",
        "aria-label": "target", onchange: function () { send({ op: "set", name: "target", index: ui.sample, value: Number(inp.value) }); } });
      label = inp;
    }
    col.appendChild(MG.h("div", { class: "mg-pg-row" }, [MG.h("span", { text: "true label " }), label]));
    return col;
  }

  /* a parameter: a heatmap (a kernel for conv weights) with its gradient; click an element
     to see w, grad and the plain-SGD prediction, or type a new value */
  function weightsColumn() {
    var col = MG.h("div", { class: "mg-pg-col mg-pg-weights" });
    col.appendChild(MG.h("h3", { text: "weights" }));
    if (!ui.param || !param(ui.param)) ui.param = P.params[0].name;
    var p = param(ui.param), arrs = paramArrays(p), shape = p.shape;
    var sel = MG.h("select", { "aria-label": "parameter", class: "mg-pg-param",
      onchange: function () { ui.param = sel.value; ui.filter = 0; ui.elem = null; render(); } });
    P.params.forEach(function (q) {
      sel.appendChild(MG.h("option", { value: q.name, text: q.name + (q.key !== q.name ? " (" + q.key + ")" : "") + " " + q.shape.join("×") }));
    });
    sel.value = ui.param;
    var row = MG.h("div", { class: "mg-pg-row" }, [sel]);
    if (shape.length === 4) {
      ui.filter = Math.min(ui.filter, shape[0] * shape[1] - 1);
      var names = [];
      for (var o = 0; o < shape[0]; o++) for (var c = 0; c < shape[1]; c++) names.push("filter " + o + ", in ch " + c);
      row.appendChild(selectBox("kernel", names.length, ui.filter, function (v) { ui.filter = v; ui.elem = null; render(); }, names));
    }
    col.appendChild(row);
    if (shape.length === 4 && shape[2] * shape[3] <= 81) col.appendChild(kernelTable(p, arrs));
    else col.appendChild(weightPictures(p, arrs));
    col.appendChild(elementBox(p, arrs));
    var mv = movedText(p.name), mg = movedText(p.name + ".grad");
    if (mv) col.appendChild(MG.h("div", { class: "mg-pg-moved", text: "weights: " + mv }));
    if (mg) col.appendChild(MG.h("div", { class: "mg-pg-moved", text: "gradient: " + mg }));
    return col;
  }

  function kernelTable(p, arrs) {
    var shape = p.shape, o = Math.floor(ui.filter / shape[1]), c = ui.filter % shape[1];
    var moved = {};
    var ch = changed(p.name);
    (ch ? ch.cells : []).forEach(function (m) { if (m.index[0] === o && m.index[1] === c) moved[m.index[2] + "," + m.index[3]] = true; });
    var tbl = MG.h("table", { class: "mg-pg-kernel", "aria-label": p.name + " kernel " + o + ", " + c });
    for (var i = 0; i < shape[2]; i++) {
      var tr = MG.h("tr");
      for (var j = 0; j < shape[3]; j++) {
        (function (idx) {
          var f = flat(shape, idx), v = arrs.value.data[f], g = arrs.grad ? arrs.grad.data[f] : null;
          var inp = MG.h("input", { type: "number", step: "any", value: String(v), class: "mg-pg-w",
            "aria-label": p.name + "[" + idx.join(", ") + "]", "data-index": idx.join(","),
            onfocus: function () { ui.elem = idx; renderElement(p, arrs); } });
          inp.addEventListener("keydown", function (ev) {
            if (ev.key === "Enter") { ev.preventDefault(); setParam(p, idx, Number(inp.value)); }
          });
          inp.addEventListener("change", function () { setParam(p, idx, Number(inp.value)); });
          var td = MG.h("td", { class: moved[idx[2] + "," + idx[3]] ? "mg-pg-movedcell" : null }, [inp,
            MG.h("div", { class: "mg-pg-g", text: g === null ? "" : "∂ " + MG.fmt(g, 3) })]);
          if (ui.elem && ui.elem.join(",") === idx.join(",")) td.classList.add("mg-pg-on");
          tr.appendChild(td);
        })([o, c, i, j]);
      }
      tbl.appendChild(tr);
    }
    return tbl;
  }

  function weightPictures(p, arrs) {
    var shape = p.shape, box = MG.h("div", { class: "mg-side" });
    var sub = shape.length === 4 ? Math.floor(ui.filter / shape[1]) : 0;
    function onCell(cell) {
      var idx;
      if (shape.length === 1) idx = [cell.j];
      else if (shape.length === 2) idx = [cell.i, cell.j];
      else if (shape.length === 4) idx = [sub, cell.c, cell.i, cell.j];
      else idx = unflat(shape, 0);
      ui.elem = idx; render();
    }
    var enc = p.tensor ? MG.payload.graph.tensors[p.tensor] : p;
    var pv = MG.heat.picture(enc.value, { sample: sub, size: 160, onCell: onCell });
    box.appendChild(MG.h("div", { class: "mg-col" }, [MG.h("div", { class: "mg-cap", text: "value (click an element)" }), pv]));
    if (enc.grad) box.appendChild(MG.h("div", { class: "mg-col" }, [MG.h("div", { class: "mg-cap", text: "gradient" }),
      MG.heat.picture(enc.grad, { sample: sub, size: 160, diverging: true, onCell: onCell })]));
    if (ui.elem && pv.canvases.length) {
      var e = ui.elem, at = shape.length === 2 ? [0, e[0], e[1]] : shape.length === 4 ? [e[1], e[2], e[3]] : null;
      if (at && pv.canvases[at[0]]) MG.heat.outline(pv.canvases[at[0]], [{ i: at[1], j: at[2], color: "#1c7ed6" }]);
    }
    return box;
  }

  function elementBox(p, arrs) {
    el.element = MG.h("div", { class: "mg-pg-element", "aria-live": "polite" });
    renderElement(p, arrs);
    return el.element;
  }

  /* w, grad and what one plain SGD step will make of w: w - lr * grad, in float32 as the
     optimizer computes it (lr rounded to float32, the product rounded, the difference rounded) */
  function renderElement(p, arrs) {
    var box = el.element;
    if (!box) return;
    box.innerHTML = "";
    if (!ui.elem) { box.appendChild(MG.h("span", { class: "mg-hint", text: "pick an element to see its gradient and next step" })); return; }
    var f = flat(p.shape, ui.elem), w = arrs.value.data[f], g = arrs.grad ? arrs.grad.data[f] : null;
    var where = p.name + "[" + ui.elem.join(", ") + "]";
    var lines = [where + " = " + MG.fmt(w, 7), "gradient ∂loss/∂w = " + (g === null ? "none" : MG.fmt(g, 7))];
    if (g !== null && P.plain_sgd) {
      var f32 = Math.fround, next = f32(w - f32(f32(P.lr) * g));
      lines.push("next Step: w − lr · grad = " + MG.fmt(w, 7) + " − " + MG.fmt(P.lr) + " · " + MG.fmt(g, 7) + " = " + MG.fmt(next, 7));
    } else if (g !== null) {
      lines.push("next Step: " + P.optimizer + " (its state takes part: press Step and compare)");
    }
    lines.forEach(function (t) { box.appendChild(MG.h("div", { text: t })); });
    if (!p.shape.length || p.shape.length !== 4 || p.shape[2] * p.shape[3] > 81) {
      var inp = MG.h("input", { type: "number", step: "any", value: String(w), class: "mg-pg-elemvalue", "aria-label": "new value of " + where });
      inp.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); setParam(p, ui.elem, Number(inp.value)); } });
      box.appendChild(MG.h("div", { class: "mg-pg-row" }, ["set to ", inp, button("set", "Set this weight", function () { setParam(p, ui.elem, Number(inp.value)); })]));
    }
  }

  function setParam(p, idx, value) {
    if (!isFinite(value)) { status("a value must be a finite number", true); return; }
    var now = paramArrays(p).value;
    // Enter and the change event that follows (blur) would send it twice: the same value is no edit
    var same = now && (now.dtype === "float64" ? value : Math.fround(value)) === now.data[flat(p.shape, idx)];
    if (same) return;
    ui.elem = idx;
    send({ op: "set", name: p.name, index: [idx], value: value });
  }

  function changesList() {
    var box = MG.h("div", { class: "mg-pg-changes" });
    var ch = P.changes || {}, arrays = ch.arrays || {};
    box.appendChild(MG.h("h3", { text: "what changed: " + (ch.what || "–") }));
    var names = Object.keys(arrays);
    if (!names.length) { box.appendChild(MG.h("p", { class: "mg-hint", text: "nothing moved" })); return box; }
    var ul = MG.h("ul");
    names.forEach(function (n) {
      var a = arrays[n], top = a.cells[0];
      ul.appendChild(MG.h("li", { "data-name": n, text: n + ": " + a.count + " cell" + (a.count === 1 ? "" : "s") +
        ", max |Δ| " + MG.fmt(a.max) + (top ? "  (e.g. [" + top.index.join(", ") + "] " + MG.fmt(top.old, 5) + " → " + MG.fmt(top.new, 5) + ")" : "") }));
    });
    box.appendChild(ul);
    return box;
  }

  function render() {
    if (!el.body || !P) return;
    var x = MG.arr(P.x);
    ui.sample = Math.min(ui.sample, x.shape[0] - 1);
    var focused = document.activeElement && document.activeElement.getAttribute("aria-label");
    el.body.innerHTML = "";
    var grid = MG.h("div", { class: "mg-pg-grid" }, [inputColumn(), layersColumn(), outputColumn(), weightsColumn()]);
    el.body.appendChild(grid);
    el.body.appendChild(changesList());
    var L = P.changes && P.changes.loss;
    el.loss.textContent = "loss " + MG.fmt(P.loss, 6) +
      (L ? " (" + (L.delta >= 0 ? "+" : "") + MG.fmt(L.delta, 3) + ")" : "") +
      " · " + P.loss_name + " · step " + P.steps;
    el.loss.setAttribute("data-loss", String(MG.num(P.loss)));
    if (document.activeElement !== el.lr) el.lr.value = String(P.lr);
    el.undo.disabled = !P.undo;
    if (!(P.changes && P.changes.what)) status("");
    else status(P.changes.what);
    if (focused) {  // keep the keyboard where it was
      var again = el.body.querySelector('[aria-label="' + focused.replace(/"/g, '\\"') + '"]');
      if (again) again.focus();
    }
  }

  MG.views.playground = {
    title: "Playground",
    order: 1,
    available: function (payload) { return !!payload.playground; },
    mount: function (pane, payload) {
      P = payload.playground;
      el.root = MG.h("div", { class: "mg-pg" });
      el.root.appendChild(controls());
      el.body = MG.h("div", { class: "mg-pg-body" });
      el.root.appendChild(el.body);
      pane.appendChild(el.root);
      render();
      if (P.transport && P.transport.kind === "widget" && window.parent !== window) {
        window.parent.postMessage({ mg: "ready" }, "*");  // Python answers with the current data
      }
    },
    key: function (ev) {
      if (ev.key === "s") { send({ op: "step", steps: 1 }); return true; }
      if (ev.key === "u") { if (P.undo) send({ op: "undo" }); return true; }
      if (ev.key === "p") { togglePlay(); return true; }
      return false;
    }
  };
})(window.MG);
