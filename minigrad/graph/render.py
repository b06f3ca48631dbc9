"""Graphviz output: ``draw`` (graph data -> ``graphviz.Digraph``) and ``render`` (-> files).

Building the DOT text needs only the ``graphviz`` Python package; turning it into SVG, PNG
or PDF needs the Graphviz ``dot`` program. Without it, :func:`render` (and ``.render()`` /
``.pipe()`` on a drawing) raise :class:`GraphvizNotFoundError`, which says what to install.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import graphviz

from ..tensor import Tensor
from . import shrink as _shrink
from . import style as _style
from .build import build
from .data import MAX_VALUES, GraphData, gc_paused
from .dot import to_digraph
from .drawing import (
    INSTALL_HELP,
    GraphDrawing,
    GraphTooLargeError,
    GraphvizNotFoundError,
    check_layout,
    pipe_within,
)
from .node_facts import summary_cache
from .trace import Trace, producer

__all__ = [
    "INSTALL_HELP",
    "GraphDrawing",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "draw",
    "draw_traced",
    "render",
    "to_digraph",
]

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
    node per leaf. Values come from one pass of the engine's own backward traversal on the
    saved state (no ``.grad`` written, no hook called), so draw *before* ``backward()`` (or
    use ``backward(retain_graph=True)``); once the graph is freed the drawing shows shapes
    and says "values freed", also on tensors whose values ``backward()`` gave back. A
    forward drawing marks a ``.grad`` that is not this graph's gradient as stale.

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
    return draw_traced(t, None, backward, **options)


def draw_traced(
    t: Tensor, trace: Trace | None, backward: bool = False, **options: Any
) -> GraphDrawing:
    """:func:`draw`, from what :func:`.trace.record` recorded from ``t`` (None: record now),
    so that a page with several drawings of one computation walks it and runs its backward
    pass once.

    >>> import minigrad as mg
    >>> from minigrad.graph.trace import record
    >>> y = (mg.tensor([1.0, 2.0], requires_grad=True) * 3).sum()
    >>> draw_traced(y, record(y), backward=True).source == mg.graph.draw(y, True).source
    True
    """
    opts = _check_options(options)
    if not isinstance(t, Tensor):
        raise TypeError(f"draw(): expected a minigrad Tensor, got {type(t).__name__}")
    if not isinstance(backward, bool):
        raise TypeError(f"draw(): backward must be True or False, got {backward!r}")
    data = _fitting_data(t, "both" if opts["both"] else backward, opts, trace)
    with gc_paused(), summary_cache():
        drawing = to_digraph(data, opts)
    drawing.node_count, drawing.max_nodes = len(data.nodes), opts["max_nodes"]
    return drawing


def _fitting_data(
    t: Tensor, mode: bool | str, opts: Mapping[str, Any], trace: Trace | None
) -> GraphData:
    """The graph data to draw: within ``max_nodes``, or drawn smaller, or refused if strict."""
    # cheap early check: op nodes alone exceed the cap unless they are collapsed
    if opts["strict"] and not opts["collapse"] and producer(t) is not None:
        _quick_size_check(t, opts)
    data = build(
        t,
        mode,
        values=opts["show_values"],
        grads=opts["grads"],
        collapse_scopes=opts["collapse"],
        show_tensors=opts["show_tensors"],
        trace=trace,
    )
    if len(data.nodes) > opts["max_nodes"]:
        if opts["strict"]:
            _size_check(data, opts["max_nodes"], opts)
        data, notes = _shrink.shrink(data, opts["max_nodes"])
        data.notes = notes
    return data


def _quick_size_check(t: Tensor, opts: Mapping[str, Any]) -> None:
    """Count recorded nodes (stopping past the cap) before building anything else."""
    cap = opts["max_nodes"]
    seen = {producer(t)}
    stack = [producer(t)]
    while stack and len(seen) <= cap:
        for x in stack.pop().inputs:  # type: ignore[union-attr]
            c = None if x is None else producer(x)
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


#: seconds Graphviz may spend on one render() before it is stopped
LAYOUT_TIMEOUT = 60.0


def render(
    t: Tensor | graphviz.Digraph,
    path: str | os.PathLike,
    format: str = "svg",
    *,
    layout_timeout: float = LAYOUT_TIMEOUT,
    **options: Any,
) -> str:
    """Draw ``t`` (or take a drawing) and write it to ``path`` as SVG, PNG or PDF.

    Graphviz gets ``layout_timeout`` seconds (60); past them it is stopped and a
    :class:`GraphTooLargeError` says how to draw fewer nodes. A drawing that folding could
    not bring under its ``max_nodes`` is refused before Graphviz runs.

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
    check_layout(drawing)  # the DOT text is written first, so it can still be used
    if isinstance(layout_timeout, bool) or not isinstance(layout_timeout, (int, float)):
        raise TypeError(f"render(): layout_timeout must be a number, got {layout_timeout!r}")
    if not layout_timeout > 0:
        raise ValueError(f"render(): layout_timeout must be positive, got {layout_timeout!r}")
    n = getattr(drawing, "node_count", 0)
    hint = (
        f"draw fewer nodes (a smaller max_nodes, e.g. max_nodes={max(n // 2, 1)}, or "
        f"collapse=True), or give Graphviz more time with layout_timeout=SECONDS"
    )
    data = pipe_within(drawing, format, float(layout_timeout), "render()", hint, dot_file)
    out.write_bytes(data)
    return str(out)
