"""Graph data: walk the recorded nodes from a tensor, forward or backward, without recursion.

Building is separate from drawing: this module turns a computation into plain graph data
(:class:`GraphData`: nodes, edges, and the tensors/nodes they stand for), derives the facts
users analyse (:func:`node_facts`, :func:`edge_facts`, :func:`to_networkx`), and offers the
structural views (ops only, one node per module). :mod:`minigrad.graph.render` turns the
same data into Graphviz.

Every walk is iterative (an explicit stack or heap), linear in the number of nodes, and
numbers nodes in traversal order, so the same computation always gives the same graph.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import BackwardObserver, traverse
from ..op import Context, op_spec
from ..tensor import Tensor

if TYPE_CHECKING:
    import networkx

__all__ = [
    "Edge",
    "GraphData",
    "Node",
    "build",
    "edge_facts",
    "node_facts",
    "to_networkx",
    "to_plain",
    "values_freed",
]

#: tensors with at most this many elements show their values; larger ones show statistics
MAX_VALUES = 16

_EMPTY = __import__("inspect").Parameter.empty


# --------------------------------------------------------------------------- graph data


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
    from: "computed" (replayed from the saved state), "freed" (the graph was freed by
    ``backward()``), "off" (not asked for) or "unavailable: <reason>".
    """

    nodes: list[Node]
    edges: list[Edge]
    root: Tensor
    view: str
    values: str = "off"
    notes: list[str] = field(default_factory=list)  # what a drawing left out or folded


class _Builder:
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


# --------------------------------------------------------------------------- the walk


@contextmanager
def _gc_paused() -> Iterator[None]:
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


def _walk(root: Tensor) -> tuple[list[Context], dict[Context, Tensor]]:
    """Every recorded node reachable from ``root`` in creation order, and each one's output.

    A node keeps its output only through a weak reference, so outputs are collected from the
    consumers' ``inputs`` tuples (and ``root`` itself) as the walk meets them.
    """
    start = root._node
    if start is None:
        return [], {}
    outputs: dict[Context, Tensor] = {start: root}
    stack = [start]
    while stack:
        ctx = stack.pop()
        for t in ctx.inputs:
            if t is None:
                continue
            c = t._node
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


def _leaf_scopes(ctxs: list[Context]) -> dict[int, str | None]:
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


def _build_forward(root: Tensor) -> GraphData:
    ctxs, outputs = _walk(root)
    b = _Builder()
    if not ctxs:
        b.node("t", "tensor", leaf_role(root), tensor=root)
        return GraphData(b.nodes, b.edges, root, "forward")
    leaf_scope = _leaf_scopes(ctxs)
    tnodes: dict[int, Node] = {}  # id(tensor) -> node; every tensor stays alive during the build
    for ctx in ctxs:
        args = []
        for i, t in enumerate(ctx.inputs):
            if t is None:
                continue
            n = tnodes.get(id(t))
            if n is None:  # a leaf: non-leaf tensors were added right after their producer
                role = leaf_role(t)
                scope = leaf_scope.get(id(t)) if role != "input" else None
                n = tnodes[id(t)] = b.node("t", "tensor", role, tensor=t, scope=scope)
            args.append((i, n, t))
        out = outputs[ctx]
        op = b.node("op", "op", "op", ctx=ctx, tensor=out, scope=ctx.scope)
        for i, n, t in args:
            b.edge(n, op, "input", arg=i, tensor=t)
        role = "output" if out is root else "intermediate"
        on = tnodes[id(out)] = b.node("t", "tensor", role, tensor=out, scope=ctx.scope)
        b.edge(op, on, "output", tensor=out)
    return GraphData(b.nodes, b.edges, root, "forward")


# --------------------------------------------------------------------------- gradient values


