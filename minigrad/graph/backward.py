"""The backward view, with gradient values read from the engine's own traversal.

Gradients come from the engine's own traversal, watched (:func:`.trace.watch`): the inspector
shows what the engine does, and runs it with ``retain_graph=True``, ``accumulate=False`` and
``hooks=False`` so drawing changes nothing (no ``.grad`` written, no saved state freed, no
user hook called).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..op import Context
from ..tensor import Tensor
from .data import Builder, Edge, GraphData, Node, leaf_role, leaf_scopes
from .trace import Trace, edge_grads, producer, walk, watch

__all__ = ["add_gradients", "build_backward", "gradients", "observe_backward"]


def observe_backward(
    root: Tensor, ctxs: list[Context], trace: Trace | None = None
) -> tuple[dict[tuple[Context, int], np.ndarray], dict[int, np.ndarray], str]:
    """The engine's own backward pass from ``root``, watched (:func:`.trace.watch`, unless
    ``trace`` already holds it), leaving no trace: the gradient along each (node, input
    position) edge, each tensor's total gradient keyed by ``id`` (a copy), and a status
    ("computed", "freed", "unavailable: ...")."""
    if trace is None or trace.status == "off":
        trace = watch(root, ctxs)
    status = trace.status
    if status == "off":  # a root that needs no gradient: the engine would refuse it
        status = "unavailable: the output does not require grad"
    return edge_grads(trace), dict(trace.totals), status


def known_grads(grads: Mapping[Tensor, Any] | None) -> dict[int, np.ndarray]:
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


def gradients(
    root: Tensor,
    ctxs: list[Context],
    values: bool,
    grads: Mapping[Tensor, Any] | None,
    trace: Trace | None = None,
) -> tuple[dict[tuple[Context, int], np.ndarray], dict[int, np.ndarray], str]:
    """Edge gradients and tensor totals from the engine pass, else from retained/given grads."""
    if values:
        sent, totals, status = observe_backward(root, ctxs, trace)
    else:
        sent, totals, status = {}, {}, "off"
    if status != "computed":
        # what is still known: non-leaf .grad kept by retain_grad() (the last pass's total)
        for ctx in ctxs:
            for t in ctx.inputs:
                if t is not None and producer(t) is not None and t.grad is not None:
                    totals[id(t)] = t.grad.data
        if producer(root) is not None and root.grad is not None:
            totals[id(root)] = root.grad.data
        if values:
            totals.setdefault(id(root), np.ones(root.shape, dtype=root.dtype))
    totals.update(known_grads(grads))
    return sent, totals, status


def _uses(root: Tensor, ctxs: list[Context]) -> dict[int, int]:
    """How many gradient contributions each tensor receives (keyed by ``id``)."""
    uses: dict[int, int] = {id(root): 1}
    for ctx in ctxs:
        for t, need in zip(ctx.inputs, ctx.needs_input_grad):
            if need:
                uses[id(t)] = uses.get(id(t), 0) + 1
    return uses


class _Targets:
    """The nodes gradients flow into: backward steps, "+" sums and leaves' ``.grad``."""

    def __init__(self, b: Builder, ctxs: list[Context], root: Tensor, totals: dict) -> None:
        self.b, self.totals = b, totals
        self.uses = _uses(root, ctxs)
        self.leaf_scope = leaf_scopes(ctxs)
        self.steps: dict[Context, Node] = {}
        self.ends: dict[int, Node] = {}  # leaf -> its .grad node
        self.sums: dict[int, Node] = {}  # tensor -> its accumulate node

    def destination(self, t: Tensor) -> Node:
        """Where t's total gradient goes: its producer's backward step, or the leaf's .grad."""
        c = producer(t)
        if c is not None:
            n = self.steps.get(c)
            if n is None:
                n = self.b.node("bw", "backward", "backward", ctx=c, tensor=t, scope=c.scope)
                self.steps[c] = n
            return n
        n = self.ends.get(id(t))
        if n is None:
            g = self.totals.get(id(t))
            if g is None and t.grad is not None:
                g = t.grad.data
            scope = self.leaf_scope.get(id(t))
            n = self.ends[id(t)] = self.b.node(
                "g", "grad", leaf_role(t), tensor=t, scope=scope, grad=g
            )
        return n

    def target(self, t: Tensor) -> Node:
        """The node a gradient contribution for t flows into (a "+" when t was used twice)."""
        if self.uses[id(t)] == 1:
            return self.destination(t)
        n = self.sums.get(id(t))
        if n is None:
            total = self.totals.get(id(t))
            n = self.b.node("acc", "accumulate", "accumulate", tensor=t, grad=total)
            self.sums[id(t)] = n
            dest = self.destination(t)
            n.scope = dest.scope
            self.b.edge(n, dest, "gradient", tensor=t, grad=total)
        return n


def build_backward(
    root: Tensor, values: bool, grads: Mapping[Tensor, Any] | None, trace: Trace | None = None
) -> GraphData:
    """The backward view: seed, one node per backward step, "+" sums, leaves' ``.grad``."""
    ctxs = walk(root)[0] if trace is None else trace.nodes
    b = Builder()
    if not ctxs and not root.requires_grad:
        b.node("t", "tensor", leaf_role(root), tensor=root)
        return GraphData(b.nodes, b.edges, root, "backward")
    edge_grads, totals, status = gradients(root, ctxs, values, grads, trace)
    to = _Targets(b, ctxs, root, totals)
    seed = b.node("seed", "seed", "seed", tensor=root, grad=totals.get(id(root)))
    b.edge(seed, to.target(root), "gradient", tensor=root, grad=totals.get(id(root)))
    # the engine's order: newest generation first, so a step runs after all its consumers
    for ctx in sorted(ctxs, key=lambda c: (-c.generation, -c.seq)):
        step = to.steps.get(ctx)
        if step is None:  # unreachable for gradients (e.g. only feeds an input without grad)
            continue
        for i, (t, need) in enumerate(zip(ctx.inputs, ctx.needs_input_grad)):
            if not need or t is None:  # an absent optional input needs no gradient
                continue
            g = edge_grads.get((ctx, i))
            if g is None and to.uses[id(t)] == 1:
                g = totals.get(id(t))
            b.edge(step, to.target(t), "gradient", arg=i, tensor=t, grad=g)
    return GraphData(b.nodes, b.edges, root, "backward", status)


def add_gradients(
    data: GraphData, values: bool, grads: Mapping[Tensor, Any] | None, trace: Trace | None = None
) -> None:
    """Both passes in one picture: a reversed gradient edge along every differentiable edge."""
    ctxs = walk(data.root)[0] if trace is None else trace.nodes
    edge_grads, totals, status = gradients(data.root, ctxs, values, grads, trace)
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
        if n.kind == "tensor" and n.tensor is not None and n.tensor.requires_grad:
            g = totals.get(id(n.tensor))
            if g is None and n.tensor.grad is not None:
                g = n.tensor.grad.data
            n.grad = g
