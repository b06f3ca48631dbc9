/* minigrad explorer: the core every other static file builds on.

   MODULE PATTERN (every *.js file in static/ follows it; files load in sorted name order,
   all before MG.boot runs, so a file may use anything defined by a file sorted before it):

     (function (MG) {
       "use strict";
       MG.modules.myjob = {              // a module: one job, no view of its own
         init: function (payload) {...}  // called once by MG.boot, in sorted key order
       };
       MG.views.myview = {               // a view: one tab of the page
         title: "My view",               // the tab's label
         order: 50,                      // tabs sort by order (graph views 10-30)
         available: function (payload) { return !!payload.myview; },
         prepare: function (payload) {...}, // optional: a Promise MG.boot waits for first
         mount: function (el, payload) {...},   // build the view inside el, once
         show: function () {...},        // optional: the tab became visible
         key: function (event) {...}     // optional: a key press while visible; return true
       };                                //   when handled
     })(window.MG);

   Shared services (all on window.MG):
     MG.on(name, fn) / MG.emit(name, data)   events: "select" {view, id}, "view" {name},
                                             "step" {index}, "sample" {index}, "clear" {},
                                             "restore" {view, node, cell, step, frame}
     MG.h(tag, attrs, children)              make a DOM element (attrs: class, text, on*)
     MG.arr(enc)                             decode an encoded array -> {shape, data, ...}
     MG.num(v)                               decode a number (NaN/Infinity come as strings)
     MG.fmt(x, digits)                       a number as short text ("NaN", "-inf", 0.123,
                                             "1e-08"): numtext.num's rule, the same text
     MG.term(x, d), MG.sumText(parts, v, o)  a number after an operator ("(-1)"); a sum written
                                             out by the one set of rules (numtext.py's)
     MG.payload, MG.state                    the data and the page state (view, selection)
     MG.panel                                the details panel element (right side; a bottom
                                             sheet below 900 px)
     MG.say(text)                            read text out through the aria-live region
     MG.url.set({node: "conv2d"}, push)      state in the URL hash (see below); handlers of
                                             "restore" {view, node, cell, step, frame} apply it
   A view may also give keys: ["←/→ step"], the key hints shown while it is visible (list
   only keys its key() handles).
   Data never comes from the network: the payload is JSON embedded in the page.
*/
(function () {
  "use strict";
  var MG = {
    modules: {},
    views: {},
    state: { view: null, selected: null, sample: 0 },
    payload: null,
    handlers: {}
  };
  window.MG = MG;

  MG.on = function (name, fn) {
    (MG.handlers[name] = MG.handlers[name] || []).push(fn);
  };
  MG.emit = function (name, data) {
    (MG.handlers[name] || []).forEach(function (fn) { fn(data); });
  };

  MG.h = function (tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined) return;
      if (k === "text") el.textContent = v;
      else if (k === "class") el.className = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return el;
  };

  MG.num = function (v) {
    if (typeof v === "number") return v;
    if (v === "NaN") return NaN;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    return v === null || v === undefined ? null : Number(v);
  };

  /* the rule of numtext.num: at most `digits` significant digits (default 4), no trailing
     zeros, plain from 1e-4 up to 10^digits and in powers of ten outside ("-0.00027165",
     "1e-08", "1.235e+05": a signed exponent of two digits or more), rounded from the exact
     value half away from zero (toExponential's rule, which numtext.py follows too) */
  MG.fmt = function (x, digits) {
    x = MG.num(x);
    if (x === null) return "–";
    if (isNaN(x)) return "NaN";
    if (x === Infinity) return "inf";
    if (x === -Infinity) return "-inf";
    if (x === 0) return "0";
    var d = Math.max(1, Math.min(100, Math.floor(digits) || 4));
    var parts = Math.abs(x).toExponential(d - 1).split("e"), e = +parts[1];
    var ds = parts[0].replace(".", ""), sign = x < 0 ? "-" : "", frac;
    if (e < -4 || e >= d) {
      frac = ds.slice(1).replace(/0+$/, "");
      return sign + ds.charAt(0) + (frac ? "." + frac : "") + "e" + (e < 0 ? "-" : "+") +
        (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    var whole = e >= 0 ? ds.slice(0, e + 1) : "0";
    frac = (e >= 0 ? ds.slice(e + 1) : new Array(-e).join("0") + ds).replace(/0+$/, "");
    return sign + whole + (frac ? "." + frac : "");
  };

  /* Numbers in written-out arithmetic, the rules of numtext.py (Python) on the page:
     a negative number after an operator in parentheses ("0.4*(-1) + (-0.0623) (bias)"), the
     number opening a sum bare; a result within rounding noise of 0 (below NOISE times the
     sum of its terms' sizes) written 0; a long sum of gradient terms led by its largest
     terms (zeros left out), then "+ N more terms". */
  MG.NOISE = 1e-6;
  MG.term = function (x, digits) {
    var s = MG.fmt(x, digits);
    return s.charAt(0) === "-" ? "(" + s + ")" : s;
  };
  MG.snap = function (v, scale) {
    v = MG.num(v);
    return v !== 0 && isFinite(scale) && Math.abs(v) <= MG.NOISE * Math.abs(scale) ? 0 : v;
  };
  MG.lead = function (part) { return String(part).replace(/^\((-[^()]*)\)/, "$1"); };
  /* parts joined by " + " (or opts.sep), then " = value". opts: bias, sizes (the terms'
     values: long sums lead with the largest), scale, keep (6), limit (12), digits (6) */
  MG.sumText = function (parts, value, opts) {
    opts = opts || {};
    var keep = opts.keep || 6, limit = opts.limit || 12, d = opts.digits || 6, shown = parts.slice();
    var scale = opts.scale;
    if (opts.sizes) {
      var mags = Array.prototype.map.call(opts.sizes, function (v) { return Math.abs(v); });
      if (scale === undefined) {
        scale = mags.reduce(function (a, v) { return isNaN(v) ? a : a + v; }, 0) +
          (opts.bias === null || opts.bias === undefined ? 0 : Math.abs(opts.bias));
      }
      if (shown.length > limit) {
        var order = mags.map(function (v, k) { return k; }).sort(function (a, b) {
          var ma = isNaN(mags[a]) ? Infinity : mags[a], mb = isNaN(mags[b]) ? Infinity : mags[b];
          return mb - ma || a - b;
        }).slice(0, keep);
        var nz = order.filter(function (k) { return mags[k] !== 0; });
        order = nz.length ? nz : order.slice(0, 1);
        var rest = parts.length - order.length, zero = mags.every(function (v, k) { return v === 0 || order.indexOf(k) >= 0; });
        shown = order.map(function (k) { return parts[k]; }).concat([rest + " more terms" + (zero ? ", all 0" : "")]);
      }
    } else if (shown.length > limit) {
      shown = shown.slice(0, limit - 2).concat(["...", shown[shown.length - 1]]);
    }
    if (shown.length) shown[0] = MG.lead(shown[0]);
    var text = shown.length ? shown.join(opts.sep || " + ") : "0";
    if (opts.bias !== null && opts.bias !== undefined) text += (opts.sep || " + ") + MG.term(opts.bias, d) + " (bias)";
    var v = scale === undefined ? MG.num(value) : MG.snap(value, scale);
    return text + (opts.sep ? "\n= " : " = ") + MG.fmt(v, d);
  };

  var cache = new WeakMap();  // a live page swaps its data: old arrays may go
  /* An encoded array: {shape, dtype, b64} with little-endian float32/float64/int bytes,
     so NaN and infinities survive and the numbers are the engine's exactly. Decoded once.
     Pictures may come as uint8 levels {..., lo, hi, levels}: decoded to float32 values
     within half a level of the engine's, marked approx (never shown as numbers). */
  MG.TYPED = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array };
  MG.arr = function (enc) {
    if (!enc) return null;
    if (cache.has(enc)) return cache.get(enc);
    var bin = atob(enc.b64), n = bin.length, bytes = new Uint8Array(n);
    for (var i = 0; i < n; i++) bytes[i] = bin.charCodeAt(i);
    var out = MG.arrOf(enc, new (MG.TYPED[enc.dtype] || Float32Array)(bytes.buffer));
    cache.set(enc, out);
    return out;
  };
  /* what MG.arr returns for enc, given its elements as a typed array of the wire dtype */
  MG.arrOf = function (enc, data) {
    if (enc.levels) {  // a picture's uint8 levels between its exact min and max
      var lo = MG.num(enc.lo), step = (MG.num(enc.hi) - lo) / enc.levels, L = enc.levels;
      var vals = new Float32Array(data.length);
      for (var k = 0; k < data.length; k++) {
        var q = data[k];
        vals[k] = q <= L ? lo + q * step : q === L + 1 ? NaN : q === L + 2 ? Infinity : -Infinity;
      }
      data = vals;
    }
    return { shape: enc.shape, data: data, dtype: enc.levels ? "levels" : enc.dtype,
             index: enc.index || null, approx: !!enc.levels };
  };

  /* ---- screen readers: one polite live region; MG.say(text) reads text out ------------ */
  MG.say = function (text) {
    var live = document.getElementById("mg-live");
    if (!live) return;
    live.textContent = "";
    // a fresh text node each time, so the same sentence twice is read twice
    setTimeout(function () { live.textContent = text; }, 30);
  };

  /* ---- URL state: #view=..&node=..&cell=i,j,k,l&step=k&frame=k -------------------------
     MG.url.set({key: value}, push) writes the hash (push: a new history entry, so back and
     forward walk through views, nodes and cells; scrubbing steps and frames replaces it).
     Opening a page with a hash, and back/forward, call MG.url.restore: the view is shown,
     then every module's "restore" handler applies the rest. */
  var KEYS = ["view", "node", "cell", "step", "frame"];
  /* a name may hold a lone surrogate, which has no URL form: it travels as U+FFFD */
  function enc(s) {
    try { return encodeURIComponent(s); } catch (e) {
      return encodeURIComponent(s.toWellFormed ? s.toWellFormed() : s.replace(/[\uD800-\uDFFF]/g, "\uFFFD"));
    }
  }
  function dec(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }
  MG.url = {
    state: {},
    parse: function (hash) {
      var out = {};
      (hash || "").replace(/^#/, "").split("&").forEach(function (part) {
        var i = part.indexOf("=");
        if (i <= 0) return;
        var k = dec(part.slice(0, i)), v = dec(part.slice(i + 1));
        if (KEYS.indexOf(k) >= 0 && v !== "") out[k] = v;
      });
      return out;
    },
    text: function (st) {
      return "#" + KEYS.filter(function (k) { return st[k] !== undefined && st[k] !== null && st[k] !== ""; })
        .map(function (k) { return k + "=" + enc(String(st[k])).replace(/%2C/g, ","); }).join("&");
    },
    set: function (changes, push) {
      if (MG.url.restoring) return;
      var st = {}, self = MG.url;
      Object.keys(self.state).forEach(function (k) { st[k] = self.state[k]; });
      Object.keys(changes).forEach(function (k) {
        if (changes[k] === null || changes[k] === undefined) delete st[k]; else st[k] = String(changes[k]);
      });
      var text = self.text(st);
      if (text === self.text(self.state)) return;
      self.state = st;
      try {
        if (push) history.pushState(null, "", text); else history.replaceState(null, "", text);
      } catch (e) { /* a sandboxed frame without a URL of its own: state stays in the page */ }
    },
    restore: function (st) {
      MG.url.restoring = true;
      try {
        MG.url.state = st;
        var view = st.view && MG.viewNames.indexOf(st.view) >= 0 ? st.view : MG.viewNames[0];
        MG.show(view);
        st.view = view;
        MG.emit("restore", st);
      } finally { MG.url.restoring = false; }
    }
  };

  /* The views are a list: each MG.views entry that is available becomes a tab, sorted by
     `order`; a new view (say, a network of pictures) slots in by defining one more entry. */
  function buildTabs(root, payload) {
    var names = Object.keys(MG.views).filter(function (k) {
      return MG.views[k].available(payload);
    }).sort(function (a, b) { return (MG.views[a].order || 99) - (MG.views[b].order || 99); });
    var bar = MG.h("nav", { class: "mg-tabs", role: "tablist", "aria-label": "views" });
    var body = MG.h("div", { class: "mg-views" });
    names.forEach(function (name, i) {
      var view = MG.views[name];
      var pane = MG.h("section", { class: "mg-view", id: "mg-view-" + name, role: "tabpanel",
        "aria-labelledby": "mg-tab-" + name });
      var tab = MG.h("button", {
        class: "mg-tab", id: "mg-tab-" + name, role: "tab", text: view.title,
        "aria-controls": "mg-view-" + name,
        title: "Show " + view.title + (i < 9 ? " (key " + (i + 1) + ")" : ""),
        onclick: function () { MG.show(name, true); }
      });
      bar.appendChild(tab);
      body.appendChild(pane);
      view.pane = pane;
      view.tab = tab;
    });
    root.appendChild(bar);
    root.appendChild(body);
    MG.viewNames = names;
    return names;
  }

  /* the key hints of the header: only keys that work in the view shown */
  function keyHints(name) {
    var view = MG.views[name], parts = [];
    if (MG.viewNames.length > 1) parts.push("1-" + Math.min(9, MG.viewNames.length) + " views");
    if (view.keys) parts = parts.concat(typeof view.keys === "function" ? view.keys() : view.keys);
    if (view.clears) parts.push("Esc clear");
    return "keys: " + parts.join(" · ");
  }

  MG.show = function (name, push) {
    var prev = MG.state.view;
    MG.state.view = name;
    MG.viewNames.forEach(function (n) {
      var v = MG.views[n], on = n === name;
      v.pane.classList.toggle("mg-hidden", !on);
      v.tab.classList.toggle("mg-on", on);
      v.tab.setAttribute("aria-selected", on ? "true" : "false");
      if (on && !v.mounted) { v.mount(v.pane, MG.payload); v.mounted = true; }
    });
    if (MG.views[name].show) MG.views[name].show();
    if (MG.keysEl) MG.keysEl.textContent = keyHints(name);
    if (prev !== name) {
      MG.url.set({ view: name }, push);
      MG.emit("view", { name: name });
    }
  };

  /* Esc: clear the selection, the marks, the search and the panel */
  MG.clear = function () {
    MG.state.selected = null;
    MG.emit("clear", {});
    MG.url.set({ node: null, cell: null }, true);
  };

  /* Build the page. A view whose data must be made ready first (the timeline inflates its
     frames) has prepare(payload) returning a Promise: the page is built once all are done. */
  MG.boot = function (payload, title) {
    var waits = Object.keys(MG.views).map(function (k) {
      var v = MG.views[k];
      return v.prepare && (!v.available || v.available(payload)) ? v.prepare(payload) : null;
    }).filter(Boolean);
    if (!waits.length) return build(payload, title);
    return Promise.all(waits).then(function () { build(payload, title); }, function (err) {
      document.getElementById("mg-app").appendChild(MG.h("p", { class: "mg-error", role: "alert",
        text: "This page could not be shown: " + (err && err.message ? err.message : err) }));
      document.body.setAttribute("data-ready", "error");
      throw err;
    });
  };

  function build(payload, title) {
    MG.payload = payload;
    var app = document.getElementById("mg-app");
    MG.keysEl = MG.h("span", { class: "mg-keys", "aria-hidden": "true" });
    var head = MG.h("header", { class: "mg-head" }, [MG.h("h1", { text: title }), MG.keysEl]);
    app.appendChild(head);
    var main = MG.h("main", { class: "mg-main" });
    var left = MG.h("div", { class: "mg-left" });
    MG.panel = MG.h("div", { class: "mg-panel", id: "mg-panel", tabindex: "-1", role: "region", "aria-label": "details" }, [
      MG.h("p", { class: "mg-hint", text: "Click a node to see its values, gradient and arithmetic." })
    ]);
    var sheet = MG.h("aside", { class: "mg-sheet", "aria-label": "details panel" });
    var grow = MG.h("button", { class: "mg-sheet-toggle", text: "▲ larger details", "aria-expanded": "false",
      onclick: function () {
        var open = sheet.classList.toggle("mg-sheet-open");
        grow.textContent = open ? "▼ smaller details" : "▲ larger details";
        grow.setAttribute("aria-expanded", open ? "true" : "false");
      } });
    sheet.appendChild(grow);
    sheet.appendChild(MG.panel);
    main.appendChild(left);
    main.appendChild(sheet);
    app.appendChild(main);
    app.appendChild(MG.h("div", { id: "mg-live", class: "mg-sr", "aria-live": "polite", role: "status" }));
    Object.keys(MG.modules).sort().forEach(function (k) {
      if (MG.modules[k].init) MG.modules[k].init(payload);
    });
    var names = buildTabs(left, payload);
    if (!names.length) {
      left.appendChild(MG.h("p", { text: "Nothing to show: the page has no data." }));
      document.body.setAttribute("data-ready", "1");
      return;
    }
    document.addEventListener("keydown", function (ev) {
      var tag = (ev.target && ev.target.tagName) || "";
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
        if (ev.key === "Escape") ev.target.blur();
        return;
      }
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.target && ev.target.getAttribute && ev.target.getAttribute("data-keys") === "own") return;
      var digit = parseInt(ev.key, 10);
      if (digit >= 1 && digit <= names.length) { MG.show(names[digit - 1], true); ev.preventDefault(); return; }
      if (ev.key === "Escape") { MG.clear(); ev.preventDefault(); return; }
      var view = MG.views[MG.state.view];
      if (view && view.key && view.key(ev)) { ev.preventDefault(); return; }
      MG.emit("key", ev);
    });
    window.addEventListener("popstate", function () { MG.url.restore(MG.url.parse(location.hash)); });
    MG.url.restore(MG.url.parse(location.hash));
    MG.readyMs = performance.now();  // since navigation: what opening the page costs
    document.body.setAttribute("data-ready", "1");
  }
})();
