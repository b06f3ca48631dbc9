"""The timeline page of a recorded run: what :meth:`Recorder.explore` puts in the explorer.

The page (``static/timeline.js``) shows the loss curve with a cursor, a slider (and the arrow
keys) over the frames, each conv layer's filters at the chosen frame and as a filmstrip over
the run, the probes' feature maps at the chosen frame, the health series with their flags,
and, for any weight you click, the optimizer's arithmetic of its update at that frame.

Every number the page shows is the engine's: arrays travel as their exact bytes (see
:mod:`minigrad.graph.explorer.encode`), and the update explanation is the optimizer's own
(:meth:`minigrad.optim.Optimizer.explain_update` with ``index=...``) whose text templates the
page fills with those numbers.

Size. Frames are thinned evenly (frame 0 and the last always kept) so the page stays under
``max_bytes`` (default 9 MB) and at most ``frames`` frames (default 300); each parameter
keeps at most ``max_elements`` elements per array (default 4096, the first ones in flat
order, so leading filters stay whole) and activations keep the first ``samples`` probes
(default 4) and at most ``max_elements`` elements each. Same run, same bytes.

>>> import minigrad as mg
>>> rec = mg.graph.Recorder(mg.nn.Sequential(mg.nn.Linear(2, 2)))
>>> t = timeline_payload(rec)
>>> t["kept"], t["optimizer"], [p["name"] for p in t["params"]]
([0], None, ['0.weight', '0.bias'])
>>> rec.explore(title="one frame").save("out/training.html")     # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .explorer import Explorer, encode
from .explorer.page import render_page

__all__ = ["explore_recording", "timeline_payload"]

_OPTIONS = {"frames": 300, "samples": 4, "max_elements": 4096, "max_bytes": 9_000_000}
# module outputs that only reshape their input add nothing to look at
_SKIP_KINDS = {"Flatten", "Identity"}
# explanation values that are already in the frame (grads, params, updates)
_IN_FRAME = {"grad": "grads", "new_weight": "params", "change": "updates"}


def _enc(a: Any, keep: int | None = None) -> dict[str, Any]:
    a = np.asarray(a)
    if keep is not None and a.size > keep:
        return encode.array(a.reshape(-1)[:keep])
    return encode.array(a)


def _num(x: Any) -> Any:
    return None if x is None else encode.num(x)


def _pick(n: int, limit: int) -> list[int]:
    """``limit`` indices out of ``range(n)``, evenly spread, first and last included."""
    if n <= limit:
        return list(range(n))
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})


def _explain_frame(rec: Any, frame: Any, keep: int) -> dict[str, Any]:
    """name -> {"templates": [...], "values": {name: encoded array or number}}."""
    out: dict[str, Any] = {}
    if rec.optimizer is None or frame.step == 0:
        return out
    by_name = dict(rec.model.named_parameters())
    for name, before in frame.before.items():
        if name not in frame.grads:
            continue
        state = {k: v for k, v in before.items() if k != "weight"}
        e = rec.optimizer.explain_update(
            by_name[name],
            ...,
            grad=frame.grads[name],
            weight=before["weight"],
            state=state,
            hyperparameters=frame.hyperparameters,
        )
        values = {}
        for k, v in e["values"].items():
            if k in _IN_FRAME:
                continue
            values[k] = _enc(v, keep) if np.ndim(v) else _num(v)
        out[name] = {"templates": e["templates"], "values": values}
    return out


def _frame_payload(rec: Any, frame: Any, opts: dict[str, Any], kinds: dict[str, str]) -> dict:
    keep, samples = opts["max_elements"], opts["samples"]
    acts = {}
    for path, a in frame.activations.items():
        if kinds.get(path) in _SKIP_KINDS:
            continue
        a = a[:samples] if a.ndim >= 2 else a
        acts[path] = _enc(a, keep)
    return {
        "step": frame.step,
        "loss": _num(frame.loss),
        "params": {n: _enc(a, keep) for n, a in frame.params.items()},
        "grads": {n: _enc(a, keep) for n, a in frame.grads.items()},
        "updates": {n: _enc(a, keep) for n, a in frame.updates.items()},
        "acts": acts,
        "explain": _explain_frame(rec, frame, keep),
    }


def _size(obj: Any) -> int:
    return len(json.dumps(obj, separators=(",", ":")))


def timeline_payload(rec: Any, **options: Any) -> dict[str, Any]:
    """The ``"timeline"`` entry of the page payload (options: see the module docstring)."""
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(
            f"Recorder.explore() got unknown option(s) {unknown}; valid options are "
            f"{sorted(_OPTIONS)} and title"
        )
    opts = {**_OPTIONS, **options}
    for key, low in (("frames", 2), ("samples", 1), ("max_elements", 1), ("max_bytes", 1)):
        value = opts[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"Recorder.explore: {key} must be an int >= {low}, got {value!r}")
    kinds = dict(rec._kinds)
    frames = rec.frames
    chosen = _pick(len(frames), opts["frames"])
    # measure one full frame (the last: every part present) to fit the byte budget
    last = _frame_payload(rec, frames[-1], opts, kinds)
    per_frame = max(1, _size(last))
    fit = max(2, int(opts["max_bytes"] * 0.9) // per_frame)
    if fit < len(chosen):
        chosen = [chosen[i] for i in _pick(len(chosen), fit)]
    body = [
        last if i == len(frames) - 1 else _frame_payload(rec, frames[i], opts, kinds)
        for i in chosen
    ]
    return {
        "frames": body,
        "kept": [frames[i].step for i in chosen],
        "recorded": len(frames),
        "losses": [_num(v) for v in rec.losses],
        "params": _params_info(rec, opts["max_elements"]),
        "activations": _acts_info(rec, kinds, opts["samples"]),
        "probes": None if rec.probes is None else _enc(rec.probes[: opts["samples"]]),
        "health": _health(rec),
        "optimizer": None if rec.optimizer is None else type(rec.optimizer).__name__,
        "every": rec.every,
        "stride": rec.stride,
    }


def _params_info(rec: Any, keep: int) -> list[dict[str, Any]]:
    layers = rec.layers
    return [
        {
            "name": n,
            "layer": layers[n],
            "shape": list(p.shape),
            "dtype": str(p.dtype),
            "kept": min(int(p.size), keep),
        }
        for n, p in rec.model.named_parameters()
    ]


def _acts_info(rec: Any, kinds: dict[str, str], samples: int) -> list[dict[str, Any]]:
    acts = rec.frames[0].activations
    return [
        {"name": path, "kind": kinds.get(path, ""), "shape": list(a.shape)}
        for path, a in acts.items()
        if kinds.get(path) not in _SKIP_KINDS
    ]


def _health(rec: Any) -> dict[str, Any]:
    s = rec.series()
    layers = {
        layer: {k: [_num(v) for v in values] for k, values in numbers.items() if k != "finite"}
        for layer, numbers in s["layers"].items()
    }
    flags = [
        {"layer": f.layer, "step": f.step, "kind": f.kind, "message": f.message}
        for f in rec.health()
    ]
    return {"steps": s["steps"], "layers": layers, "flags": flags}


def explore_recording(rec: Any, title: str | None = None, **options: Any) -> Any:
    """The explorer page (an :class:`~minigrad.graph.Explorer`) with the run's timeline."""
    name = type(rec.model).__name__
    title = title or f"minigrad training timeline: {name}, {rec.steps} steps"
    payload = {"timeline": timeline_payload(rec, **options)}
    return Explorer(render_page(payload, title), title)
