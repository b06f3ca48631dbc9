"""The forward view: tensor and op nodes, an edge per argument and one per output."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .backward import gradients
from .data import Builder, GraphData, Node, leaf_role, leaf_scopes
from .trace import Trace, walk

__all__ = ["build_forward", "mark_stale_grads"]


def build_forward(root: Tensor, trace: Trace | None = None) -> GraphData:
    """The forward view of ``root`` (from ``trace``'s walk when given)."""
    ctxs, outputs = walk(root) if trace is None else (trace.nodes, trace.outputs)
    b = Builder()
    if not ctxs:
        b.node("t", "tensor", leaf_role(root), tensor=root)
        return GraphData(b.nodes, b.edges, root, "forward")
    leaf_scope = leaf_scopes(ctxs)
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


def mark_stale_grads(data: GraphData, trace: Trace | None = None) -> None:
    """Mark each ``.grad`` that is not this graph's gradient (e.g. left from the last step).

    Once ``backward()`` has freed this graph, the gradients are that pass's. Before, the
    graph's own gradients are computed and compared: a ``.grad`` that differs (an earlier
    step's, or several passes summed) or that this graph does not reach is stale.
    """
    held = [n for n in data.nodes if n.kind == "tensor" and n.tensor.grad is not None]  # type: ignore[union-attr]
    if not held:
        return
    ctxs = walk(data.root)[0] if trace is None else trace.nodes
    if any(c.freed for c in ctxs):
        return
    _, totals, status = gradients(data.root, ctxs, True, None, trace)
    if status != "computed":
        return
    for n in held:
        g = n.tensor.grad.data  # type: ignore[union-attr]
        own = totals.get(id(n.tensor))
        n.stale = (
            own is None or own.shape != g.shape or not np.allclose(g, own, rtol=1e-5, atol=1e-8)
        )
