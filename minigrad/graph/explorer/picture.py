"""A static picture of a page, for viewers that run no scripts (a notebook on GitHub).

A notebook keeps an explorer page as an ``<iframe srcdoc>`` (``text/html``), which needs
scripts; next to it goes this SVG (``image/svg+xml``) for viewers that show pictures only,
with a line saying where the interactive page is. For a graph page it is the page's first
view, the network view, for the first sample of the batch: one row per layer from the
input to the loss, every channel of a feature map as a picture on the page's colour scale
(the same blue-white-red where values are signed, light-to-dark blue where not) with the
layer's colour bar, flattened vectors as strips, a few units as bars, and the softmax
probabilities with the predicted class, the true label and the loss, numbers written as
the page writes them. The values are the page's own (the payload's encoded arrays); each
map is a small PNG inside the SVG, so nothing is fetched. A graph without layers (no
input found) gets its ops as a list of boxes. For a timeline page it is the loss curve.

>>> svg = timeline_picture({"losses": [2.0, 1.0, 0.5], "kept": [0, 3], "recorded": 4}, "run")
>>> svg.startswith("<svg") and "polyline" in svg
True
>>> colors(np.array([-2.0, 0.0, 1.0]), -2.0, 2.0, diverging=True).tolist()
[[33, 102, 172], [255, 255, 255], [217, 140, 149]]
>>> png(np.zeros((1, 2, 3), np.uint8))[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import base64
import html
import math
import struct
import zlib
from typing import Any

import numpy as np

from ...numtext import num
from . import encode

__all__ = ["colors", "decode", "graph_picture", "png", "timeline_picture"]

_FONT = 'font-family="Helvetica, Arial, sans-serif"'
_MONO = 'font-family="Menlo, Consolas, DejaVu Sans Mono, monospace"'
_NOTE = "A static picture: open the page with scripts on for the interactive explorer."
_INK, _GREY, _LINE = "#212529", "#495057", "#dee2e6"
_BOLD = 'font-weight="bold"'


def _text(x: float, y: float, text: str, size: int = 13, extra: str = "", fill: str = _INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" {_FONT} fill="{fill}" {extra}>'
        f"{html.escape(text)}</text>"
    )


def _mono(x: float, y: float, text: str, size: int = 11, extra: str = "", fill: str = _INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" {_MONO} fill="{fill}" {extra}>'
        f"{html.escape(text)}</text>"
    )


def _rich(x: float, y: float, size: int, parts: list[tuple[str, str]], extra: str = "") -> str:
    """One line of text whose parts may be styled: ``(text, attributes)``, bold parts etc."""
    body = "".join(
        f"<tspan {attrs}>{html.escape(t)}</tspan>" if attrs else html.escape(t)
        for t, attrs in parts
    )
    where = f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" {_FONT} fill="{_INK}" {extra}'
    return f"<text {where}>{body}</text>"


def _rect(x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" {extra}/>'


def _width(text: str, size: float, bold: bool = False) -> float:
    """About how wide ``text`` is in the sans-serif font (for laying out, not measuring)."""
    return len(text) * size * (0.6 if bold else 0.5)


# ---- the page's colour scales (static/30_heatmap.js), arrays and pictures ----------------

_SEQ_LO, _SEQ_HI = np.array([247, 251, 255.0]), np.array([8, 48, 107.0])  # light -> dark blue
_NEG, _POS = np.array([33, 102, 172.0]), np.array([178, 24, 43.0])  # -1 blue, +1 red


def colors(values: np.ndarray, lo: float, hi: float, diverging: bool) -> np.ndarray:
    """The page's colour of each value, ``(..., 3)`` uint8: on the diverging scale white at
    0 and full blue/red at -hi/+hi; else light blue at ``lo`` to dark blue at ``hi``. NaN is
    magenta and +-inf black, rounded as the page rounds (half up)."""
    v = np.asarray(values, dtype=np.float64)[..., None]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if diverging:
            t = v / hi if hi > 0 else np.zeros_like(v)
            s = np.minimum(1.0, np.abs(t))
            c = np.where(t < 0, _NEG, _POS)
            out = np.floor(255 + (c - 255) * s + 0.5)
        else:
            t = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
            out = np.floor(_SEQ_LO + (_SEQ_HI - _SEQ_LO) * t + 0.5)
    out = np.where(np.isinf(v), 0.0, out)
    out = np.where(np.isnan(v), np.array([255.0, 0, 255]), out)
    return np.clip(out, 0, 255).astype(np.uint8)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png(rgb: np.ndarray) -> bytes:
    """An ``(H, W, 3)`` uint8 picture as PNG bytes (8-bit RGB, rows unfiltered)."""
    h, w = rgb.shape[:2]
    rows = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + _chunk(b"IEND", b"")
    )


def _num(v: Any) -> float:
    """A number of the payload (non-finite ones come as "NaN", "Infinity", "-Infinity")."""
    return float({"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v))


def decode(enc: dict[str, Any] | None) -> np.ndarray | None:
    """An encoded array of the payload (``{shape, dtype, b64}``, see ``encode.array``) as
    float64, read as the page reads it (``MG.arr``; uint8 levels to float32 values).

    >>> decode(encode.array(np.array([[0.5, -np.inf]], np.float32))).tolist()
    [[0.5, -inf]]
    """
    if not enc:
        return None
    a = encode.raw(enc)
    out = a.astype(np.float64)
    if enc.get("levels"):
        levels, lo = int(enc["levels"]), _num(enc["lo"])
        step = (_num(enc["hi"]) - lo) / levels
        special = np.where(
            a == levels + 1, math.nan, np.where(a == levels + 2, math.inf, -math.inf)
        )
        out = np.where(a <= levels, lo + out * step, special).astype(np.float32).astype(np.float64)
    return out.reshape(enc["shape"])


def _range(a: np.ndarray, n: int) -> tuple[float, float]:
    """[lo, hi] of the finite values of sample ``n`` (all of an array of fewer than 2 axes)."""
    flat = a.reshape(-1)
    if a.ndim >= 2 and a.shape[0]:
        per = flat.size // a.shape[0]
        flat = flat[n * per : (n + 1) * per]
    finite = flat[np.isfinite(flat)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def _image(x: float, y: float, w: float, h: float, rgb: np.ndarray, extra: str = "") -> str:
    data = base64.b64encode(png(rgb)).decode("ascii")
    return (
        f'<image x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'preserveAspectRatio="none" image-rendering="optimizeSpeed" '
        f'style="image-rendering:pixelated" {extra} href="data:image/png;base64,{data}"/>'
    )


# ---- the network view ------------------------------------------------------------------

_WIDTH, _MARGIN, _PAD, _GAP = 900, 12, 8, 4
_INNER = _WIDTH - 2 * _MARGIN - 2 * _PAD
_MAX_CHANNELS = 64  # a layer with more shows its first 64 and says how many more
_KIND = {"conv": "convolution", "pool": "pooling", "activation": "activation",
         "dense": "fully connected", "flatten": "flatten", "softmax": "softmax",
         "loss": "loss", "op": "op", "input": "input"}  # fmt: skip


def _shape_text(shape: list[int]) -> str:
    if len(shape) == 4:
        return f"{shape[1]} {'map' if shape[1] == 1 else 'maps'} {shape[2]}×{shape[3]}"
    if len(shape) == 2:
        return f"{shape[1]} units"
    if not shape:
        return "one number"
    return f"shape ({', '.join(map(str, shape))})"


def _tile(channels: int, side: int) -> int:
    """The tile size of a layer's maps: large, on one line when it can be, at most a few."""
    top = 128 if channels == 1 else 96
    for lines, least in ((1, 48), (2, 32), (3, 24)):
        for t in range(top, least - 1, -2):
            if math.ceil(channels / max(1, (_INNER + _GAP) // (t + _GAP))) <= lines:
                return side * (t // side) if side <= t else t
    return side * (24 // side) if side <= 24 else 24


class _Drawing:
    """SVG pieces and the height used so far."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.y = 0.0

    def add(self, piece: str) -> None:
        self.out.append(piece)


def _color_bar(d: _Drawing, right: float, y: float, r: tuple[float, float], div: bool) -> None:
    """The page's colour bar (48 steps from lo to hi) ending at ``right``, labels beside."""
    lo, hi = (-max(abs(r[0]), abs(r[1])), max(abs(r[0]), abs(r[1]))) if div else r
    vals = np.array([lo + (hi - lo) * k / 47 for k in range(48)])
    top = hi if not div else max(abs(lo), abs(hi))
    hi_text, lo_text = num(hi, 3), num(lo, 3)
    x_hi = right - _width(hi_text, 11)
    d.add(_text(right, y + 9, hi_text, 11, 'text-anchor="end" class="mg-cbar-hi"', _GREY))
    d.add(_image(x_hi - 100, y, 96, 10, colors(vals, lo, top, div)[None], 'class="mg-cbar"'))
    d.add(_text(x_hi - 104, y + 9, lo_text, 11, 'text-anchor="end" class="mg-cbar-lo"', _GREY))


def _maps(d: _Drawing, name: str, a: np.ndarray, n: int, x0: float, index: Any) -> None:
    """Every channel of sample ``n`` of an (N, C, H, W) array as a picture, in a grid."""
    C, H, W = a.shape[1:]
    r = _range(a, n)
    div = r[0] < 0 < r[1]
    hi = max(abs(r[0]), abs(r[1])) if div else r[1]
    side = max(H, W)
    tile = _tile(min(C, _MAX_CHANNELS), side)
    w, h = tile * W / side, tile * H / side
    cap = 12 if tile >= 36 and C > 1 else 0
    per_line = max(1, (_INNER + _GAP) // (tile + _GAP))
    pix = colors(a[n], r[0], hi, div)  # (C, H, W, 3)
    channels = index[1] if index else list(range(C))
    for c in range(min(C, _MAX_CHANNELS)):
        gx = x0 + (c % per_line) * (tile + _GAP)
        gy = d.y + (c // per_line) * (tile + cap + _GAP)
        label = f'data-layer="{html.escape(name)}" data-channel="{channels[c]}"'
        d.add(_rect(gx - 0.5, gy - 0.5, w + 1, h + 1, "none", f'stroke="{_LINE}"'))
        d.add(_image(gx, gy, w, h, pix[c], label))
        if cap:
            d.add(
                _text(
                    gx + w / 2, gy + h + 10, f"ch {channels[c]}", 10, 'text-anchor="middle"', _GREY
                )
            )
    lines = math.ceil(min(C, _MAX_CHANNELS) / per_line)
    d.y += lines * (tile + cap + _GAP) - _GAP
    if C > _MAX_CHANNELS:
        d.y += 14
        d.add(_text(x0, d.y, f"and {C - _MAX_CHANNELS} more channels on the page", 11, "", _GREY))


def _strip(d: _Drawing, name: str, a: np.ndarray, n: int, x0: float) -> None:
    """A vector of many values as a strip of cells, a row of up to about 64."""
    F = a.shape[1]
    vals = a[n]
    r = _range(a, n)
    div = r[0] < 0 < r[1]
    width = min(F, 64)
    for delta in range(width // 2 + 1):  # a row length that divides F: no empty cells
        if F % (width - delta) == 0:
            width -= delta
            break
    rows = math.ceil(F / width)
    cell = max(2, min(12, _INNER // width, 160 // rows))
    grid = np.full(rows * width, math.nan)
    grid[:F] = vals
    pix = colors(grid, r[0], max(abs(r[0]), abs(r[1])) if div else r[1], div).reshape(
        rows, width, 3
    )
    pix.reshape(-1, 3)[F:] = 255  # cells past the last value stay white
    d.add(_image(x0, d.y, width * cell, rows * cell, pix, f'data-layer="{html.escape(name)}"'))
    d.add(_text(x0 + width * cell + 8, d.y + 11, f"{F} values", 11, "", _GREY))
    d.y += rows * cell


def _bars(d: _Drawing, a: np.ndarray, n: int, x0: float, names: list[str] | None) -> None:
    """A few units as bars from the middle: red for positive, blue for negative values."""
    F = a.shape[1]
    vals = a[n]
    r = _range(a, n)
    m = max(abs(r[0]), abs(r[1])) or 1.0
    track_x, track_w = x0 + 76, 240
    for u in range(F):
        v, y = float(vals[u]), d.y + u * 15
        label = names[u] if names else str(u)
        d.add(_text(track_x - 6, y + 10, label, 12, 'text-anchor="end"'))
        d.add(_rect(track_x, y + 1, track_w, 10, "#f1f3f5"))
        pct = min(50.0, abs(v) / m * 50) if math.isfinite(v) else 0.0
        left = track_x + track_w * ((50 - pct) if v < 0 else 50) / 100
        fill = "#2166ac" if v < 0 else "#b2182b"
        d.add(_rect(left, y + 1, track_w * pct / 100, 10, fill))
        d.add(_mono(track_x + track_w + 6, y + 10, num(v, 3), 11, 'class="mg-uval"'))
    d.y += F * 15 - 4


def _prediction(d: _Drawing, pred: dict[str, Any], n: int, x0: float, loss: float | None) -> None:
    """The probabilities with the class names, the verdict and the loss, as the page has them."""
    p = decode(pred["probs"])
    if p is None or n >= len(pred["predicted"]):
        return
    classes, guess, label = pred["classes"], pred["predicted"][n], pred["label"][n]
    d.add(_text(x0, d.y + 10, f"probabilities ({pred['how']})", 12, "", _GREY))
    d.y += 16
    track_x, track_w = x0 + 96, 280
    for k, name in enumerate(classes):
        v, y = float(p[n, k]), d.y + k * 16
        bold = ' font-weight="bold"' if k == guess else ""
        d.add(_text(track_x - 6, y + 11, name, 12, f'text-anchor="end"{bold} class="mg-pname"'))
        if k == label:
            d.add(_text(track_x - 4, y + 11, "●", 9, 'class="mg-true"', "#2b8a3e"))
        d.add(_rect(track_x + 8, y + 1, track_w, 11, "#f1f3f5"))
        bar = max(0.0, min(1.0, v)) * track_w if math.isfinite(v) else 0.0
        d.add(_rect(track_x + 8, y + 1, bar, 11, "#e8590c" if k == guess else "#4263eb"))
        where = f'class="mg-pval" data-class="{html.escape(name)}"'
        d.add(_mono(track_x + track_w + 14, y + 11, num(v, 4), 11, where))
    d.y += len(classes) * 16 + 6
    ok = guess == label
    said = [
        ("predicted ", ""),
        (classes[guess], f'font-weight="bold" fill="{"#2b8a3e" if ok else "#c92a2a"}"'),
        (", true label ", ""),
        (classes[label], f'font-weight="bold" fill="{"#2b8a3e" if ok else _INK}"'),
        (" ✓" if ok else " ✗", ""),
    ]
    d.add(_rich(x0, d.y + 12, 13, said, 'class="mg-verdict"'))
    d.y += 18
    sample_loss = num(_num(pred["sample_loss"][n]), 4)
    said = [(f"this sample's loss −log p({classes[label]}) = ", ""), (sample_loss, _BOLD)]
    d.add(_rich(x0, d.y + 12, 12, said, 'class="mg-loss"'))
    d.y += 16
    if loss is not None:
        said = [("batch loss = ", ""), (num(loss, 6), _BOLD)]
        d.add(_rich(x0, d.y + 12, 12, said, 'class="mg-batchloss"'))
        d.y += 16


def _layer(d: _Drawing, graph: dict[str, Any], net: dict[str, Any], k: int, n: int) -> None:
    """One layer's box: its name, kind and shape, ops, colour bar and pictures."""
    src = net["input"] if k < 0 else net["layers"][k]
    name, shape, key = str(src["name"]), src["shape"], src["tensor"]
    kind, ops = ("input", []) if k < 0 else (src["kind"], src["ops"])
    caption = f"{_KIND.get(kind, kind)} · {_shape_text(shape)}"
    te = graph["tensors"].get(key) or {}
    a = None if te.get("freed") else decode(te.get("value"))
    top, x0 = d.y, _MARGIN + _PAD
    start = len(d.out)
    group = f'data-layer="{html.escape(name)}" data-kind="{html.escape(kind)}"'
    d.add(f'<g class="mg-layer" {group}>')
    d.add(_text(x0, top + 20, name, 14, 'font-weight="bold" class="mg-name"'))
    cx = x0 + _width(name, 14, True) + 10
    d.add(_text(cx, top + 20, caption, 12, 'class="mg-sub"', _GREY))
    if ops:
        ox = cx + _width(caption, 12) + 10
        d.add(_mono(ox, top + 20, ", ".join(ops), 11, 'class="mg-ops"', "#5c636a"))
    d.y = top + 32
    right = _WIDTH - _MARGIN - _PAD
    if a is None:
        d.add(_text(x0, d.y + 10, "values freed by backward()", 12, "", _GREY))
        d.y += 14
    elif a.ndim == 4:
        n_a = min(n, a.shape[0] - 1)
        r = _range(a, n_a)
        _color_bar(d, right, top + 11, r, r[0] < 0 < r[1])
        _maps(d, name, a, n_a, x0, te["value"].get("index"))
    elif a.ndim == 2 and kind not in ("loss", "input"):
        pred, layers = net.get("prediction"), net["layers"]
        if kind == "flatten" or a.shape[1] > 32:
            r = _range(a, n)
            _color_bar(d, right, top + 11, r, r[0] < 0 < r[1])
            _strip(d, name, a, n, x0)
        else:
            last = len(layers) >= 2 and k == len(layers) - 2
            names = (
                pred["classes"] if pred and last and a.shape[1] == len(pred["classes"]) else None
            )
            _bars(d, a, n, x0, names)
    if kind == "loss" and net.get("prediction"):
        loss = float(a.reshape(-1)[0]) if a is not None and a.ndim == 0 else None
        _prediction(d, net["prediction"], n, x0, loss)
    elif a is not None and a.ndim == 0:
        d.add(_text(x0, d.y + 12, num(float(a), 6), 13, 'font-weight="bold" class="mg-value"'))
        d.y += 16
    if d.y == top + 32:  # nothing under the title
        d.y = top + 26
    d.y += _PAD
    box = _rect(_MARGIN, top, _WIDTH - 2 * _MARGIN, d.y - top, "#fff", f'rx="6" stroke="{_LINE}"')
    d.out.insert(start, box)
    d.add("</g>")
    d.y += 8


def _network_picture(graph: dict[str, Any], net: dict[str, Any], title: str) -> str:
    d = _Drawing()
    d.add(_text(_MARGIN, 22, title, 15, 'font-weight="bold"'))
    d.add(_text(_MARGIN, 42, _NOTE, 12))
    said = f"Network view, sample #0 (of {net.get('batch', 1)}): the layers from input to loss"
    d.add(_text(_MARGIN, 60, said, 12, "", _GREY))
    d.y = 72
    for k in range(-1, len(net["layers"])):
        _layer(d, graph, net, k, 0)
    return _svg(_WIDTH, math.ceil(d.y + 4), title, d.out)


def _boxes_picture(graph: dict[str, Any], title: str) -> str:
    """The ops of the first graph view, top to bottom (a graph with no layers to picture)."""
    view = graph["views"].get("modules") or graph["views"]["forward"]
    rows = [n["lines"][:2] for n in view["draw"]["nodes"] if n["look"] != "constant"][:40]
    width, row_h = 460, 46
    height = 70 + row_h * len(rows)
    out = [_text(12, 22, title, 15, 'font-weight="bold"'), _text(12, 42, _NOTE, 12)]
    for i, lines in enumerate(rows):
        y = 56 + i * row_h
        out.append(
            f'<rect x="80" y="{y}" width="300" height="34" rx="5" fill="#f1f3f5" stroke="#495057"/>'
        )
        out.append(_text(230, y + 15, lines[0][1] if lines else "", 13, 'text-anchor="middle"'))
        if len(lines) > 1:
            out.append(_text(230, y + 29, lines[1][1], 11, 'text-anchor="middle"'))
        if i:
            out.append(f'<path d="M230,{y - 12}V{y}" stroke="#495057" fill="none"/>')
    return _svg(width, height, title, out)


def graph_picture(graph: dict[str, Any], title: str) -> str:
    """The page's first view as SVG text: the network view of sample 0 (``graph["network"]``
    with the arrays of ``graph["tensors"]``), or the ops as a list of boxes when the graph
    has no layers.

    >>> import minigrad as mg
    >>> from minigrad.graph.explorer.payload import graph_payload
    >>> x = mg.tensor(np.ones((1, 1, 4, 4)), name="image")
    >>> y = mg.ops.relu(mg.ops.conv2d(x, mg.tensor(np.ones((2, 1, 3, 3)))))
    >>> svg = graph_picture(graph_payload(y, backward=False), "relu of a conv")
    >>> svg.count("data-channel=")  # the image, then 2 channels of conv2d and of relu
    5
    """
    net = graph.get("network")
    if net and net.get("layers"):
        return _network_picture(graph, net, title)
    return _boxes_picture(graph, title)


def timeline_picture(timeline: dict[str, Any], title: str) -> str:
    """The loss of every step of a recorded run, with its range, as SVG text."""
    losses = [v for v in timeline["losses"] if isinstance(v, (int, float))]
    width, height, left, top, bottom = 520, 230, 60, 52, 190
    out = [_text(12, 22, title, 15, 'font-weight="bold"'), _text(12, 42, _NOTE, 12)]
    if losses:
        lo, hi = min(losses), max(losses)
        span = (hi - lo) or 1.0
        n = max(1, len(losses) - 1)
        xs = [left + i / n * (width - left - 20) for i in range(len(losses))]
        ys = [bottom - (v - lo) / span * (bottom - top) for v in losses]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
        out.append(f'<polyline points="{pts}" fill="none" stroke="#1c7ed6" stroke-width="1.5"/>')
        out.append(f'<path d="M{left},{top}V{bottom}H{width - 20}" stroke="#495057" fill="none"/>')
        out.append(_text(left - 6, top + 4, f"{hi:.4g}", 11, 'text-anchor="end"'))
        out.append(_text(left - 6, bottom, f"{lo:.4g}", 11, 'text-anchor="end"'))
        out.append(_text(left, bottom + 16, "step 1", 11))
        out.append(_text(width - 20, bottom + 16, f"step {len(losses)}", 11, 'text-anchor="end"'))
        out.append(_text((left + width) / 2, bottom + 32, "loss of every step", 11))
    return _svg(width, height, title, out)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">'
        f'<rect width="{width}" height="{height}" fill="#fff"/>' + "".join(body) + "</svg>"
    )
