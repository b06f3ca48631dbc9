/* Graph views: the graph laid out in the page by dagre (static/vendor, no Graphviz program
   needed) and drawn as SVG, with pan/zoom (wheel, drag, pinch, keys), selection, clusters
   that fold into one node (the graph is laid out again), and search. Views: forward,
   backward, both side by side. Graph nodes are <g class="node" data-id="op3"
   data-name="conv2d">: data-id keys the page's data, data-name is the name a person sees. */
(function (MG) {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var SANS = "Helvetica, Arial, sans-serif", MONO = "Menlo, Consolas, 'DejaVu Sans Mono', monospace";
  /* label line classes (see layout.py): font size in px, bold, monospaced */
  var LINE = { b: [13, true, false], t: [15, true, false], d: [12, false, false], v: [12, false, true],
    g: [12, false, true], n: [11.5, false, false], p: [11, false, false] };
  var measure = null;
  function textWidth(cls, text) {
    if (!measure) measure = document.createElement("canvas").getContext("2d");
    var f = LINE[cls] || LINE.p;
    measure.font = (f[1] ? "bold " : "") + f[0] + "px " + (f[2] ? MONO : SANS);
    return measure.measureText(text).width;
  }
  function lineHeight(cls) { return Math.round((LINE[cls] || LINE.p)[0] * 1.3); }
  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  MG.svgEl = el;
  /* the size of a block of label lines */
  function block(lines) {
    var w = 0, h = 0;
    lines.forEach(function (l) { w = Math.max(w, textWidth(l[0], l[1])); h += lineHeight(l[0]); });
    return [w, h];
  }
  /* lines as <text> elements centred on (0, 0) */
  function writeLines(g, lines, cls) {
    var h = block(lines)[1], y = -h / 2;
    lines.forEach(function (l) {
      var lh = lineHeight(l[0]);
      var t = el("text", { x: 0, y: (y + lh * 0.78).toFixed(1), "text-anchor": "middle", class: "mg-l mg-l-" + l[0] + (cls ? " " + cls : "") }, g);
      t.textContent = l[1] + " ";  // (SVG drops the space; read aloud, lines stay apart)
      y += lh;
    });
  }
  /* the size a node takes for its label and shape */
  function nodeSize(lines, shape) {
    var b = block(lines), w = b[0], h = b[1];
    if (shape === "circle") { var d = Math.max(30, Math.max(w, h) + 12); return [d, d]; }
    if (shape === "ellipse") return [Math.max(54, w * 1.25 + 20), Math.max(30, h * 1.3 + 6)];
    return [Math.max(40, w + 18), Math.max(26, h + 10)];
  }
  function rounded(w, h, r) {
    var x = -w / 2, y = -h / 2;
    return "M" + (x + r) + "," + y + "H" + (x + w - r) + "Q" + (x + w) + "," + y + " " + (x + w) + "," + (y + r) +
      "V" + (y + h - r) + "Q" + (x + w) + "," + (y + h) + " " + (x + w - r) + "," + (y + h) +
      "H" + (x + r) + "Q" + x + "," + (y + h) + " " + x + "," + (y + h - r) + "V" + (y + r) +
      "Q" + x + "," + y + " " + (x + r) + "," + y + "Z";
  }
  function ellipse(w, h) {
    var rx = w / 2, ry = h / 2;
    return "M" + (-rx) + ",0A" + rx + "," + ry + " 0 1,0 " + rx + ",0A" + rx + "," + ry + " 0 1,0 " + (-rx) + ",0Z";
  }
  /* the outline of a node of look `look` and size (w, h), centred on (0, 0) */
  function shapePaths(g, look, w, h) {
    var style = look.style || "", filled = style.indexOf("filled") >= 0;
    var round = style.indexOf("rounded") >= 0, per = Number(look.peripheries || 1);
    function one(dw) {
      var d = look.shape === "ellipse" || look.shape === "circle" ? ellipse(w + dw, h + dw)
        : rounded(w + dw, h + dw, round ? 6 : 1);
      return el("path", { d: d, fill: dw || !filled ? "none" : (look.fillcolor || "#fff"),
        stroke: look.color || "#495057", "stroke-width": style.indexOf("bold") >= 0 ? 2 : 1.2 }, g);
    }
    if (!filled) one(0).setAttribute("fill", "#fff");
    else one(0);
    if (per > 1) one(7);
    if (look.shape === "box3d") el("path", { d: "M" + (-w / 2 + 4) + "," + (-h / 2 - 4) + "H" + (w / 2 + 4) + "V" + (h / 2 - 4),
      fill: "none", stroke: look.color || "#495057" }, g);
  }

  function Pane(el0, which) {
    var g = MG.payload.graph, self = this;
    this.which = which;
    this.data = g.views[which];
    this.draw = this.data.draw;
    this.el = el0;
    this.nodes = {};      // id -> <g class="node">
    this.edges = [];      // index in data.edges -> <g class="edge">
    this.clusters = {};   // scope -> <g class="cluster">
    this.pos = {};        // id or "cluster:" + scope -> {x, y, w, h} after layout
    this.collapsed = {};
    var holder = MG.h("div", { class: "mg-svg", tabindex: "0", role: "group",
      "aria-label": which + " graph: drag or arrow keys to pan, wheel, pinch or +/- to zoom; Tab reaches the nodes" });
    el0.appendChild(holder);
    this.holder = holder;
    var svg = this.svg = el("svg", { xmlns: NS, preserveAspectRatio: "xMidYMid meet", class: "mg-graph-svg" }, holder);
    var root = this.root = el("g", { class: "graph" }, svg);
    this.layerClusters = el("g", { class: "mg-clusters" }, root);
    this.layerEdges = el("g", { class: "mg-edges" }, root);
    this.layerNodes = el("g", { class: "mg-nodes" }, root);
    this.build();
    this.layout();
    this.base = this.vb.slice();
    this.panZoom();
    if (window.ResizeObserver) new ResizeObserver(function () { self.resized(); }).observe(holder);
  }

  /* the pane changed size (window, bottom sheet): same scale, same centre */
  Pane.prototype.resized = function () {
    var r = this.holder.getBoundingClientRect();
    if (!r.width || !r.height) return;
    if (this.size && this.size[0] && this.size[1]) {
      var s = Math.min(this.size[0] / this.vb[2], this.size[1] / this.vb[3]);
      var cx = this.vb[0] + this.vb[2] / 2, cy = this.vb[1] + this.vb[3] / 2;
      this.vb = [cx - r.width / s / 2, cy - r.height / s / 2, r.width / s, r.height / s];
      this.apply();
    }
    this.size = [r.width, r.height];
  };

  /* the display name of each node: its label, numbered when several nodes share it */
  Pane.prototype.names = function () {
    var seen = {}, out = {}, nodes = this.data.nodes;
    this.draw.nodes.forEach(function (d) {
      var n = nodes[d.id], label = (n && n.label) || (d.lines[0] ? d.lines[0][1] : d.id);
      seen[label] = (seen[label] || 0) + 1;
      out[d.id] = seen[label] > 1 ? label + " #" + seen[label] : label;
    });
    return out;
  };

  Pane.prototype.build = function () {
    var self = this, D = this.draw, names = this.names();
    this.byName = {};
    this.nameOf = names;
    this.drawn = {};
    D.nodes.forEach(function (d) {
      var look = D.looks[d.look] || {}, size = nodeSize(d.lines, look.shape);
      var g = el("g", { class: "node", "data-id": d.id, "data-name": names[d.id], "data-look": d.look }, self.layerNodes);
      shapePaths(g, look, size[0], size[1]);
      writeLines(g, d.lines);
      self.drawn[d.id] = { d: d, g: g, w: size[0], h: size[1] };
      self.byName[names[d.id]] = d.id;
      if (!self.data.nodes[d.id]) return;   // drawn only (a folded run): not selectable
      self.nodes[d.id] = g;
      // its name is its visible text (a label that differs from what is seen confuses
      // speech input); a node whose text does not start with its name says it first
      var text = d.lines.map(function (l) { return l[1]; }).join(" ");
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.baseLabel = text.indexOf(names[d.id]) === 0 ? text : names[d.id] + " " + text;
      g.setAttribute("aria-label", g.baseLabel);
      g.addEventListener("click", function (ev) { ev.stopPropagation(); self.select(d.id); });
      g.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); self.select(d.id); }
      });
      g.addEventListener("focus", function () { self.reveal(d.id); });
    });
    D.edges.forEach(function (e, i) {
      var g = el("g", { class: "edge mg-e-" + e.look, "data-edge": String(i) }, self.layerEdges);
      el("path", { class: "mg-e-line", fill: "none" }, g);
      el("polygon", { class: "mg-e-head" }, g);
      if (e.lines.length) {
        var lb = el("g", { class: "mg-e-label" }, g);
        writeLines(lb, e.lines, "mg-l-e");
        e.size = block(e.lines);
      }
      e.g = g;
    });
    this.matchEdges();
    D.clusters.forEach(function (c) {
      var g = el("g", { class: "cluster", "data-scope": c.scope }, self.layerClusters);
      el("path", { class: "mg-c-box" }, g);
      var label = el("text", { class: "mg-cluster-label" }, g);
      label.textContent = c.title;
      self.clusters[c.scope] = g;
      self.clusterLabel(label, c.scope);
    });
    if (D.caption && D.caption.length) {
      this.caption = el("g", { class: "mg-caption" }, this.root);
      writeLines(this.caption, D.caption);
      this.captionSize = block(D.caption);
    }
  };

  /* the innermost folded scope that hides node `id`, or null */
  Pane.prototype.foldedScope = function (scope) {
    var best = null, self = this;
    Object.keys(this.collapsed).forEach(function (s) {
      if (self.collapsed[s] && scope && (scope === s || scope.indexOf(s + "/") === 0) &&
          (best === null || s.length < best.length)) best = s;
    });
    return best;
  };

  /* Lay the graph out with dagre (folded clusters as one node) and place every element. */
  Pane.prototype.layout = function () {
    var self = this, D = this.draw, dg = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    dg.setGraph({ rankdir: D.rankdir || "TB", nodesep: 22, ranksep: 30, edgesep: 12, marginx: 14, marginy: 14 });
    dg.setDefaultEdgeLabel(function () { return {}; });
    var stand = {};  // node id -> the id it is drawn as (itself or its folded cluster)
    D.clusters.forEach(function (c) {
      var outer = self.foldedScope(c.scope), key = "cluster:" + c.scope;
      if (outer && outer !== c.scope) return;   // inside a folded cluster: not drawn
      if (outer === c.scope) {
        var n = D.nodes.filter(function (d) { return self.inScopeOf(d.scope, c.scope); }).length;
        var t = "▸ " + c.title + " (" + n + " nodes)";
        dg.setNode(key, { width: textWidth("b", t) + 24, height: 34 });
      } else {
        dg.setNode(key, { paddingTop: 22 });
      }
      var parent = c.scope.indexOf("/") > 0 ? c.scope.slice(0, c.scope.lastIndexOf("/")) : null;
      if (parent) dg.setParent(key, "cluster:" + parent);
    });
    D.nodes.forEach(function (d) {
      var f = self.foldedScope(d.scope), info = self.drawn[d.id];
      stand[d.id] = f ? "cluster:" + f : d.id;
      info.g.classList.toggle("mg-folded", !!f);
      if (f) return;
      dg.setNode(d.id, { width: info.w, height: info.h });
      if (d.scope) dg.setParent(d.id, "cluster:" + d.scope);
    });
    D.edges.forEach(function (e, i) {
      var a = stand[e.src], b = stand[e.dst];
      e.hidden = a === b && a !== e.src;
      e.g.classList.toggle("mg-folded", e.hidden);
      if (e.hidden) return;
      dg.setEdge(a, b, e.size ? { width: e.size[0] + 6, height: e.size[1], labelpos: "r", labeloffset: 6 } : {}, "e" + i);
    });
    dagre.layout(dg);
    var box = [Infinity, Infinity, -Infinity, -Infinity];
    function grow(x0, y0, x1, y1) {
      box = [Math.min(box[0], x0), Math.min(box[1], y0), Math.max(box[2], x1), Math.max(box[3], y1)];
    }
    this.pos = {};
    dg.nodes().forEach(function (k) {
      var n = dg.node(k);
      if (!n || n.x === undefined) return;
      self.pos[k] = { x: n.x, y: n.y, w: n.width, h: n.height };
      grow(n.x - n.width / 2, n.y - n.height / 2, n.x + n.width / 2, n.y + n.height / 2);
    });
    dg.edges().forEach(function (k) {
      var e = dg.edge(k);
      (e.points || []).forEach(function (p) { grow(p.x, p.y, p.x, p.y); });
      if (e.x !== undefined && e.width) grow(e.x - e.width / 2, e.y - e.height / 2, e.x + e.width / 2, e.y + e.height / 2);
    });
    if (box[0] === Infinity) box = [0, 0, 60, 40];
    D.nodes.forEach(function (d) {
      var p = self.pos[d.id];
      if (p) self.drawn[d.id].g.setAttribute("transform", "translate(" + p.x.toFixed(1) + "," + p.y.toFixed(1) + ")");
    });
    D.clusters.forEach(function (c) {
      var g = self.clusters[c.scope], p = self.pos["cluster:" + c.scope], label = g.querySelector("text");
      g.classList.toggle("mg-folded", !p);
      if (!p) return;
      var folded = self.collapsed[c.scope] && self.foldedScope(c.scope) === c.scope;
      g.classList.toggle("mg-collapsed", !!folded);
      g.querySelector("path").setAttribute("d", "M" + (p.x - p.w / 2) + "," + (p.y - p.h / 2) + "h" + p.w + "v" + p.h + "h" + (-p.w) + "Z");
      var n = D.nodes.filter(function (d) { return self.inScopeOf(d.scope, c.scope); }).length;
      label.textContent = folded ? "▸ " + c.title + " (" + n + " nodes)" : c.title;
      label.setAttribute("x", (folded ? p.x : p.x - p.w / 2 + 8).toFixed(1));
      label.setAttribute("text-anchor", folded ? "middle" : "start");
      label.setAttribute("y", (folded ? p.y + 5 : p.y - p.h / 2 + 16).toFixed(1));
    });
    D.edges.forEach(function (e) {
      if (e.hidden) return;
      var de = dg.edge({ v: stand[e.src], w: stand[e.dst], name: "e" + D.edges.indexOf(e) });
      if (!de || !de.points) return;
      var pts = de.points.slice(), last = pts[pts.length - 1], prev = pts[pts.length - 2] || pts[0];
      var dx = last.x - prev.x, dy = last.y - prev.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
      var ux = dx / len, uy = dy / len, tip = { x: last.x, y: last.y }, back = { x: last.x - ux * 8, y: last.y - uy * 8 };
      pts[pts.length - 1] = back;
      var d = "M" + pts[0].x.toFixed(1) + "," + pts[0].y.toFixed(1);
      for (var k = 1; k < pts.length; k++) d += "L" + pts[k].x.toFixed(1) + "," + pts[k].y.toFixed(1);
      e.g.querySelector("path").setAttribute("d", d);
      e.g.querySelector("polygon").setAttribute("points", [tip, { x: back.x - uy * 4, y: back.y + ux * 4 },
        { x: back.x + uy * 4, y: back.y - ux * 4 }].map(function (p) { return p.x.toFixed(1) + "," + p.y.toFixed(1); }).join(" "));
      var lb = e.g.querySelector(".mg-e-label");
      if (lb && de.x !== undefined) lb.setAttribute("transform", "translate(" + de.x.toFixed(1) + "," + de.y.toFixed(1) + ")");
    });
    if (this.caption) {
      var top = this.captionSize[1] + 10, mid = (box[0] + box[2]) / 2;
      this.caption.setAttribute("transform", "translate(" + mid.toFixed(1) + "," + (box[1] - top / 2).toFixed(1) + ")");
      grow(mid - this.captionSize[0] / 2, box[1] - top, mid + this.captionSize[0] / 2, box[3]);
    }
    var m = 12;
    this.vb = [box[0] - m, box[1] - m, Math.max(box[2] - box[0] + 2 * m, 60), Math.max(box[3] - box[1] + 2 * m, 40)];
    this.apply();
  };

  /* make a cluster's name clickable: it folds and unfolds the cluster */
  Pane.prototype.clusterLabel = function (label, scope) {
    var self = this;
    label.setAttribute("tabindex", "0");
    label.setAttribute("role", "button");
    label.setAttribute("data-scope", scope);
    label.setAttribute("aria-label", "fold or unfold " + scope);
    label.addEventListener("click", function (ev) { ev.stopPropagation(); self.toggle(scope); });
    label.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); self.toggle(scope); }
    });
  };

  Pane.prototype.inScopeOf = function (s, scope) {
    s = s || "";
    return s === scope || s.indexOf(scope + "/") === 0;
  };

  /* the drawing's edges matched to the page's edge data by "src->dst", in order */
  Pane.prototype.matchEdges = function () {
    var byKey = {}, self = this;
    this.draw.edges.forEach(function (e) { (byKey[e.src + "->" + e.dst] = byKey[e.src + "->" + e.dst] || []).push(e.g); });
    (this.data.edges || []).forEach(function (ed, i) {
      var list = byKey[ed.src + "->" + ed.dst];
      var g = list && list.shift();
      self.edges[i] = g || null;
      if (g) g.setAttribute("data-index", String(i));
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
    return this.inScopeOf(this.data.nodes[id].scope, scope);
  };

  /* Fold a cluster into one node ("▸ conv1 (5 nodes)") or unfold it; the graph is laid out
     again, so a folded cluster takes the room of one node. */
  Pane.prototype.toggle = function (scope, force) {
    this.collapsed[scope] = force === undefined ? !this.collapsed[scope] : force;
    this.layout();
    this.base = this.vb.slice();
    MG.emit("layout", { pane: this });
  };

  Pane.prototype.toggleAll = function () {
    var scopes = Object.keys(this.clusters), self = this;
    var any = scopes.some(function (s) { return !self.collapsed[s]; });
    scopes.forEach(function (s) { self.collapsed[s] = any; });
    if (scopes.length) this.toggle(scopes[0], any);
  };

  Pane.prototype.apply = function () {
    var r = this.holder.getBoundingClientRect();
    if (r.width && r.height) this.size = [r.width, r.height];
    this.svg.setAttribute("viewBox", this.vb.map(function (v) { return v.toFixed(2); }).join(" "));
  };

  /* the scale of the picture: CSS pixels per graph unit */
  Pane.prototype.scale = function () {
    var r = this.holder.getBoundingClientRect();
    return r.width && r.height ? Math.min(r.width / this.vb[2], r.height / this.vb[3]) : 1;
  };

  Pane.prototype.zoom = function (factor, cx, cy) {
    var vb = this.vb;
    if (cx === undefined) { cx = vb[0] + vb[2] / 2; cy = vb[1] + vb[3] / 2; }
    var w = vb[2] / factor, h = vb[3] / factor;
    var big = Math.max(this.base[2], this.base[3]);
    if ((factor > 1 && Math.max(w, h) < 40) || (factor < 1 && Math.max(w, h) > big * 4)) return;
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

  /* First view: the whole graph when its text stays readable (at least 11 px: the scale is
     at least 1), else its top at scale 1, centred, so a large network opens on something one
     can read. */
  Pane.prototype.start = function () {
    var r = this.holder.getBoundingClientRect();
    if (!r.width || !r.height) return this.fit();
    var s = Math.min(r.width / this.base[2], r.height / this.base[3]);
    if (s >= 1) return this.fit();
    this.vb = [this.base[0] + (this.base[2] - r.width) / 2, this.base[1], r.width, r.height];
    this.apply();
  };

  /* a note beside a node ("16% dead", "2 of 3, |sum| 4.2"), one per class; its text is
     part of the node's name, so a screen reader says it too. No text: the note goes. */
  Pane.prototype.badge = function (id, cls, text) {
    var g = this.nodes[id], p = this.drawn[id];
    if (!g) return;
    var old = g.querySelector("text." + cls);
    if (old) old.remove();
    if (text) {
      var t = el("text", { x: (p.w / 2 + 4).toFixed(1), y: "4", class: cls }, g);
      t.textContent = text + " ";
    }
    var notes = Array.prototype.map.call(g.querySelectorAll("text.mg-badge, text.mg-partial"), function (t) { return t.textContent; });
    g.setAttribute("aria-label", g.baseLabel + (notes.length ? " " + notes.join(" ") : ""));
  };

  /* bring a node into view (keyboard focus, search) when any of it is outside */
  Pane.prototype.reveal = function (id) {
    var p = this.pos[id], vb = this.vb;
    if (!p) return;
    var r = this.holder.getBoundingClientRect(), s = this.scale();
    var w = r.width / (s || 1), h = r.height / (s || 1);  // the visible area, in graph units
    var x0 = vb[0] + vb[2] / 2 - w / 2, y0 = vb[1] + vb[3] / 2 - h / 2;
    if (p.x - p.w / 2 >= x0 && p.x + p.w / 2 <= x0 + w && p.y - p.h / 2 >= y0 && p.y + p.h / 2 <= y0 + h) return;
    this.vb = [p.x - vb[2] / 2, p.y - vb[3] / 2, vb[2], vb[3]];
    this.apply();
  };

  Pane.prototype.pan = function (dx, dy) {
    this.vb[0] += dx * this.vb[2];
    this.vb[1] += dy * this.vb[3];
    this.apply();
  };

  /* Centre the view on a node (search, stepper, URL), at a readable scale. */
  Pane.prototype.focus = function (id) {
    var p = this.pos[id];
    if (!p) return;
    var r = this.holder.getBoundingClientRect();
    var w = this.vb[2], h = this.vb[3];
    if (r.width && r.height && this.scale() < 1) { w = r.width; h = r.height; }
    this.vb = [p.x - w / 2, p.y - h / 2, w, h];
    this.apply();
  };

  /* Pan with a mouse or one finger, zoom with the wheel or two fingers (pointer events; the
     pane sets touch-action: none so the page does not scroll or zoom instead). */
  Pane.prototype.panZoom = function () {
    var self = this, svg = this.svg, drag = null, touches = {};
    function units(ev) {  // the graph point under the pointer, and graph units per CSS pixel
      var r = svg.getBoundingClientRect();
      var s = Math.max(self.vb[2] / r.width, self.vb[3] / r.height);
      var ox = (r.width * s - self.vb[2]) / 2, oy = (r.height * s - self.vb[3]) / 2;
      return [self.vb[0] - ox + (ev.clientX - r.left) * s, self.vb[1] - oy + (ev.clientY - r.top) * s, s];
    }
    this.holder.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = units(ev);
      self.zoom(ev.deltaY < 0 ? 1.2 : 1 / 1.2, p[0], p[1]);
    }, { passive: false });
    function pinch() {
      var ids = Object.keys(touches);
      if (ids.length < 2) return null;
      var a = touches[ids[0]], b = touches[ids[1]];
      return { d: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY),
        clientX: (a.clientX + b.clientX) / 2, clientY: (a.clientY + b.clientY) / 2 };
    }
    this.holder.addEventListener("pointerdown", function (ev) {
      if (ev.pointerType === "mouse" && ev.button !== 0) return;
      touches[ev.pointerId] = ev;
      var pz = pinch();
      drag = pz ? { pinch: pz } : { x: ev.clientX, y: ev.clientY, vb: self.vb.slice(), s: units(ev)[2] };
    });
    window.addEventListener("pointermove", function (ev) {
      if (!drag || !touches[ev.pointerId]) return;
      touches[ev.pointerId] = ev;
      if (drag.pinch) {
        var pz = pinch();
        if (!pz || !drag.pinch.d) return;
        var p = units(pz);
        self.zoom(pz.d / drag.pinch.d, p[0], p[1]);
        drag.pinch = pz;
        return;
      }
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      self.vb = [drag.vb[0] - dx * drag.s, drag.vb[1] - dy * drag.s, self.vb[2], self.vb[3]];
      self.apply();
    });
    function up(ev) {
      delete touches[ev.pointerId];
      if (!Object.keys(touches).length) drag = null;
      else if (drag && drag.pinch) { var k = Object.keys(touches)[0], t = touches[k];
        drag = { x: t.clientX, y: t.clientY, vb: self.vb.slice(), s: units(t)[2] }; }
    }
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
    this.holder.addEventListener("keydown", function (ev) {
      if (ev.target !== self.holder) return;
      var step = { ArrowUp: [0, -0.1], ArrowDown: [0, 0.1], ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0] }[ev.key];
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
        MG.emit("mounted", { view: this });
        this.panes.forEach(function (p) { MG.emit("pane", { pane: p, view: self }); });
        this.panes.forEach(function (p) { p.start(); });  // once the bars above are in
      },
      show: function () {
        var self = this;
        MG.panes = {};
        this.panes.forEach(function (p) { MG.panes[p.which] = p; });
        MG.emit("panes", { view: self });
        if (MG.state.selected) markSelection(MG.state.selected);  // no stale marks
        if (MG.panelOwner && MG.panelOwner !== "graph") {  // another view wrote the panel
          if (MG.state.selected) MG.emit("select", MG.state.selected);
          else MG.panel.replaceChildren(MG.h("p", { class: "mg-hint", text: "Click a node to see its values, gradient and arithmetic." }));
          MG.panelOwner = "graph";
        }
      },
      clears: true,
      keys: function () {
        var k = ["+/− zoom", "0 fit", "/ search"];
        var g = MG.payload.graph;
        if (which.indexOf("backward") >= 0 && g.steps && g.steps.length) k.push("←/→ Home End step");
        return k;
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

  function markSelection(sel) {
    Object.keys(MG.panes).forEach(function (w) {
      var p = MG.panes[w];
      p.mark("mg-sel", sel && w === sel.view ? [sel.id] : []);
      p.mark("mg-twin", !sel || w === sel.view ? [] : twins(sel, p));
    });
  }

  MG.on("select", function (sel) {
    MG.state.selected = sel;
    markSelection(sel);
    var pane = MG.panes[sel.view];
    MG.url.set({ node: pane ? pane.nameOf[sel.id] : null, cell: null }, true);
  });

  MG.on("clear", function () {
    markSelection(null);
    Object.keys(MG.panes).forEach(function (w) { MG.panes[w].mark("mg-match", []); });
    if (!MG.payload.graph) return;
    MG.panel.replaceChildren(MG.h("p", { class: "mg-hint", text: "Click a node to see its values, gradient and arithmetic." }));
    MG.say("selection cleared");
  });

  /* the state in the URL: step (backward stepper), then node, then cell */
  MG.on("restore", function (st) {
    if (!MG.payload.graph || !MG.views[MG.state.view] || !MG.views[MG.state.view].panes) return;
    if (MG.stepTo && (st.step !== undefined || MG.stepState.k)) MG.stepTo(Number(st.step) || 0);
    var cell = st.cell ? st.cell.split(",").map(Number) : null;
    if (cell && cell.length === 4 && cell[0] !== MG.state.sample) MG.state.sample = cell[0];
    var found = null;
    Object.keys(MG.panes).forEach(function (w) {
      var p = MG.panes[w], id = st.node && p.byName[st.node];
      if (id && p.nodes[id] && !found) found = [p, id];
    });
    if (!found) { if (MG.state.selected) MG.emit("clear", {}); return; }
    found[0].select(found[1]);
    found[0].reveal(found[1]);
    if (cell && MG.cellTarget) MG.cellTarget(cell);
  });
})(window.MG);
