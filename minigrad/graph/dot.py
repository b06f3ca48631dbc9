"""DOT text: graph data -> a Graphviz drawing, nodes in traversal order, clusters by scope.

Lines are written exactly as graphviz's own ``node()``/``edge()`` write them (sorted
attributes), so the same computation gives the same bytes in any process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import graphviz

from . import dot_text as _text
from . import style as _style
from .data import GraphData
from .drawing import GraphDrawing

__all__ = ["to_digraph"]


def _styled(key: str, table: Mapping[str, Mapping[str, str]], overrides: Mapping) -> dict:
    out = dict(table.get(key, {}))
    out.update(overrides.get(key, {}))
    return out


# Style names and values repeat on every node: quote each once. Labels and tooltips are
# unique, so they go through graphviz's quote uncached. Lines are written exactly as
# graphviz's own node()/edge() write them (sorted attributes), only without re-quoting.
_quote = graphviz.quoting.quote
_quote_style = functools.lru_cache(maxsize=4096)(_quote)


def _attr_list(label: str | None, attrs: Mapping[str, Any]) -> str:
    parts = [] if label is None else [f"label={_quote(label)}"]
    for k, v in sorted(attrs.items()):
        if v is not None:
            parts.append(f"{_quote_style(k)}={_quote(v) if k == 'tooltip' else _quote_style(v)}")
    return f" [{' '.join(parts)}]" if parts else ""


class _Clusters:
    """One labelled box per scope, nested like the scope's path ("net/fc1" inside "net").

    The title is a plain node inside the box, on the same rank as the box's first node,
    rather than the cluster's own label: Graphviz routes edges around nodes, but not around
    cluster labels, so edges never run through a title.
    """

    def __init__(self, attrs: Mapping[str, Any], title_attrs: Mapping[str, Any]) -> None:
        self.attrs = attrs
        self.title_attrs = title_attrs
        self.boxes: dict[str, graphviz.Digraph] = {}
        self.titled: set[str] = set()
        self.ranks: dict[str, str] = {}

    def box(self, scope: str) -> graphviz.Digraph:
        sub = self.boxes.get(scope)
        if sub is not None:
            return sub
        parts = scope.split("/")
        for i in range(1, len(parts) + 1):  # parents first, so order follows traversal
            s = "/".join(parts[:i])
            if s not in self.boxes:
                # label="": a cluster inherits the root graph's label (the drawing's title)
                # unless it has its own, and its title is a node (see above), not a label
                attrs = {"label": "", **self.attrs}
                self.boxes[s] = graphviz.Digraph(
                    name=f"cluster_{_text.id_part(s)}", graph_attr=attrs
                )
        return self.boxes[scope]

    def add(self, scope: str, line: str, node_id: str) -> None:
        """Put a node line into the box of ``scope``; its first node also gets the title."""
        sub = self.box(scope)
        sub.body.append(line)
        if scope not in self.titled:
            title = self._title(scope)
            sub.body.append(title)
            # written last in the box, after every node and nested box
            self.ranks[scope] = f"\t{{rank=same; {title.split()[0]}; {node_id}}}\n"

    def _title(self, scope: str) -> str:
        self.titled.add(scope)
        name = scope.rpartition("/")[2]
        label = f"<<b>{_text.html_text(name, _text.MAX_NAME) if name else chr(34) * 2}</b>>"
        return f"\ttitle_{len(self.titled) - 1}{_attr_list(label, self.title_attrs)}\n"

    def attach(self, g: graphviz.Digraph) -> None:
        # deepest first, so every child is inside its parent before the parent is copied
        # into its own parent (graphviz copies a subgraph's body when attaching it)
        for s, sub in self.boxes.items():
            if s not in self.titled:  # a box holding only boxes: its title on top of them
                sub.body.insert(0, self._title(s))
        order = {s: i for i, s in enumerate(self.boxes)}
        for s in sorted(self.boxes, key=lambda s: (-s.count("/"), order[s])):
            if s in self.ranks:
                self.boxes[s].body.append(self.ranks[s])
            parent = s.rpartition("/")[0]
            (self.boxes[parent] if parent else g).subgraph(self.boxes[s])


def to_digraph(data: GraphData, opts: Mapping[str, Any]) -> GraphDrawing:
    """Turn graph data into a Graphviz drawing (nodes in traversal order, clusters by scope)."""
    show_values, max_values = opts["show_values"], opts["max_values"]
    overrides = opts["styles"] or {}
    graph_attr = {**_style.GRAPH_ATTRS, "rankdir": opts["rankdir"], **overrides.get("graph", {})}
    label = _style.graph_label(data, opts["title"], show_values)
    if label:
        graph_attr["label"] = label
    g = GraphDrawing(
        name=f"minigrad_{data.view}",
        graph_attr=graph_attr,
        node_attr=dict(_style.NODE_ATTRS),
        edge_attr=dict(_style.EDGE_ATTRS),
    )
    cluster_attr = {**_style.CLUSTER_ATTRS, **overrides.get("cluster", {})}
    title_attr = {**_style.CLUSTER_TITLE_ATTRS, **overrides.get("cluster_title", {})}
    for key in ("fontcolor", "fontname", "fontsize"):  # a cluster style override applies
        if key in overrides.get("cluster", {}):
            title_attr.setdefault(key, cluster_attr[key])
    clusters = _Clusters(cluster_attr, title_attr)
    for n in data.nodes:
        key = _style.node_style_key(n)
        attrs = _styled(key, _style.NODE_STYLES, overrides)
        tooltip = _style.node_tooltip(n)
        if tooltip:
            attrs["tooltip"] = tooltip
        label = _style.node_label(n, show_values, max_values)
        line = f"\t{_quote_style(n.id)}{_attr_list(label, attrs)}\n"
        if n.scope is None or not opts["clusters"]:
            g.body.append(line)
        else:
            clusters.add(n.scope, line, _quote_style(n.id))
    clusters.attach(g)
    for e in data.edges:
        key = "forward" if e.kind != "gradient" else "both_gradient" if e.reverse else "gradient"
        attrs = _styled(key, _style.EDGE_STYLES, overrides)
        text = _style.edge_label(e, show_values, max_values)
        if text is not None:
            attrs["label"] = text
        tail, head = _quote_style(e.src.id), _quote_style(e.dst.id)
        g.body.append(f"\t{tail} -> {head}{_attr_list(attrs.pop('label', None), attrs)}\n")
    return g