class _Recorder(BackwardObserver):
    """Keeps what one inspection pass of the engine computed: per-edge and per-tensor grads."""

    def __init__(self, outputs: Mapping[Context, Tensor]) -> None:
        self.outputs = outputs
        self.edge_grads: dict[tuple[Context, int], np.ndarray] = {}
        self.totals: dict[int, np.ndarray] = {}
        self.stepped: set[Context] = set()

    def seed(self, root: Tensor, grad: Tensor) -> None:
        self.totals[id(root)] = grad.data

    def step(
        self, index: int, node: Context, grad: Tensor, input_grads: tuple[Tensor | None, ...]
    ) -> None:
        self.stepped.add(node)
        out = self.outputs.get(node)
        if out is not None:
            self.totals[id(out)] = grad.data
        for i, gi in enumerate(input_grads):
            if gi is not None:
                self.edge_grads[(node, i)] = gi.data

    def leaf(self, tensor: Tensor, grad: Tensor) -> None:
        self.totals[id(tensor)] = grad.data


def _observe_backward(
    root: Tensor, ctxs: list[Context], outputs: Mapping[Context, Tensor]
) -> tuple[dict[tuple[Context, int], np.ndarray], dict[int, np.ndarray], str]:
    """One pass of the engine's own traversal from ``root``, watched, leaving no trace.

    ``traverse`` runs with ``retain_graph=True`` (the saved state stays), ``accumulate=False``
    (no ``.grad`` is written) and ``hooks=False`` (no user hook runs). Returns the gradient
    along each (node, input position) edge, each tensor's total gradient keyed by ``id``,
    and a status: "computed", "freed" or "unavailable: <reason>".
    """
    if any(c.freed for c in ctxs):
        return {}, {}, "freed"
    rec = _Recorder(outputs)
    seed = None if root.size == 1 else np.ones(root.shape, dtype=root.dtype)
    try:
        traverse([root], [seed], retain_graph=True, accumulate=False, hooks=False, observer=rec)
    except Exception as e:  # an op whose backward fails: draw shapes only
        order = sorted(ctxs, key=lambda c: (-c.generation, -c.seq))  # the engine's order
        name = next((c.name for c in order if c not in rec.stepped), "?")
        return {}, {}, f"unavailable: op '{name}' backward raised {type(e).__name__}: {e}"
    return rec.edge_grads, rec.totals, "computed"


def _known_grads(grads: Mapping[Tensor, Any] | None) -> dict[int, np.ndarray]:
    """User-supplied gradients (``grads=``), keyed by ``id`` of their tensor."""
    out: dict[int, np.ndarray] = {}
    if not grads:
        return out
    for t, g in grads.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"grads: keys must be Tensors, got {type(t).__name__}")
        arr = np.asarray(g.data if isinstance(g, Tensor) else g)
        if arr.shape != t.shape:
            raise ValueError(
                f"grads: gradient of shape {arr.shape} given for a tensor of shape {t.shape}"
            )
        out[id(t)] = arr
    return out


def _gradients(
    root: Tensor,
    ctxs: list[Context],
    outputs: Mapping[Context, Tensor],
    values: bool,
    grads: Mapping[Tensor, Any] | None,
) -> tuple[dict[tuple[Context, int], np.ndarray], dict[int, np.ndarray], str]:
    """Edge gradients and tensor totals from the replay, else from retained/given grads."""
    if values:
        edge_grads, totals, status = _observe_backward(root, ctxs, outputs)
    else:
        edge_grads, totals, status = {}, {}, "off"
    if status != "computed":
        # what is still known: non-leaf .grad kept by retain_grad() (the last pass's total)
        for ctx in ctxs:
            for t in ctx.inputs:
                if t is not None and t._node is not None and t.grad is not None:
                    totals[id(t)] = t.grad.data
        if root._node is not None and root.grad is not None:
            totals[id(root)] = root.grad.data
        if values:
            totals.setdefault(id(root), np.ones(root.shape, dtype=root.dtype))
    totals.update(_known_grads(grads))
    return edge_grads, totals, status


