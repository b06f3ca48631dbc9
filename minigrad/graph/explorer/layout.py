"""What the page draws of a graph: nodes with their label lines, edges, clusters, as data.

The page lays the graph out itself (``static/vendor/dagre.min.js``, run in the browser), so
building a page needs no Graphviz program. Python gives it the same facts a drawing shows:
each node's label as lines of text with a style class, its look (shape and colours from
:mod:`minigrad.graph.style`), its cluster; each edge's label lines; each cluster's title.

Labels come from the drawing's own label functions (the Graphviz HTML-like text of
:func:`minigrad.graph.style.node_label`), split into lines and unescaped, so the page and
``draw()`` say the same thing.

>>> import minigrad as mg
>>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
>>> d = drawing_json((x * x).sum(), False, {})
>>> d["nodes"][0]["lines"][:2]
[['b', 'x'], ['d', '(2,) float32']]
>>> [e["src"] + "->" + e["dst"] for e in d["edges"]][:2]
['t0->op1', 't0->op1']
"""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np

from ...tensor import Tensor
from .. import labels as _labels
from .. import style as _style
from ..render import _check_options, _fitting_data
from ..trace import Trace

__all__ = ["drawing_json", "label_lines"]

# the label pieces of minigrad.graph.labels, by the opening tags they start with
_KINDS = [
    (_labels._GRAD.split("{}")[0], "g"),
    (_labels._VALUE.split("{}")[0], "v"),
    (_labels._DETAIL.split("{}")[0], "d"),
    (_labels._NOTE.split("{}")[0], "n"),
    ('<font point-size="14"><b>', "t"),
    ("<b>", "b"),
]
_TAG = re.compile(r"<[^>]*>")
# the look of a node: what the page needs of NODE_STYLES
_LOOK_KEYS = ("shape", "style", "fillcolor", "color", "peripheries")


def label_lines(label: str | None) -> list[list[str]]:
    """A Graphviz HTML-like label as ``[[class, text], ...]``, one entry a line.

    Classes: ``b`` bold (a name or an op), ``d`` detail (shape, attributes), ``v`` values,
    ``g`` gradient values, ``n`` note, ``t`` title, ``p`` plain.

    >>> label_lines('<<b>x</b><br/><font point-size="9" color="#495057">(2,) float32</font>>')
    [['b', 'x'], ['d', '(2,) float32']]
    """
    if not label:
        return []
    body = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    out = []
    for part in body.split("<br/>"):
        kind = next((k for prefix, k in _KINDS if part.startswith(prefix)), "p")
        # the drawing doubles backslashes for Graphviz (see minigrad.graph.dot_text)
        text = html.unescape(_TAG.sub("", part)).replace("\\\\", "\\")
        if text == '""':
            text = ""
        out.append([kind, text])
    return out


def _look(key: str, overrides: dict[str, Any]) -> dict[str, str]:
    style = {**_style.NODE_STYLES.get(key, {}), **overrides.get(key, {})}
    return {k: str(style[k]) for k in _LOOK_KEYS if k in style}


def drawing_json(
    t: Tensor, backward: bool, options: dict[str, Any], trace: Trace | None = None
) -> dict[str, Any]:
    """The graph ``draw(t, backward, **options)`` would show, as data for the page; from
    ``trace`` (what :func:`..trace.record` recorded from ``t``) when given.

    ``{"nodes": [{id, lines, look, scope}], "edges": [{src, dst, lines, look}],
    "clusters": [{scope, title}], "looks": {key: {shape, fillcolor, ...}}, "caption": lines,
    "rankdir"}``; nodes and edges in the drawing's order.
    """
    opts = _check_options(options)
    with np.errstate(all="ignore"):  # gradient labels may hold NaN/Inf
        data = _fitting_data(t, backward, opts, trace)
        show, most = opts["show_values"], opts["max_values"]
        overrides = opts["styles"] or {}
        looks: dict[str, dict[str, str]] = {}
        nodes: list[dict[str, Any]] = []
        scopes: dict[str, None] = {}  # every scope and its parents, in drawing order
        for n in data.nodes:
            key = _style.node_style_key(n)
            if key not in looks:
                looks[key] = _look(key, overrides)
            scope = n.scope if opts["clusters"] else None
            nodes.append(
                {
                    "id": n.id,
                    "lines": label_lines(_style.node_label(n, show, most)),
                    "look": key,
                    "scope": scope,
                }
            )
            while scope:
                scopes.setdefault(scope, None)
                scope = scope.rpartition("/")[0]
        edges = []
        for e in data.edges:
            kind = "forward" if e.kind != "gradient" else "both" if e.reverse else "gradient"
            edges.append(
                {
                    "src": e.src.id,
                    "dst": e.dst.id,
                    "lines": label_lines(_style.edge_label(e, show, most)),
                    "look": kind,
                }
            )
        caption = label_lines(_style.graph_label(data, opts["title"], show))
    outer_first = sorted(scopes, key=lambda s: s.count("/"))
    clusters = [{"scope": s, "title": s.rpartition("/")[2]} for s in outer_first]
    return {
        "nodes": nodes,
        "edges": edges,
        "clusters": clusters,
        "looks": looks,
        "caption": caption,
        "rankdir": opts["rankdir"],
    }
