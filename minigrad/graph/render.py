"""Graphviz output: ``draw`` (graph data -> ``graphviz.Digraph``) and ``render`` (-> files).

Building the DOT text needs only the ``graphviz`` Python package; turning it into SVG, PNG
or PDF needs the Graphviz ``dot`` program. Without it, :func:`render` (and ``.render()`` /
``.pipe()`` on a drawing) raise :class:`GraphvizNotFoundError`, which says what to install.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import graphviz

from ..tensor import Tensor
from . import fold as _fold
from . import style as _style
from . import text as _text
from .build import MAX_VALUES, GraphData, _gc_paused, build, summary_cache

__all__ = ["GraphDrawing", "GraphTooLargeError", "GraphvizNotFoundError", "draw", "render"]

#: default size cap of :func:`draw`, in nodes
MAX_NODES = 2000

_OPTIONS = {
    "both": False,
    "clusters": True,
    "collapse": False,
    "grads": None,
    "max_nodes": MAX_NODES,
    "max_values": MAX_VALUES,
    "rankdir": "TB",
    "show_tensors": True,
    "show_values": True,
    "strict": False,
    "styles": None,
    "title": None,
}
_RANKDIRS = ("TB", "LR", "BT", "RL")

INSTALL_HELP = (
    "Rendering needs the Graphviz 'dot' program, which was not found on PATH "
    "(pip install graphviz installs only the Python bindings). Install Graphviz: "
    "Debian/Ubuntu 'sudo apt-get install graphviz', macOS 'brew install graphviz', "
    "conda 'conda install graphviz', Windows 'winget install graphviz' (then reopen the shell)."
)


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``: drawing it would be slow and unreadable."""


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """The Graphviz ``dot`` program is missing; the message says what to install.

    A :class:`RuntimeError` (and a ``graphviz.ExecutableNotFound``), raised by
    :func:`render` and by ``.render()`` / ``.pipe()`` on a drawing.
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


def _not_found(dot_file: str | os.PathLike | None = None) -> GraphvizNotFoundError:
    where = (
        f"The DOT text was written to {os.fspath(dot_file)}; it is also"
        if dot_file is not None
        else "The DOT text is still"
    )
    return GraphvizNotFoundError(
        f"{INSTALL_HELP} {where} available as drawing.source (save it with "
        "drawing.save('graph.dot') and render it later with 'dot -Tsvg graph.dot -o graph.svg')."
    )


class GraphDrawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering explains how to install a missing Graphviz.

    Shows inline in Jupyter; ``.source`` is the DOT text; ``.render(path, format="svg")``
    writes a file. Without the ``dot`` program, Jupyter shows the install hint instead of
    a traceback.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            if isinstance(e, GraphvizNotFoundError):
                raise
            raise _not_found() from e

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            if isinstance(e, GraphvizNotFoundError):
                raise
            raise _not_found(self.filepath) from e

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kw: Any) -> dict:
        try:
            return super()._repr_mimebundle_(include, exclude, **kw)
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{_not_found()}\n\n{self.source}"}


def _check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(
            f"draw() got unknown option(s) {', '.join(map(repr, unknown))}; "
            f"valid options are: {', '.join(sorted(_OPTIONS))}"
        )
    opts = {**_OPTIONS, **options}
    if opts["rankdir"] not in _RANKDIRS:
        raise ValueError(f"draw(): rankdir must be one of {_RANKDIRS}, got {opts['rankdir']!r}")
    for key in ("max_nodes", "max_values"):
        v = opts[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"draw(): {key} must be a non-negative int, got {v!r}")
    for key in ("both", "clusters", "collapse", "show_tensors", "show_values", "strict"):
        if not isinstance(opts[key], bool):
            raise TypeError(f"draw(): {key} must be True or False, got {opts[key]!r}")
    styles = opts["styles"] or {}
    valid = (
        set(_style.NODE_STYLES) | set(_style.EDGE_STYLES) | {"graph", "cluster", "cluster_title"}
    )
    bad = sorted(set(styles) - valid)
    if bad:
        raise ValueError(f"draw(): unknown styles key(s) {bad}; valid keys are {sorted(valid)}")
    return opts


def _size_check(data: GraphData, max_nodes: int, opts: Mapping[str, Any]) -> None:
    n = len(data.nodes)
    if n <= max_nodes:
        return
    hints = []
    if not opts["collapse"]:
        hints.append("collapse=True (one node per nn module / name_scope)")
    if opts["show_tensors"]:
        hints.append("show_tensors=False (ops only)")
    hints.append(f"max_nodes={n} to draw it anyway (large drawings are slow to lay out)")
    raise GraphTooLargeError(
        f"draw(): the graph has {n} nodes, more than max_nodes={max_nodes}; try "
        + ", or ".join(hints)
    )


def _styled(key: str, table: Mapping[str, Mapping[str, str]], overrides: Mapping) -> dict:
    out = dict(table.get(key, {}))
    out.update(overrides.get(key, {}))
    return out


def draw(t: Tensor, backward: bool = False, **options: Any) -> GraphDrawing:
    """Draw the graph of ``t``: forward (default) or backward; returns a ``graphviz.Digraph``.

    Forward view: tensor nodes (name or role, shape, dtype; values when small, else
    min/mean/max), op nodes (op, attributes that differ from defaults, plugin). Parameters
    (orange), inputs (blue), constants (grey) and the output (green, double border) look
    different; ops are ellipses (plugin ops violet). Edges are labelled with the argument
    name when an op takes several inputs; ``x * x`` shows two edges.

    Backward view (``backward=True``): one node per backward step ("mul backward"), edges
    from the loss toward the leaves labelled with the gradient's shape and its values (small)
    or norm, a "+" node where a tensor's gradient contributions are summed, and one ".grad"
    node per leaf. Values are recomputed from the graph's saved state, so draw *before*
    ``backward()`` (or use ``backward(retain_graph=True)``); once the graph is freed the
    drawing shows shapes and says "values freed". Tensor hooks are not called.

    Options (an unknown one raises TypeError):
        both: forward and gradient edges in one figure (gradients dashed, red), whatever
            ``backward`` says.
        rankdir: "TB" (default), "LR", "BT" or "RL".
        max_nodes: size cap (default 2000). A larger graph is drawn smaller: runs of the
            same op fold into one node ("mul × 2999"), then modules collapse, then tensors
            hide, and the title says what was folded.
        strict: True raises :class:`GraphTooLargeError` above ``max_nodes`` instead.
        show_tensors: False draws ops only.
        collapse: True draws each scope (``mg.nn`` module, ``name_scope``) as one node.
        show_values: False hides values and gradients (shapes only).
        max_values: tensors with at most this many elements show their values (16).
        clusters: group ops of a scope in labelled boxes (default True; nested scopes nest).
        title: a caption on top.
        grads: {tensor: gradient} you collected yourself, shown when values were freed.
        styles: per-drawing overrides of :mod:`minigrad.graph.style` entries, e.g.
            ``{"parameter": {"fillcolor": "gold"}, "graph": {"bgcolor": "white"}}``.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> g = mg.graph.draw((x * x).sum())
    >>> g.source.count("->")   # x -> mul twice, mul -> x*x, x*x -> sum, sum -> output
    5
    >>> g.render("graph", format="svg")   # doctest: +SKIP
    """
    opts = _check_options(options)
    if not isinstance(t, Tensor):
        raise TypeError(f"draw(): expected a minigrad Tensor, got {type(t).__name__}")
    if not isinstance(backward, bool):
        raise TypeError(f"draw(): backward must be True or False, got {backward!r}")
    mode: bool | str = "both" if opts["both"] else backward
    # cheap early check: op nodes alone exceed the cap unless they are collapsed
    if opts["strict"] and not opts["collapse"] and t._node is not None:
        _quick_size_check(t, opts)
    data = build(
        t,
        mode,
        values=opts["show_values"],
        grads=opts["grads"],
        collapse_scopes=opts["collapse"],
        show_tensors=opts["show_tensors"],
    )
    if len(data.nodes) > opts["max_nodes"]:
        if opts["strict"]:
            _size_check(data, opts["max_nodes"], opts)
        data, notes = _fold.shrink(data, opts["max_nodes"])
        data.notes = notes
    with _gc_paused(), summary_cache():
        return to_digraph(data, opts)


def _quick_size_check(t: Tensor, opts: Mapping[str, Any]) -> None:
    """Count recorded nodes (stopping past the cap) before building anything else."""
    cap = opts["max_nodes"]
    seen = {t._node}
    stack = [t._node]
    while stack and len(seen) <= cap:
        for x in stack.pop().inputs:  # type: ignore[union-attr]
            c = None if x is None else x._node
            if c is not None and c not in seen:
                seen.add(c)
                stack.append(c)
    if len(seen) > cap:
        hints = "collapse=True (one node per nn module / name_scope)"
        if opts["show_tensors"]:
            hints += ", or show_tensors=False (ops only)"
        raise GraphTooLargeError(
            f"draw(): the graph has more than max_nodes={cap} op nodes alone; try {hints}, "
            "or raise max_nodes to draw it anyway (large drawings are slow to lay out)"
        )


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
                self.boxes[s] = graphviz.Digraph(
                    name=f"cluster_{_text.id_part(s)}", graph_attr=dict(self.attrs)
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


def render(
    t: Tensor | graphviz.Digraph,
    path: str | os.PathLike,
    format: str = "svg",
    **options: Any,
) -> str:
    """Draw ``t`` (or take a drawing) and write it to ``path`` as SVG, PNG or PDF.

    The DOT text is always written first, next to the output (``path`` with suffix
    ``.dot``), so it survives a missing Graphviz binary, in which case
    :class:`GraphvizNotFoundError` says what to install. ``options`` go to :func:`draw`.
    Returns the path of the rendered file.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> mg.graph.render((x * x).sum(), "out/graph.svg")   # doctest: +SKIP
    'out/graph.svg'
    """
    if isinstance(t, graphviz.Digraph):
        if options:
            raise TypeError("render(): drawing options only apply when given a Tensor")
        drawing = t
    else:
        drawing = draw(t, **options)
    if format not in graphviz.FORMATS:
        raise ValueError(f"render(): unknown format {format!r}; use 'svg', 'png' or 'pdf'")
    out = Path(path)
    if out.suffix.lstrip(".") != format:
        out = out.with_name(out.name + "." + format)
    out.parent.mkdir(parents=True, exist_ok=True)
    dot_file = out.with_suffix(".dot")
    dot_file.write_text(drawing.source, encoding="utf-8")
    try:
        data = graphviz.Digraph.pipe(drawing, format=format)
    except graphviz.ExecutableNotFound as e:
        raise _not_found(dot_file) from e
    out.write_bytes(data)
    return str(out)