def _build_backward(root: Tensor, values: bool, grads: Mapping[Tensor, Any] | None) -> GraphData:
    ctxs, outputs = _walk(root)
    b = _Builder()
    if not ctxs and not root._requires_grad:
        b.node("t", "tensor", leaf_role(root), tensor=root)
        return GraphData(b.nodes, b.edges, root, "backward")
    edge_grads, totals, status = _gradients(root, ctxs, outputs, values, grads)
    leaf_scope = _leaf_scopes(ctxs)
    uses: dict[int, int] = {id(root): 1}  # gradient contributions each tensor receives
    for ctx in ctxs:
        for t, need in zip(ctx.inputs, ctx.needs_input_grad):
            if need:
                uses[id(t)] = uses.get(id(t), 0) + 1

    steps: dict[Context, Node] = {}
    ends: dict[int, Node] = {}  # leaf -> its .grad node
    sums: dict[int, Node] = {}  # tensor -> its accumulate node

    def destination(t: Tensor) -> Node:
        """Where t's total gradient goes: its producer's backward step, or the leaf's .grad."""
        c = t._node
        if c is not None:
            n = steps.get(c)
            if n is None:
                n = steps[c] = b.node("bw", "backward", "backward", ctx=c, tensor=t, scope=c.scope)
            return n
        n = ends.get(id(t))
        if n is None:
            g = totals.get(id(t))
            if g is None and t.grad is not None:
                g = t.grad.data
            n = ends[id(t)] = b.node(
                "g", "grad", leaf_role(t), tensor=t, scope=leaf_scope.get(id(t)), grad=g
            )
        return n

    def target(t: Tensor) -> Node:
        """The node a gradient contribution for t flows into (a "+" when t was used twice)."""
        if uses[id(t)] == 1:
            return destination(t)
        n = sums.get(id(t))
        if n is None:
            total = totals.get(id(t))
            n = sums[id(t)] = b.node("acc", "accumulate", "accumulate", tensor=t, grad=total)
            dest = destination(t)
            n.scope = dest.scope
            b.edge(n, dest, "gradient", tensor=t, grad=total)
        return n

    seed = b.node("seed", "seed", "seed", tensor=root, grad=totals.get(id(root)))
    b.edge(seed, target(root), "gradient", tensor=root, grad=totals.get(id(root)))
    # the engine's order: newest generation first, so a step runs after all its consumers
    for ctx in sorted(ctxs, key=lambda c: (-c.generation, -c.seq)):
        step = steps.get(ctx)
        if step is None:  # unreachable for gradients (e.g. only feeds an input without grad)
            continue
        for i, (t, need) in enumerate(zip(ctx.inputs, ctx.needs_input_grad)):
            if not need:
                continue
            g = edge_grads.get((ctx, i))
            if g is None and uses[id(t)] == 1:
                g = totals.get(id(t))
            b.edge(step, target(t), "gradient", arg=i, tensor=t, grad=g)
    return GraphData(b.nodes, b.edges, root, "backward", status)


def _add_gradients(data: GraphData, values: bool, grads: Mapping[Tensor, Any] | None) -> None:
    """Both passes in one picture: a reversed gradient edge along every differentiable edge."""
    ctxs, outputs = _walk(data.root)
    edge_grads, totals, status = _gradients(data.root, ctxs, outputs, values, grads)
    data.view, data.values = "both", status
    extra = []
    for e in data.edges:
        if e.kind == "input":
            ctx = e.dst.ctx
            assert ctx is not None and e.arg is not None
            if ctx.needs_input_grad[e.arg]:
                g = edge_grads.get((ctx, e.arg))
                extra.append(Edge(e.src, e.dst, "gradient", e.arg, e.tensor, g, reverse=True))
        elif e.kind == "output":
            g = totals.get(id(e.tensor))
            extra.append(Edge(e.src, e.dst, "gradient", None, e.tensor, g, reverse=True))
    data.edges.extend(extra)
    for n in data.nodes:
        if n.kind == "tensor" and n.tensor is not None and n.tensor._requires_grad:
            g = totals.get(id(n.tensor))
            if g is None and n.tensor.grad is not None:
                g = n.tensor.grad.data
            n.grad = g


