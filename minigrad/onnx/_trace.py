"""The recorded forward graph as a list of calls: the one module that reads the engine's nodes.

Everything else in :mod:`minigrad.onnx` sees only :class:`Call` records, so a change in how the
engine stores its graph is adapted here alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minigrad import Tensor

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


def _producer(t: Tensor) -> Any:
    return t._node  # None for a leaf


def trace(roots: list[Tensor]) -> list[Call]:
    """Every call the roots depend on, inputs before the calls that read them (creation order)."""
    seen: dict[int, tuple[Any, Tensor]] = {}
    stack = [t for t in roots if _producer(t) is not None]
    while stack:
        t = stack.pop()
        ctx = _producer(t)
        if id(ctx) in seen:
            continue
        seen[id(ctx)] = (ctx, t)
        for x in ctx.inputs:
            if x is not None and _producer(x) is not None:
                stack.append(x)
    ordered = sorted(seen.values(), key=lambda pair: pair[0].seq)
    return [
        Call(ctx.name, ctx.op, dict(ctx.attrs), tuple(ctx.inputs), t, ctx.scope)
        for ctx, t in ordered
    ]


def is_leaf(t: Tensor) -> bool:
    return _producer(t) is None
