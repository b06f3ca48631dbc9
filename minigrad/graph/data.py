"""Graph data and the walk: nodes, edges, and the recorded nodes reachable from a tensor.

Every walk is iterative (an explicit stack), linear in the number of nodes, and nodes are
numbered in traversal order, so the same computation always gives the same graph.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..op import Context
from ..tensor import Tensor

__all__ = [
    "MAX_VALUES",
    "Builder",
    "Edge",
    "GraphData",
    "Node",
    "dtype_name",
    "gc_paused",
    "leaf_role",
    "leaf_scopes",
    "values_freed",
    "walk",
]


#: tensors with at most this many elements show their values; larger ones show statistics
MAX_VALUES = 16


@dataclass(eq=False, slots=True)
class Node:
    """One node of a drawing.

    ``kind`` is "tensor" or "op" in the forward view; "seed" (the gradient the backward pass
    starts from), "backward" (one backward step), "accumulate" (the sum of a tensor's gradient
    contributions) and "grad" (a leaf's ``.grad``) in the backward view; "module" for a
    collapsed scope. ``tensor`` is the tensor the node shows (for op nodes: their output),
    ``ctx`` the recorded op call, ``scope`` the cluster the node is drawn in.
    """

    id: str
    kind: str
    role: str
    tensor: Tensor | None = None
    ctx: Context | None = None
    scope: str | None = None
    grad: np.ndarray | None = None  # gradient values shown on the node, when known
    members: list[Node] | None = None  # a collapsed module's nodes
    name: str | None = None  # a collapsed module's scope
    calls: tuple[int, int] = (1, 1)  # a collapsed module: which call of its scope, of how many
    stale: bool = False  # the tensor's .grad is not the drawn graph's gradient (forward view)


@dataclass(eq=False, slots=True)
class Edge:
    """One edge: an argument (``arg`` = its position), an output, or a gradient.

    ``kind``: "input" (tensor -> op), "output" (op -> tensor), "flow" (op -> op when tensors
    are hidden) or "gradient". ``grad`` holds the gradient's values when they are known;
    ``reverse`` marks gradient edges drawn against a forward edge (``both=True``).
    """

    src: Node
    dst: Node
    kind: str
    arg: int | None = None
    tensor: Tensor | None = None
    grad: np.ndarray | None = None
    reverse: bool = False


@dataclass(eq=False)
class GraphData:
    """Nodes and edges in traversal order, plus what the drawing needs to say about values.

    ``view`` is "forward", "backward" or "both"; ``values`` says where gradient values came
    from: "computed" (by the engine's traversal, on the saved state), "freed" (the graph
    was freed by ``backward()``), "off" (not asked for) or "unavailable: <reason>".
    """

    nodes: list[Node]
    edges: list[Edge]
    root: Tensor
    view: str
    values: str = "off"
    notes: list[str] = field(default_factory=list)  # what a drawing left out or folded


class Builder:
    """Hands out node ids numbered in creation order: t0, op1, t2 ..."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []

    def node(self, prefix: str, kind: str, role: str, **kw: Any) -> Node:
        n = Node(f"{prefix}{len(self.nodes)}", kind, role, **kw)
        self.nodes.append(n)
        return n

    def edge(self, src: Node, dst: Node, kind: str, **kw: Any) -> Edge:
        e = Edge(src, dst, kind, **kw)
        self.edges.append(e)
        return e


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building: the walk allocates many small acyclic objects,
    and on a 100k-node graph repeated full collections would dominate the build time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_DTYPE_NAMES: dict[np.dtype, str] = {}


def dtype_name(dt: np.dtype) -> str:
    """``dt.name``, cached (numpy computes it afresh each time)."""
    name = _DTYPE_NAMES.get(dt)
    if name is None:
        name = _DTYPE_NAMES[dt] = dt.name
    return name


def walk(root: Tensor) -> tuple[list[Context], dict[Context, Tensor]]:
    """Every recorded node reachable from ``root`` in creation order, and each one's output.

    A node keeps its output only through a weak reference, so outputs are collected from the
    consumers' ``inputs`` tuples (and ``root`` itself) as the walk meets them. A ``root``
    computed from inputs that do not require grad is walked through its forward-only calls.
    """
    start = root._node
    forward_only = start is None
    if forward_only:  # no input required grad: the calls kept for inspectors (see explain)
        start = getattr(root, "_origin", None)
        if start is None:
            return [], {}
    outputs: dict[Context, Tensor] = {start: root}
    stack = [start]
    while stack:
        ctx = stack.pop()
        for t in ctx.inputs:
            if t is None:
                continue
            c = t._node if not forward_only else getattr(t, "_origin", None)
            if c is not None and c not in outputs:
                outputs[c] = t
                stack.append(c)
    # seq is a global creation counter: sorting by it is a topological order, the same one
    # every time the same program runs
    return sorted(outputs, key=lambda c: c.seq), outputs


def values_freed(t: Tensor) -> bool:
    """True when ``backward()`` (without ``retain_graph``) freed this intermediate's values."""
    return bool(getattr(t, "values_freed", False))


def leaf_role(t: Tensor) -> str:
    """A leaf's role: "parameter" (requires grad), "constant" (0-d, ``2`` in ``x * 2``), "input"."""
    if t._requires_grad:
        return "parameter"
    return "constant" if t.data.ndim == 0 else "input"


def leaf_scopes(ctxs: list[Context]) -> dict[int, str | None]:
    """The scope of each leaf whose consumers all share one scope (a layer's weight, say)."""
    scopes: dict[int, str | None] = {}
    for ctx in ctxs:
        for t in ctx.inputs:
            if t is None or t._node is not None:
                continue
            key = id(t)
            if key not in scopes:
                scopes[key] = ctx.scope
            elif scopes[key] != ctx.scope:
                scopes[key] = None
    return scopes
