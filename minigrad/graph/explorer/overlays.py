"""Health overlays: the first NaN/Inf, dead ReLUs, vanishing or exploding gradients.

All facts come from the recorded values and the engine's gradients; the page colours nodes
and edges with them and lists them in plain words.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..trace import Trace

__all__ = ["health", "VANISHING", "EXPLODING"]

#: a gradient norm below this is flagged as vanishing, above EXPLODING as exploding
VANISHING = 1e-7
EXPLODING = 1e4


def _bad(a: np.ndarray | None) -> bool:
    return a is not None and a.dtype.kind == "f" and not np.isfinite(a).all()


def _forward_nan(reg: Any) -> dict[str, Any] | None:
    """The first call (in recording order) whose output has NaN/Inf while its inputs do not."""
    for ctx, key in sorted(reg.calls.items(), key=lambda kv: kv[0].seq):
        out = ctx.output
        if out is None or getattr(out, "values_freed", False) or not _bad(out.data):
            continue
        ins = [t for t in ctx.inputs if t is not None and not getattr(t, "values_freed", False)]
        if not any(_bad(t.data) for t in ins):
            return {
                "call": key,
                "op": ctx.name,
                "message": f"'{ctx.name}' is the first op whose forward produced NaN/Inf",
            }
    return None


def _backward_nan(reg: Any, trace: Trace) -> dict[str, Any] | None:
    for ev in trace.events:
        if ev.kind != "step" or ev.node is None or _bad(ev.grad):
            continue
        if any(_bad(g) for g in ev.input_grads):
            return {
                "call": reg.call(ev.node),
                "op": ev.node.name,
                "index": ev.index,
                "message": f"'{ev.node.name}' backward is the first to produce NaN/Inf "
                "gradients (its incoming gradient was finite)",
            }
    return None


def _relus(reg: Any) -> dict[str, Any]:
    out = {}
    for ctx, key in reg.calls.items():
        y = ctx.output
        if ctx.name != "relu" or y is None or getattr(y, "values_freed", False) or not y.size:
            continue
        zero = y.data == 0
        dead = (
            float(zero.all(axis=0).mean()) if y.ndim > 1 and y.shape[0] > 1 else float(zero.mean())
        )
        out[key] = {
            "zero": float(zero.mean()),
            "dead": dead,
            "message": f"{dead:.0%} of units are 0 for every sample (dead), "
            f"{zero.mean():.0%} of values are 0",
        }
    return out


def _edge_flags(views: dict[str, Any]) -> list[dict[str, Any]]:
    flags = []
    for i, e in enumerate(views.get("backward", {}).get("edges", [])):
        s = e.get("grad") or {}
        norm = s.get("norm")
        if not isinstance(norm, float) or s.get("nan") or s.get("inf"):
            continue
        kind = "vanishing" if norm < VANISHING else "exploding" if norm > EXPLODING else None
        if kind:
            flags.append(
                {
                    "edge": i,
                    "kind": kind,
                    "norm": norm,
                    "message": f"{kind} gradient: norm {norm:.3g} on {e['src']} -> {e['dst']}",
                }
            )
    return flags


def health(reg: Any, trace: Trace, views: dict[str, Any]) -> dict[str, Any]:
    """Everything the health overlay shows."""
    return {
        "forward_nan": _forward_nan(reg),
        "backward_nan": _backward_nan(reg, trace),
        "relu": _relus(reg),
        "edges": _edge_flags(views),
        "thresholds": {"vanishing": VANISHING, "exploding": EXPLODING},
    }
