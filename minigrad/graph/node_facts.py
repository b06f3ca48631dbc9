"""Facts about nodes and edges: plain attribute values, array summaries, networkx attributes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from ..op import Context, op_spec
from ..tensor import Tensor
from .data import MAX_VALUES, Edge, Node, dtype_name, values_freed

__all__ = [
    "array_summary",
    "edge_facts",
    "node_facts",
    "same_value",
    "shown_attrs",
    "summary_cache",
    "to_plain",
]

_EMPTY = __import__("inspect").Parameter.empty


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
    saved = ctx.saved
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
        facts["grad_shape"] = t.shape if t.requires_grad else None
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