def _mark_stale_grads(data: GraphData) -> None:
    """Mark each ``.grad`` that is not this graph's gradient (e.g. left from the last step).

    Once ``backward()`` has freed this graph, the gradients are that pass's. Before, the
    graph's own gradients are computed and compared: a ``.grad`` that differs (an earlier
    step's, or several passes summed) or that this graph does not reach is stale.
    """
    held = [n for n in data.nodes if n.kind == "tensor" and n.tensor.grad is not None]  # type: ignore[union-attr]
    if not held:
        return
    ctxs, outputs = _walk(data.root)
    if any(c.freed for c in ctxs):
        return
    _, totals, status = _gradients(data.root, ctxs, outputs, True, None)
    if status != "computed":
        return
    for n in held:
        g = n.tensor.grad.data  # type: ignore[union-attr]
        own = totals.get(id(n.tensor))
        n.stale = (
            own is None or own.shape != g.shape or not np.allclose(g, own, rtol=1e-5, atol=1e-8)
        )


# --------------------------------------------------------------------------- views


_HIDDEN_WITH_TENSORS = ("tensor", "seed", "grad")


def hide_tensors(data: GraphData) -> GraphData:
    """Ops only: each op links straight to the ops that consume its output."""
    ops = [n for n in data.nodes if n.kind not in _HIDDEN_WITH_TENSORS]
    if not ops:
        return data
    producer: dict[Node, Node] = {}
    for e in data.edges:
        if e.kind == "output":
            producer[e.dst] = e.src
    edges = []
    for e in data.edges:
        if e.dst.kind in _HIDDEN_WITH_TENSORS:
            continue
        if e.src.kind in _HIDDEN_WITH_TENSORS:
            p = producer.get(e.src)
            if p is None:  # a leaf, or the backward seed
                continue
            kind = "flow" if e.kind == "input" else e.kind
            edges.append(Edge(p, e.dst, kind, e.arg, e.tensor, e.grad, e.reverse))
        else:
            edges.append(e)
    return GraphData(ops, edges, data.root, data.view, data.values)


def collapse(data: GraphData) -> GraphData:
    """One node per call of a named scope (an ``mg.nn`` module), e.g. ``conv1``.

    Ops recorded inside one ``name_scope`` call, one after another, become one "module" node;
    a tensor or "+" node joins it when all its neighbours do (weights, internal values).
    Nested scopes collapse at the innermost level and keep their parents as clusters.
    """
    ops = [n for n in data.nodes if n.ctx is not None and n.ctx.scope is not None]
    if not ops:
        return data
    group: dict[Node, int] = {}
    scope_of: list[str] = []
    ordered = sorted(
        (n for n in data.nodes if n.ctx is not None),
        key=lambda n: n.ctx.seq,  # type: ignore[union-attr]
    )
    prev: str | None = None
    for n in ordered:
        scope = n.ctx.scope  # type: ignore[union-attr]
        if scope is None:
            prev = None
            continue
        if scope != prev:
            scope_of.append(scope)
            prev = scope
        group[n] = len(scope_of) - 1
    neighbours: dict[Node, list[Node]] = {}
    for e in data.edges:
        neighbours.setdefault(e.src, []).append(e.dst)
        neighbours.setdefault(e.dst, []).append(e.src)
    for n in data.nodes:
        if n in group or n.kind in ("seed", "grad") or n.role in ("input", "output"):
            continue
        gs = {group.get(m, -1) for m in neighbours.get(n, ())}
        if len(gs) == 1 and -1 not in gs:
            group[n] = gs.pop()
    calls: dict[str, int] = {}
    modules: dict[int, Node] = {}
    nodes: list[Node] = []
    for n in data.nodes:
        gi = group.get(n)
        if gi is None:
            nodes.append(n)
            continue
        m = modules.get(gi)
        if m is None:
            scope = scope_of[gi]
            calls[scope] = calls.get(scope, 0) + 1
            parent = scope.rpartition("/")[0] or None
            m = modules[gi] = Node(f"m{len(modules)}", "module", "module", scope=parent)
            m.name, m.members, m.calls = scope, [], (calls[scope], 0)
            nodes.append(m)
        assert m.members is not None
        m.members.append(n)
    for m in modules.values():
        m.calls = (m.calls[0], calls[m.name])  # type: ignore[index]
    # what stays outside a collapsed scope is drawn next to its node, in the parent's cluster
    for n in nodes:
        if n.kind != "module" and n.scope in calls:
            n.scope = n.scope.rpartition("/")[0] or None
    edges = []
    for e in data.edges:
        src = modules[group[e.src]] if e.src in group else e.src
        dst = modules[group[e.dst]] if e.dst in group else e.dst
        if src is dst:
            continue
        if src is e.src and dst is e.dst:
            edges.append(e)
        else:
            edges.append(Edge(src, dst, e.kind, e.arg, e.tensor, e.grad, e.reverse))
    return GraphData(nodes, edges, data.root, data.view, data.values)


