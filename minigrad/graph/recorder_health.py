"""Health of a recorded run: per-layer numbers for every frame, and flags in plain words.

Numbers per frame (``Frame.stats[layer]``), all computed in float64:

- layers with parameters (``"conv1"`` for ``conv1.weight`` and ``conv1.bias``):
  ``weight_norm`` (after the step), ``grad_norm``, ``update_ratio`` (norm of the update over
  the norm of the weights before it; about 1e-3 is the classic healthy value) and
  ``finite`` (1.0, or 0.0 once a weight or gradient is NaN or infinite);
- ReLU modules: ``dead``, the fraction of units (elements of one sample's output) that are 0
  for every probe; Sigmoid and Tanh modules: ``saturated``, the fraction of units within 0.01
  of a bound (sigmoid 0 or 1, tanh -1 or 1) for every probe, where the slope is below 0.02.

Flags (:func:`flags`, ``rec.health()``) look for a condition that holds on ``patience``
consecutive kept frames (or on every frame from some point to the end when fewer remain) and
report where it started:

==================== ==========================================================================
kind                 raised when
==================== ==========================================================================
``not_finite``       the loss, a weight or a gradient became NaN or infinite (at once)
``loss_diverging``   the mean loss over a window of steps rose above ``diverge`` x the first's
``dead_relu``        ``dead`` >= ``dead`` (default 0.5)
``saturated``        ``saturated`` >= ``saturated`` (default 0.5)
``large_updates``    ``update_ratio`` > ``update_ratio`` (default 0.5): a step moves the
                     weights by half their size, the learning rate is far too high
``exploding``        ``grad_norm`` > ``explode`` (default 1e3) x the layer's first grad norm
``vanishing``        ``grad_norm`` < ``vanish`` (default 1e-4) x the first, while the loss is
                     still above a tenth of its first value (so not because the model fits)
==================== ==========================================================================

>>> f = Flag("relu1", 14, "dead_relu", "relu1: 92% of ReLU units output 0 on every probe")
>>> str(f)
'relu1: 92% of ReLU units output 0 on every probe'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DEFAULTS", "Flag", "flags", "frame_stats", "series"]

#: the thresholds :func:`flags` uses unless told otherwise
DEFAULTS: dict[str, float] = {
    "dead": 0.5,
    "saturated": 0.5,
    "update_ratio": 0.5,
    "explode": 1e3,
    "vanish": 1e-4,
    "diverge": 3.0,
    "patience": 3,
}

# a unit counts as saturated when its output is this close to a bound (see _MESSAGES)
_SATURATION = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}
_NEAR = 0.01


@dataclass(frozen=True)
class Flag:
    """One problem found in a run: where (``layer``), since when (``step``), what (``kind``),
    and a sentence a learner can read (``message``, also ``str(flag)``)."""

    layer: str
    step: int
    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


def _norm(arrays: list[np.ndarray]) -> float:
    with np.errstate(over="ignore", invalid="ignore"):  # a blown-up run gives inf, not a warning
        return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


def _finite(arrays: list[np.ndarray]) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _every_probe(mask: np.ndarray) -> float:
    """Fraction of units for which ``mask`` holds on every probe (axis 0 is the batch)."""
    if mask.ndim == 0:
        return float(mask)
    units = mask.reshape(mask.shape[0], -1).all(axis=0)
    return float(units.mean()) if units.size else 0.0


def frame_stats(
    frame: Any, before: dict[str, np.ndarray], layers: dict[str, str], kinds: dict[str, str]
) -> dict[str, dict[str, float]]:
    """The health numbers of one frame, per layer (see the module docstring)."""
    stats: dict[str, dict[str, float]] = {}
    groups: dict[str, list[str]] = {}
    for name, layer in layers.items():
        groups.setdefault(layer, []).append(name)
    for layer, names in groups.items():
        weights = [frame.params[n] for n in names]
        grads = [frame.grads[n] for n in names if n in frame.grads]
        s = {"weight_norm": _norm(weights), "finite": float(_finite(weights + grads))}
        if grads:
            s["grad_norm"] = _norm(grads)
        ups = [frame.updates[n] for n in names if n in frame.updates]
        if ups:
            size, moved = _norm([before[n] for n in names if n in frame.updates]), _norm(ups)
            s["update_ratio"] = moved / size if size > 0 else (math.inf if moved > 0 else 0.0)
        stats[layer] = s
    for path, kind in kinds.items():
        a = frame.activations.get(path)
        if a is None:
            continue
        s = stats.setdefault(path, {})
        if kind == "ReLU":
            s["dead"] = _every_probe(a == 0)
        elif kind in _SATURATION:
            low, high = _SATURATION[kind]
            s["saturated"] = _every_probe((a < low + _NEAR) | (a > high - _NEAR))
    return stats


def series(rec: Any) -> dict[str, Any]:
    """``{"steps": [...], "loss": [...], "layers": {layer: {number: [...]}}}`` over the kept
    frames (None where a frame lacks the number; ``loss`` of frame 0 is None), plus
    ``"all_losses"``: the loss of every step (``rec.losses``)."""
    frames = rec.frames
    layers: dict[str, dict[str, list[float | None]]] = {}
    for f in frames:
        for layer, s in f.stats.items():
            for key in s:
                layers.setdefault(layer, {}).setdefault(key, [])
    for layer, numbers in layers.items():
        for key, values in numbers.items():
            values.extend(f.stats.get(layer, {}).get(key) for f in frames)
    return {
        "steps": [f.step for f in frames],
        "loss": [f.loss for f in frames],
        "layers": layers,
        "all_losses": list(rec.losses),
    }


def _runs(ok: list[bool], patience: int) -> tuple[int, int] | None:
    """(first, last) index of the first run of True at least ``patience`` long (or as long as
    the whole series, when that is shorter)."""
    need, start = min(patience, len(ok)), None
    for i, flag in enumerate([*ok, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= need:
                return start, i - 1
            start = None
    return None


def _span(steps: list[int], first: int, last: int) -> str:
    if last == len(steps) - 1:
        return f"since step {steps[first]}"
    return f"from step {steps[first]} to step {steps[last]}"


def flags(rec: Any, **thresholds: float) -> list[Flag]:
    """Every flag the recorded run raises, ordered by step then layer (see module docstring).

    Keyword arguments override :data:`DEFAULTS` (e.g. ``dead=0.9``).
    """
    unknown = sorted(set(thresholds) - set(DEFAULTS))
    if unknown:
        raise TypeError(
            f"Recorder.health: unknown threshold(s) {unknown}; known: {sorted(DEFAULTS)}"
        )
    t = {**DEFAULTS, **thresholds}
    patience = int(t["patience"])
    data = series(rec)
    found = _loss_flags(data["all_losses"], t)
    after = _after(rec)
    name = getattr(rec, "display_name", lambda p: p)  # "relu1", not the key "1"
    for layer, numbers in data["layers"].items():
        before = after.get(layer)
        found += _layer_flags(
            name(layer), numbers, data, t, patience, None if before is None else name(before)
        )
    return sorted(found, key=lambda f: (f.step, f.layer, f.kind))


def _after(rec: Any) -> dict[str, str]:
    """Activation module -> the layer with parameters called just before it (for messages)."""
    out, last = {}, None
    frame0 = rec.frames[0]
    has_params = set(rec.layers.values())
    for path in frame0.activations:
        if path in has_params:
            last = path
        elif last is not None:
            out[path] = last
    return out


def _loss_flags(losses: list[float | None], t: dict[str, float]) -> list[Flag]:
    found = []
    for i, v in enumerate(losses):
        if v is not None and not math.isfinite(v):
            found.append(Flag("loss", i + 1, "not_finite", f"the loss became {v} at step {i + 1}"))
            break
    known = [(i + 1, v) for i, v in enumerate(losses) if v is not None and math.isfinite(v)]
    window = max(5, len(known) // 20)
    first = known[0][1] if known else 0.0
    for k in range(1, len(known) - window + 1):  # from the first step's loss, before updates
        mean = sum(v for _, v in known[k : k + window]) / window
        if first > 0 and mean > t["diverge"] * first:
            step = known[k][0]
            found.append(
                Flag(
                    "loss",
                    step,
                    "loss_diverging",
                    f"the loss is diverging: over steps {step}-{known[k + window - 1][0]} it "
                    f"averaged {mean:.3g}, {mean / first:.0f}x its first value {first:.3g}; "
                    "the learning rate is probably too high",
                )
            )
            break
    return found


_MESSAGES = {
    "not_finite": "{where}: weights or gradients are NaN or infinite {when}",
    "dead_relu": "{where}: {v:.0%} of ReLU units output 0 on every probe {when}",
    "saturated": "{where}: {v:.0%} of units are saturated (within 0.01 of a bound, so they "
    "barely pass gradient) on every probe {when}",
    "large_updates": "{where}: each step moves the weights by {v:.0%} of their size {when}; "
    "the learning rate is probably too high",
    "exploding": "{where}: the gradient norm grew from {ref:.3g} to {v:.3g} {when} "
    "(exploding gradients)",
    "vanishing": "{where}: the gradient norm fell from {ref:.3g} to {v:.3g} {when} while the "
    "loss stayed high (vanishing gradients: this layer stopped learning)",
}


def _layer_flags(
    layer: str,
    numbers: dict[str, list[float | None]],
    data: dict[str, Any],
    t: dict[str, float],
    patience: int,
    after: str | None,
) -> list[Flag]:
    steps, where = data["steps"], f"{layer} (after {after})" if after else layer

    def holds(key: str, cond: Any) -> list[bool]:
        return [v is not None and bool(cond(v)) for v in numbers.get(key, [])]

    grads = [v for v in numbers.get("grad_norm", []) if v is not None and v > 0]
    ref = grads[0] if grads and math.isfinite(grads[0]) else None
    rules = [  # (kind, series, frames where the condition holds, frames it must last)
        ("not_finite", "finite", holds("finite", lambda v: v == 0), 1),
        ("dead_relu", "dead", holds("dead", lambda v: v >= t["dead"]), patience),
        ("saturated", "saturated", holds("saturated", lambda v: v >= t["saturated"]), patience),
        (
            "large_updates",
            "update_ratio",
            holds("update_ratio", lambda v: v > t["update_ratio"]),
            patience,
        ),
    ]
    if ref is not None:
        first_loss = next((v for v in data["loss"] if v is not None), None)
        # vanishing only counts while the loss is still high: a model that fits has small grads
        high = [
            v is not None and first_loss is not None and v > 0.1 * first_loss for v in data["loss"]
        ]
        small = holds("grad_norm", lambda v: v < t["vanish"] * ref)
        rules.append(
            (
                "exploding",
                "grad_norm",
                holds("grad_norm", lambda v: v > t["explode"] * ref),
                patience,
            )
        )
        rules.append(("vanishing", "grad_norm", [a and b for a, b in zip(small, high)], patience))
    found = []
    for kind, key, ok, wait in rules:
        run = _runs(ok, wait)
        if run is not None:
            first, last = run
            when = _span(steps, first, last)
            text = _MESSAGES[kind].format(where=where, v=numbers[key][last], when=when, ref=ref)
            found.append(Flag(layer, steps[first], kind, text))
    return found
