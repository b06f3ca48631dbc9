"""A static picture of a page, for viewers that run no scripts (a notebook on GitHub).

A notebook keeps an explorer page as an ``<iframe srcdoc>`` (``text/html``), which needs
scripts; next to it goes this SVG (``image/svg+xml``) for viewers that show pictures only:
the network's layers in order with their shapes (a graph page) or the loss curve of the run
(a timeline page), and a line saying where the interactive page is.

>>> svg = timeline_picture({"losses": [2.0, 1.0, 0.5], "kept": [0, 3], "recorded": 4}, "run")
>>> svg.startswith("<svg") and "polyline" in svg
True
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["graph_picture", "timeline_picture"]

_FONT = 'font-family="Helvetica, Arial, sans-serif"'
_NOTE = "A static picture: open the page with scripts on for the interactive explorer."


def _text(x: float, y: float, text: str, size: int = 13, extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" {_FONT} fill="#212529" {extra}>'
        f"{html.escape(text)}</text>"
    )


def graph_picture(graph: dict[str, Any], title: str) -> str:
    """The layers (or ops) of the page's first graph view, top to bottom, as SVG text."""
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
