"""The recorded forward graph as a list of calls: the one module of :mod:`minigrad.onnx` that
reads nodes.

It finds a tensor's node with :func:`minigrad.graph.trace.producer` (the one reader of the
engine's graph) and reads it through the node's public face (``name``, ``op``, ``attrs``,
``inputs``, ``seq``, ``scope``). Everything else in :mod:`minigrad.onnx` sees only :class:`Call`
records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minigrad import Context, Tensor
from minigrad.graph.trace import producer

__all__ = ["Call", "trace"]


@dataclass(frozen=True)
class Call:
    """One recorded op call: the op, its attributes, its input Tensors and its output."""

    name: str
    op: type
    attrs: dict[str, Any]
    inputs: tuple[Tensor | None, ...]
    output: Tensor
    scope: str | None


def trace(roots: list[Tensor]) -> list[Call]:
    """Every call the roots depend on, inputs before the calls that read them (creation order)."""
    seen: dict[int, tuple[Context, Tensor]] = {}
    stack = [t for t in roots if producer(t) is not None]
    while stack:
        t = stack.pop()
        ctx = producer(t)
        if ctx is None or id(ctx) in seen:  # only tensors with a node are stacked
            continue
        seen[id(ctx)] = (ctx, t)
        for x in ctx.inputs:
            if x is not None and producer(x) is not None:
                stack.append(x)
    ordered = sorted(seen.values(), key=lambda pair: pair[0].seq)
    return [
        Call(ctx.name, ctx.op, dict(ctx.attrs), tuple(ctx.inputs), t, ctx.scope)
        for ctx, t in ordered
    ]


def is_leaf(t: Tensor) -> bool:
    return producer(t) is None