def build(
    t: Tensor,
    backward: bool | str = False,
    *,
    values: bool = True,
    grads: Mapping[Tensor, Any] | None = None,
    collapse_scopes: bool = False,
    show_tensors: bool = True,
) -> GraphData:
    """Graph data for ``t``: ``backward`` is False (forward), True (backward) or "both".

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> [n.kind for n in build((x * x).sum()).nodes]
    ['tensor', 'op', 'tensor', 'op', 'tensor']
    """
    if not isinstance(t, Tensor):
        raise TypeError(
            f"minigrad.graph: expected a minigrad Tensor to draw, got {type(t).__name__}"
        )
    with _gc_paused():
        return _build(t, backward, values, grads, collapse_scopes, show_tensors)


def _build(
    t: Tensor,
    backward: bool | str,
    values: bool,
    grads: Mapping[Tensor, Any] | None,
    collapse_scopes: bool,
    show_tensors: bool,
) -> GraphData:
    if backward == "both":
        data = _build_forward(t)
        _add_gradients(data, values, grads)
    elif backward is True:
        data = _build_backward(t, values, grads)
    elif backward is False:
        data = _build_forward(t)
        if values:
            _mark_stale_grads(data)
    else:
        raise ValueError(
            f"minigrad.graph: backward must be True, False or 'both', got {backward!r}"
        )
    if not show_tensors:
        data = hide_tensors(data)
    if collapse_scopes:
        data = collapse(data)
    return data


# --------------------------------------------------------------------------- facts


def to_plain(v: Any, max_items: int = MAX_VALUES) -> Any:
    """An attribute value as plain Python (numbers, str, tuples, lists) for export.

    >>> to_plain((np.int64(2), slice(None, 3)))
    (2, ':3')
    """
    if isinstance(v, np.generic):  # before float: np.float64 is a float subclass
        return v.item()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.ndarray):
        if v.size <= max_items:
            return v.tolist()
        return f"array(shape={v.shape}, dtype={v.dtype})"
    if isinstance(v, Tensor):
        return f"tensor(shape={v.shape}, dtype={v.dtype})"
    if isinstance(v, slice):
        parts = ["" if p is None else str(to_plain(p)) for p in (v.start, v.stop, v.step)]
        return ":".join(parts[:2] if v.step is None else parts)
    if v is Ellipsis:
        return "..."
    if isinstance(v, (tuple, list)):
        return type(v)(to_plain(x, max_items) for x in v)
    if isinstance(v, dict):
        return {str(k): to_plain(x, max_items) for k, x in v.items()}
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, type):
        try:
            return np.dtype(v).name
        except TypeError:
            return v.__name__
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def same_value(a: Any, b: Any) -> bool:
    """Equality that never raises (arrays and odd types count as different)."""
    if a is b:
        return True
    if type(a) is not type(b) or isinstance(a, np.ndarray):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def shown_attrs(ctx: Context) -> dict[str, Any]:
    """The attributes worth printing on a node: those that differ from their default."""
    defaults = op_spec(ctx.op).attrs
    return {
        k: v
        for k, v in ctx.attrs.items()
        if defaults.get(k, _EMPTY) is _EMPTY or not same_value(v, defaults[k])
    }


