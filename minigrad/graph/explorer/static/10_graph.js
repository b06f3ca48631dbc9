/* Graph views: the Graphviz SVG laid out at export time, with pan/zoom, selection,
   clusters that collapse in place, and search. Views: forward, backward, both side by side.
   SVG nodes are matched to the data by their <title> (the drawing's node id, e.g. "op3"). */
(function (MG) {
  "use strict";

  function Pane(el, which) {
    var g = MG.payload.graph, self = this;
    this.which = which;
    this.data = g.views[which];
    this.el = el;
    this.nodes = {};      // id -> <g class="node">
    this.edges = [];      // index in data.edges -> <g class="edge">
    this.clusters = {};   // scope -> <g class="cluster">
    var holder = MG.h("div", { class: "mg-svg", tabindex: "0",
      "aria-label": which + " graph: drag to pan, wheel or +/- to zoom" });
    holder.innerHTML = this.data.svg.replace(/^[\s\S]*?(<svg)/, "$1");
    el.appendChild(holder);
    this.holder = holder;
    var svg = this.svg = holder.querySelector("svg");
    var vb = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
    this.base = vb;
    this.vb = vb.slice();
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    Array.prototype.forEach.call(svg.querySelectorAll("g.node"), function (n) {
      var t = n.querySelector("title"), id = t ? t.textContent : null;
      if (!id || !self.data.nodes[id]) return;
      self.nodes[id] = n;
      n.setAttribute("data-id", id);
      n.setAttribute("tabindex", "0");
      n.setAttribute("role", "button");
      n.setAttribute("aria-label", (self.data.nodes[id].label || id));
      n.addEventListener("click", function (ev) { ev.stopPropagation(); self.select(id); });
      n.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); self.select(id); }
      });
    });
    this.matchEdges(svg);
    Array.prototype.forEach.call(svg.querySelectorAll("g.cluster"), function (c) {
      var t = c.querySelector("title"), scope = t ? t.textContent.replace(/^cluster_/, "") : "";
      self.clusters[scope] = c;
      c.setAttribute("data-scope", scope);
      var label = c.querySelector("text");
      if (label) self.clusterLabel(label, scope);
    });
    this.titleNodes(svg);
    this.collapsed = {};
    this.panZoom();
  }

  /* make a cluster's name clickable: it folds and unfolds the cluster */
  Pane.prototype.clusterLabel = function (label, scope) {
    var self = this;
    label.classList.add("mg-cluster-label");
    label.setAttribute("tabindex", "0");
    label.setAttribute("role", "button");
    label.setAttribute("data-scope", scope);
    label.setAttribute("aria-label", "fold or unfold " + scope);
    label.addEventListener("click", function (ev) { ev.stopPropagation(); self.toggle(scope); });
    label.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); self.toggle(scope); }
    });
  };

  /* Drawings may name a cluster with a plain node (id "title_<k>") placed inside it rather
     than a cluster label: find the smallest cluster holding each such node. */
  Pane.prototype.titleNodes = function (svg) {
    var self = this;
    function box(el) { try { return el.getBBox(); } catch (e) { return null; } }
    Array.prototype.forEach.call(svg.querySelectorAll("g.node"), function (n) {
      var t = n.querySelector("title");
      if (!t || t.textContent.indexOf("title_") !== 0) return;
      var b = box(n), text = n.querySelector("text");
      if (!b || !text) return;
      var cx = b.x + b.width / 2, cy = b.y + b.height / 2, best = null, area = Infinity;
      Object.keys(self.clusters).forEach(function (scope) {
        var shape = self.clusters[scope].querySelector("path, polygon"), cb = shape && box(shape);
        if (cb && cx >= cb.x && cx <= cb.x + cb.width && cy >= cb.y && cy <= cb.y + cb.height &&
            cb.width * cb.height < area) { best = scope; area = cb.width * cb.height; }
      });
      if (best === null) return;
      n.classList.add("mg-title");
      n.setAttribute("data-scope", best);
      self.clusterLabel(text, best);
    });
  };

  Pane.prototype.matchEdges = function (svg) {
    // the drawing's edges, by "src->dst" title and order among parallel edges
    var byKey = {}, self = this;
    Array.prototype.forEach.call(svg.querySelectorAll("g.edge"), function (e) {
      var t = e.querySelector("title"), key = t ? t.textContent.replace("&#45;", "-") : "";
      (byKey[key] = byKey[key] || []).push(e);
    });
    (this.data.edges || []).forEach(function (ed, i) {
      var list = byKey[ed.src + "->" + ed.dst];
      var el = list && list.shift();
      self.edges[i] = el || null;
      if (el) el.setAttribute("data-edge", String(i));
    });
  };

  Pane.prototype.select = function (id) {
    MG.emit("select", { view: this.which, id: id });
  };

  /* open a module of the overview in the full forward graph, centred on its cluster */
  MG.openModule = function (scope) {
    MG.show("forward");
    var p = MG.panes.forward;
    if (!p) return;
    var ids = Object.keys(p.data.nodes).filter(function (id) { return p.inScope(id, scope); });
    p.mark("mg-match", ids);
    if (ids.length) p.focus(ids[0]);
  };

  Pane.prototype.mark = function (cls, ids) {
    var set = {};
    (ids || []).forEach(function (id) { set[id] = true; });
    var nodes = this.nodes;
    Object.keys(nodes).forEach(function (id) { nodes[id].classList.toggle(cls, !!set[id]); });
  };

  Pane.prototype.markEdges = function (cls, indices) {
    var set = {};
    (indices || []).forEach(function (i) { set[i] = true; });
    this.edges.forEach(function (e, i) { if (e) e.classList.toggle(cls, !!set[i]); });
  };

  Pane.prototype.inScope = function (id, scope) {
    var s = this.data.nodes[id].scope || "";
    return s === scope || s.indexOf(scope + "/") === 0;
  };

  /* Collapse a cluster in place: its nodes and inner edges hide, its box fills and says how
     many nodes it holds; the layout stays, so nothing jumps. */
  Pane.prototype.toggle = function (scope, force) {
    var on = force === undefined ? !this.collapsed[scope] : force, self = this;
    this.collapsed[scope] = on;
    var hidden = {};
    Object.keys(this.nodes).forEach(function (id) {
      var h = Object.keys(self.collapsed).some(function (s) {
        return self.collapsed[s] && self.inScope(id, s);
      });
      hidden[id] = h;
      self.nodes[id].classList.toggle("mg-folded", h);
    });
    (this.data.edges || []).forEach(function (ed, i) {
      var e = self.edges[i];
      if (e) e.classList.toggle("mg-folded", hidden[ed.src] && hidden[ed.dst]);
    });
    Object.keys(this.clusters).forEach(function (s) {
      var c = self.clusters[s];
      var folded = self.collapsed[s] && !Object.keys(self.collapsed).some(function (o) {
        return o !== s && self.collapsed[o] && s.indexOf(o + "/") === 0;
      });
      c.classList.toggle("mg-collapsed", !!folded);
      var inner = Object.keys(self.collapsed).some(function (o) {
        return self.collapsed[o] && s.indexOf(o + "/") === 0;
      });
      c.classList.toggle("mg-folded", inner);
      Array.prototype.forEach.call(self.svg.querySelectorAll('g.mg-title[data-scope="' + s.replace(/"/g, '\\"') + '"]'),
        function (tn) { tn.classList.toggle("mg-folded", inner); });
      var label = self.svg.querySelector('text.mg-cluster-label[data-scope="' + s.replace(/"/g, '\\"') + '"]');
      if (label) {
        if (!label.getAttribute("data-name")) label.setAttribute("data-name", label.textContent);
        var n = Object.keys(self.nodes).filter(function (id) { return self.inScope(id, s); }).length;
        label.textContent = (folded ? "▸ " : "") + label.getAttribute("data-name") +
          (folded ? " (" + n + " nodes)" : "");
      }
    });
  };

  Pane.prototype.toggleAll = function () {
    var scopes = Object.keys(this.clusters), self = this;
    var any = scopes.some(function (s) { return !self.collapsed[s]; });
    scopes.forEach(function (s) { self.collapsed[s] = any; });
    if (scopes.length) this.toggle(scopes[0], any);
  };

  Pane.prototype.apply = function () {
    this.svg.setAttribute("viewBox", this.vb.map(function (v) { return v.toFixed(2); }).join(" "));
  };

  Pane.prototype.zoom = function (factor, cx, cy) {
    var vb = this.vb;
    if (cx === undefined) { cx = vb[0] + vb[2] / 2; cy = vb[1] + vb[3] / 2; }
    var w = vb[2] / factor, h = vb[3] / factor;
    var min = this.base[2] / 50, max = this.base[2] * 4;
    if (w < min || w > max) return;
    this.vb = [cx - (cx - vb[0]) / factor, cy - (cy - vb[1]) / factor, w, h];
    this.apply();
  };

  /* the whole graph, centred, never magnified past 1.3x (a 4-node graph stays 4 nodes) */
  Pane.prototype.fit = function () {
    var r = this.holder.getBoundingClientRect(), b = this.base;
    var s = r.width && r.height ? Math.min(r.width / b[2], r.height / b[3]) : 1;
    if (s <= 1.3) { this.vb = b.slice(); this.apply(); return; }
    var w = r.width / 1.3, h = r.height / 1.3;
    this.vb = [b[0] + (b[2] - w) / 2, b[1] + (b[3] - h) / 2, w, h];
    this.apply();
  };

  /* First view: the whole graph when it is legible so, else its top at a readable scale
     (labels about 80% of their size) so a large network opens on something one can read. */
  Pane.prototype.start = function () {
    var r = this.holder.getBoundingClientRect();
    if (!r.width || !r.height) return this.fit();
    var s = Math.min(r.width / this.base[2], r.height / this.base[3]);
    if (s >= 0.6) return this.fit();
    var w = r.width / 0.8, h = r.height / 0.8;
    this.vb = [this.base[0] + (this.base[2] - w) / 2, this.base[1], w, h];
    this.apply();
  };

  Pane.prototype.pan = function (dx, dy) {
    this.vb[0] += dx * this.vb[2];
    this.vb[1] += dy * this.vb[3];
    this.apply();
  };

  /* Centre the view on a node (search, stepper), zooming in when the graph is large. */
  Pane.prototype.focus = function (id) {
    var n = this.nodes[id];
    if (!n || !n.getBBox) return;
    var b = n.getBBox(), cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    var gt = this.svg.querySelector("g.graph").transform.baseVal.consolidate();
    var m = gt ? gt.matrix : { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 };
    var x = m.a * cx + m.c * cy + m.e, y = m.b * cx + m.d * cy + m.f;
    var w = Math.min(this.vb[2], Math.max(this.base[2] / 3, 500));
    var h = w * this.base[3] / this.base[2];
    this.vb = [x - w / 2, y - h / 2, w, h];
    this.apply();
  };

  Pane.prototype.panZoom = function () {
    var self = this, svg = this.svg, drag = null;
    function point(ev) {
      var r = svg.getBoundingClientRect();
      var s = Math.max(self.vb[2] / r.width, self.vb[3] / r.height);
      var ox = (r.width * s - self.vb[2]) / 2, oy = (r.height * s - self.vb[3]) / 2;
      return [self.vb[0] - ox + (ev.clientX - r.left) * s, self.vb[1] - oy + (ev.clientY - r.top) * s, s];
    }
    this.holder.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = point(ev);
      self.zoom(ev.deltaY < 0 ? 1.2 : 1 / 1.2, p[0], p[1]);
    }, { passive: false });
    this.holder.addEventListener("mousedown", function (ev) {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, vb: self.vb.slice(), s: point(ev)[2], moved: false };
    });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) return;
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      self.vb = [drag.vb[0] - dx * drag.s, drag.vb[1] - dy * drag.s, drag.vb[2], drag.vb[3]];
      self.apply();
    });
    window.addEventListener("mouseup", function () { drag = null; });
    this.holder.addEventListener("keydown", function (ev) {
      if (ev.target !== self.holder) return;
      var step = { ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] }[ev.key];
      if (step) { self.pan(step[0], step[1]); ev.preventDefault(); ev.stopPropagation(); }
    });
  };

  MG.Pane = Pane;
  MG.panes = {};   // "forward" / "backward" -> the Pane shown in the active view

  function toolbar(panes) {
    var bar = MG.h("div", { class: "mg-toolbar" });
    function btn(text, title, fn) {
      bar.appendChild(MG.h("button", { text: text, title: title, onclick: fn }));
    }
    btn("fit", "Fit the graph (key 0)", function () { panes.forEach(function (p) { p.fit(); }); });
    btn("+", "Zoom in (key +)", function () { panes.forEach(function (p) { p.zoom(1.25); }); });
    btn("−", "Zoom out (key −)", function () { panes.forEach(function (p) { p.zoom(0.8); }); });
    btn("modules", "Collapse or expand every module cluster",
      function () { panes.forEach(function (p) { p.toggleAll(); }); });
    return bar;
  }

  function graphView(title, order, which) {
    return {
      title: title,
      order: order,
      available: function (payload) {
        return !!(payload.graph && which.every(function (w) { return payload.graph.views[w]; }));
      },
      mount: function (el) {
        var self = this;
        var bar = MG.h("div", { class: "mg-toolbar-row" });
        el.appendChild(bar);
        var row = MG.h("div", { class: "mg-panes mg-panes-" + which.length });
        el.appendChild(row);
        this.panes = which.map(function (w) {
          var box = MG.h("div", { class: "mg-pane" }, [MG.h("div", { class: "mg-pane-title", text: w })]);
          row.appendChild(box);
          return new Pane(box, w);
        });
        bar.appendChild(toolbar(this.panes));
        this.panes.forEach(function (p) { p.start(); });
        MG.emit("mounted", { view: this });
        this.panes.forEach(function (p) { MG.emit("pane", { pane: p, view: self }); });
      },
      show: function () {
        var self = this;
        MG.panes = {};
        this.panes.forEach(function (p) { MG.panes[p.which] = p; });
        MG.emit("panes", { view: self });
      },
      key: function (ev) {
        var k = ev.key;
        if (k === "+" || k === "=") { this.panes.forEach(function (p) { p.zoom(1.25); }); return true; }
        if (k === "-" || k === "_") { this.panes.forEach(function (p) { p.zoom(0.8); }); return true; }
        if (k === "0") { this.panes.forEach(function (p) { p.fit(); }); return true; }
        return false;
      }
    };
  }

  MG.views.forward = graphView("Forward", 10, ["forward"]);
  /* one node per module; first tab when the full graph is large (a LeNet step) */
  MG.views.modules = graphView("Modules", 15, ["modules"]);
  MG.views.modules.available = function (payload) {
    var g = payload.graph;
    if (!g || !g.views.modules) return false;
    this.order = Object.keys(g.views.forward.nodes).length > 40 ? 5 : 15;
    return true;
  };
  MG.views.backward = graphView("Backward", 20, ["backward"]);
  MG.views.both = graphView("Side by side", 30, ["forward", "backward"]);

  /* the nodes of another view that stand for the same op call or tensor */
  function twins(sel, pane) {
    var src = MG.payload.graph.views[sel.view].nodes[sel.id], out = [];
    Object.keys(pane.data.nodes).forEach(function (id) {
      var n = pane.data.nodes[id];
      if ((src.call && n.call === src.call) || (!src.call && !n.call && src.tensor && n.tensor === src.tensor)) out.push(id);
    });
    return out;
  }

  MG.on("select", function (sel) {
    MG.state.selected = sel;
    Object.keys(MG.panes).forEach(function (w) {
      var p = MG.panes[w];
      p.mark("mg-sel", w === sel.view ? [sel.id] : []);
      p.mark("mg-twin", w === sel.view ? [] : twins(sel, p));
    });
  });
})(window.MG);