# Statistics of one array, computed once per drawing: a label and a tooltip both show them.
# The cache lives only while a drawing is built (see summary_cache), as arrays such as
# parameters change in place between drawings.
_stats_cache: ContextVar[dict[int, tuple[np.ndarray, dict[str, Any]]] | None] = ContextVar(
    "minigrad_graph_stats", default=None
)


@contextmanager
def summary_cache() -> Iterator[None]:
    """Reuse array statistics within one drawing (nested uses share the outer cache)."""
    if _stats_cache.get() is not None:
        yield
        return
    token = _stats_cache.set({})
    try:
        yield
    finally:
        _stats_cache.reset(token)


def _stats(a: np.ndarray) -> dict[str, Any]:
    cache = _stats_cache.get()
    if cache is not None:
        hit = cache.get(id(a))
        if hit is not None and hit[0] is a:
            return hit[1]
    out: dict[str, Any] = {}
    if a.dtype.kind in "biuf":
        out["min"], out["mean"], out["max"] = a.min(), a.mean(), a.max()
    if a.dtype.kind in "fc":
        out["norm"] = float(np.sqrt(np.vdot(a, a).real))
    if cache is not None:
        cache[id(a)] = (a, out)  # holding `a` keeps its id from being reused meanwhile
    return out


def array_summary(a: np.ndarray, max_values: int = MAX_VALUES) -> dict[str, Any]:
    """Cheap facts about an array: its values when small, else min/mean/max; and its norm.

    Each statistic is one numpy reduction, so summarising a large activation costs a few
    passes over memory and no Python loop.
    """
    out: dict[str, Any] = {}
    if a.size == 0:
        return out
    if a.size <= max_values:
        out["values"] = a
        if a.dtype.kind in "fc":
            out["norm"] = float(np.sqrt(np.vdot(a, a).real))
        return out
    out.update(_stats(a))
    return out


def _summary_facts(prefix: str, a: np.ndarray | None) -> dict[str, Any]:
    if a is None:
        return {}
    s = array_summary(a)
    facts: dict[str, Any] = {}
    if "norm" in s:
        facts[f"{prefix}norm"] = s["norm"]
    if "values" in s:
        facts[prefix.rstrip("_") or "value"] = s["values"].tolist()
    for k in ("min", "mean", "max"):
        if k in s:
            facts[f"{prefix}{k}"] = float(s[k])
    return facts


def _op_facts(ctx: Context, out: Tensor | None) -> dict[str, Any]:
    spec = op_spec(ctx.op)
    saved = ctx._saved
    return {
        "op": ctx.name,
        "attrs": {k: to_plain(v) for k, v in ctx.attrs.items()},
        "shape": None if out is None else out.shape,
        "dtype": None if out is None else dtype_name(out.dtype),
        "scope": ctx.scope,
        "plugin": ctx.op.plugin,
        "grad_shape": None if out is None else out.shape,
        "inputs": spec.inputs,
        "generation": ctx.generation,
        "freed": ctx.freed,
        "saved": None
        if saved is None
        else [a.shape if isinstance(a, np.ndarray) else to_plain(a) for a in saved],
    }


def node_facts(n: Node) -> dict[str, Any]:
    """The networkx attributes of a node (see :func:`to_networkx`)."""
    facts: dict[str, Any] = {
        "kind": n.kind,
        "op": None,
        "attrs": {},
        "shape": None,
        "dtype": None,
        "name": None,
        "role": n.role,
        "scope": n.scope,
        "plugin": None,
        "grad_shape": None,
    }
    t = n.tensor
    if n.kind == "module":
        members = n.members or []
        ops = [m.ctx.name for m in members if m.ctx is not None]
        params = [m.tensor for m in members if m.kind == "tensor" and m.role == "parameter"]
        facts.update(
            op=(n.name or "").rpartition("/")[2],
            scope=n.name,
            ops=ops,
            params={
                (p.name or f"param{i}"): p.shape for i, p in enumerate(params) if p is not None
            },
            plugin=next((m.ctx.op.plugin for m in members if m.ctx and m.ctx.op.plugin), None),
        )
        return facts
    if n.ctx is not None:
        facts.update(_op_facts(n.ctx, t))
        facts["scope"] = n.ctx.scope
        return facts
    if t is None:
        return facts
    facts.update(shape=t.shape, dtype=dtype_name(t.dtype), name=t.name)
    if n.kind == "tensor":
        facts["op"] = t.op
        facts["grad_shape"] = t.shape if t._requires_grad else None
        if values_freed(t):  # backward() gave the array back: no placeholder numbers
            facts["values_freed"] = True
        else:
            facts.update(_summary_facts("", t.data))
        facts.pop("norm", None)
        g = n.grad if n.grad is not None else (None if t.grad is None else t.grad.data)
        facts.update(_summary_facts("grad_", g))
        if n.stale:
            facts["grad_stale"] = True
    else:  # seed, grad, accumulate: they show a gradient
        facts["grad_shape"] = t.shape
        if n.kind == "grad":
            facts["name"] = f"{t.name or n.role}.grad"
        facts.update(_summary_facts("grad_", n.grad))
    return facts


def edge_facts(e: Edge) -> dict[str, Any]:
    """The networkx attributes of an edge (see :func:`to_networkx`)."""
    t = e.tensor
    facts: dict[str, Any] = {"arg": e.arg, "kind": e.kind, "shape": None if t is None else t.shape}
    ctx = e.dst.ctx if e.kind in ("input", "flow") else e.src.ctx
    if e.arg is not None and ctx is not None:
        names = op_spec(ctx.op).inputs
        facts["input"] = names[e.arg] if e.arg < len(names) else f"arg{e.arg}"
    if e.kind == "gradient":
        facts["grad_shape"] = None if t is None else t.shape
        facts.update(_summary_facts("grad_", e.grad))
    return facts


def to_networkx(
    t: Tensor,
    backward: bool | str = False,
    *,
    grads: Mapping[Tensor, Any] | None = None,
    values: bool = True,
    collapse: bool = False,
    show_tensors: bool = True,
) -> networkx.MultiDiGraph:
    """The graph of ``t`` as a networkx MultiDiGraph, for analysis.

    Forward (``backward=False``): tensor and op nodes, one edge per argument (attribute
    ``arg`` = its position), so ``x * x`` has two parallel edges, plus one edge from each op
    to its output. Node attributes: ``kind`` ("tensor" | "op"), ``op``, ``attrs``, ``shape``,
    ``dtype``, ``name``, ``role`` ("input", "parameter", "constant", "intermediate",
    "output", or the kind for other nodes), ``scope``, ``plugin``, ``grad_shape``; tensors
    also carry ``value`` (small) or ``min``/``mean``/``max``, and after backward ``grad_norm``
    and ``grad`` (small). Backward (``backward=True``): "seed", "backward", "accumulate" and
    "grad" nodes; each edge carries the gradient flowing along it (``grad_shape``,
    ``grad_norm``, ``grad``); ``G.graph["values"]`` says whether the values could be computed
    ("computed", "freed", "off" or "unavailable: ..."). ``backward="both"`` gives the
    forward graph plus a reversed "gradient" edge along each differentiable edge (what
    ``draw(t, both=True)`` shows). Node ids follow traversal order.

    ``grads`` maps tensors to gradients you collected yourself (shown when the graph's saved
    state was freed); ``values=False`` skips recomputing gradient values; ``collapse`` and
    ``show_tensors`` give the same views as :func:`minigrad.graph.draw`.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> G = mg.graph.to_networkx(x * x)      # x -mul-> y: two parallel edges x -> mul
    >>> sorted(d["arg"] for _, _, d in G.in_edges("op1", data=True))
    [0, 1]
    """
    import networkx as nx

    data = build(
        t,
        backward,
        values=values,
        grads=grads,
        collapse_scopes=collapse,
        show_tensors=show_tensors,
    )
    G = nx.MultiDiGraph(view=data.view, values=data.values)
    with _gc_paused(), summary_cache():
        G.add_nodes_from((n.id, node_facts(n)) for n in data.nodes)
        G.add_edges_from((e.src.id, e.dst.id, edge_facts(e)) for e in data.edges)
    return G
