"""The timeline page of a recorded run: what :meth:`Recorder.explore` puts in the explorer.

The page (``static/timeline.js``) shows the loss curve with a cursor, a slider (and the arrow
keys) over the frames, each conv layer's filters at the chosen frame and as a filmstrip over
the run, the probes' feature maps at the chosen frame, the health series with their flags,
and, for any weight you click, the optimizer's arithmetic of its update at that frame.

Every number the page shows is the engine's: the arrays whose numbers are shown or explained
(weights, gradients, updates, the optimizer's state, dense layers' outputs, the probes)
travel as their exact bytes (see :mod:`minigrad.graph.explorer.encode`), the norms in the
table are computed here over every element, and the update explanation is the optimizer's
own (:meth:`minigrad.optim.Optimizer.explain_update` with ``index=...``) whose text templates
the page fills with those numbers. Feature maps, which are only pictures, travel as uint8
levels between their exact min and max (:func:`levels`), a quarter of float32's bytes.

Each frame also carries the probes' predicted classes (the argmax of the model's last
output); with ``labels=`` (the probes' true classes, and ``classes=`` their names) the page
marks right and wrong predictions and draws the probes' accuracy over the run.

Size. Frames are thinned evenly (frame 0, the last and the steps of health flags always kept)
so the page stays under
``max_bytes`` (default 2 MB) and at most ``frames`` frames (default 300); each parameter
keeps the exact numbers of at most ``max_elements`` elements per array (default 256, the
first ones in flat order, so leading filters stay whole: the weights whose update the page
can explain), and a conv layer's filters are drawn from all its weights (as levels);
activations keep the first ``samples`` probes (default 8) and at most ``max_elements``
elements each (default 4096). Same run, same bytes.

>>> import minigrad as mg
>>> rec = mg.graph.Recorder(mg.nn.Sequential(mg.nn.Linear(2, 2)))
>>> t = timeline_payload(rec)
>>> t["kept"], t["optimizer"], [p["name"] for p in t["params"]]
([0], None, ['fc1.weight', 'fc1.bias'])
>>> rec.explore(title="one frame").save("out/training.html")     # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from .explorer import Explorer, encode
from .explorer.page import render_page

__all__ = ["explore_recording", "timeline_payload"]

_OPTIONS: dict[str, Any] = {
    "frames": 300,
    "samples": 8,
    "max_elements": None,  # None: 256 exact numbers per array, 4096 activation elements
    "max_bytes": 2_000_000,
    "labels": None,
    "classes": None,
}
# finite values take levels 0..LEVELS; the three codes above it are NaN, +inf, -inf
LEVELS = 252
# the defaults of max_elements: exact numbers kept per array, and activation elements
_EXACT_ELEMENTS = 256
_ACT_ELEMENTS = 4096
# at most this many weights of a conv layer drawn as filters (as levels: a byte each)
_PICTURE_ELEMENTS = 16384
# the page's code and style, outside the payload (about 80 KB): kept out of max_bytes too
_CODE_BYTES = 100_000
# module outputs that only reshape their input add nothing to look at
_SKIP_KINDS = {"Flatten", "Identity"}
# explanation values that are already in the frame (grads, params, updates)
_IN_FRAME = {"grad": "grads", "new_weight": "params", "change": "updates"}


def _enc(a: Any, keep: int | None = None) -> dict[str, Any]:
    a = np.asarray(a)
    if keep is not None and a.size > keep:
        return encode.array(a.reshape(-1)[:keep])
    return encode.array(a)


def levels(a: Any, keep: int | None = None) -> dict[str, Any]:
    """A picture's array as uint8 levels: ``{shape, dtype: "uint8", b64, lo, hi, levels}``.

    Finite values map linearly from ``[lo, hi]`` (their exact min and max) to ``0..levels``;
    NaN, +inf and -inf are ``levels + 1``, ``+ 2`` and ``+ 3``. The page reads a value back
    as ``lo + q * (hi - lo) / levels``, within half a level of the engine's.

    >>> import base64
    >>> enc = levels(np.array([0.0, 0.5, 1.0, np.nan], np.float32))
    >>> enc["lo"], enc["hi"], np.frombuffer(base64.b64decode(enc["b64"]), np.uint8).tolist()
    (0.0, 1.0, [0, 126, 252, 253])
    """

    a = np.asarray(a, dtype=np.float64)
    if keep is not None and a.size > keep:
        a = a.reshape(-1)[:keep]
    finite = np.isfinite(a)
    lo = float(a[finite].min()) if finite.any() else 0.0
    hi = float(a[finite].max()) if finite.any() else 0.0
    scale = (hi - lo) / LEVELS if hi > lo else 1.0
    q = np.zeros(a.shape, np.uint8)
    q[finite] = np.rint((a[finite] - lo) / scale).astype(np.uint8)
    q[np.isnan(a)] = LEVELS + 1
    q[a == np.inf] = LEVELS + 2
    q[a == -np.inf] = LEVELS + 3
    out = encode.array(q)
    out.update(lo=encode.num(lo), hi=encode.num(hi), levels=LEVELS)
    return out


def _norm(a: Any) -> Any:
    v = np.asarray(a, dtype=np.float64).reshape(-1)
    return _num(np.sqrt(np.dot(v, v)))


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
    by_name = dict(rec._named)  # display name -> parameter, as the frames are keyed
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
        used = set(re.findall(r"\{(\w+)\}", "\n".join(e["templates"])))
        for k, v in e["values"].items():
            if k in _IN_FRAME or k not in used:  # in the frame already, or never shown
                continue
            values[k] = _enc(v, keep) if np.ndim(v) else _num(v)
        out[name] = {"templates": e["templates"], "values": values}
    return out


def _frame_payload(rec: Any, frame: Any, opts: dict[str, Any], kinds: dict[str, str]) -> dict:
    keep, samples, act_keep = opts["max_elements"], opts["samples"], opts["act_elements"]
    acts = {}
    for path, a in frame.activations.items():
        if kinds.get(path) in _SKIP_KINDS:
            continue
        a = a[:samples] if a.ndim >= 2 else a
        # maps are pictures (levels); a dense layer's numbers are shown (exact)
        acts[path] = levels(a, act_keep) if a.ndim >= 3 else _enc(a, act_keep)
    norms = {
        n: [
            _norm(w),
            None if n not in frame.grads else _norm(frame.grads[n]),
            None if n not in frame.updates else _norm(frame.updates[n]),
        ]
        for n, w in frame.params.items()
    }
    return {
        "step": frame.step,
        "loss": _num(frame.loss),
        "params": {n: _enc(a, keep) for n, a in frame.params.items()},
        "grads": {n: _enc(a, keep) for n, a in frame.grads.items()},
        "updates": {n: _enc(a, keep) for n, a in frame.updates.items()},
        # filters whose numbers are not all kept: every weight as a picture
        "pics": {
            n: levels(a, _PICTURE_ELEMENTS)
            for n, a in frame.params.items()
            if a.ndim == 4 and a.size > keep
        },
        "norms": norms,
        "acts": acts,
        "pred": _predicted(frame, kinds, samples),
        "explain": _explain_frame(rec, frame, keep),
    }


def _predicted(frame: Any, kinds: dict[str, str], samples: int) -> list[int] | None:
    """The probes' predicted classes: the argmax of the last module's (N, K) output."""
    outs = [a for p, a in frame.activations.items() if kinds.get(p) not in _SKIP_KINDS]
    if not outs or outs[-1].ndim != 2 or outs[-1].shape[1] < 2:
        return None
    return [int(k) for k in np.argmax(outs[-1][:samples], axis=1)]


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
    labels, classes = _labels(rec, opts["labels"], opts["classes"])
    given = opts["max_elements"] is not None
    for key, low in (("frames", 2), ("samples", 1), ("max_elements", 1), ("max_bytes", 1)):
        value = opts[key]
        if key == "max_elements" and not given:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"Recorder.explore: {key} must be an int >= {low}, got {value!r}")
    opts["act_elements"] = opts["max_elements"] if given else _ACT_ELEMENTS
    opts["max_elements"] = opts["max_elements"] if given else _EXACT_ELEMENTS
    kinds = dict(rec._kinds)
    frames = rec.frames
    chosen = _pick(len(frames), opts["frames"])
    # measure one full frame (the last: every part present) and what is not in frames
    # (losses, health, probes, the code) to fit the byte budget
    last = _frame_payload(rec, frames[-1], opts, kinds)
    per_frame = max(1, _size(last))
    fixed = (
        _CODE_BYTES
        + _size([rec.losses, _health(rec)])
        + 2 * _size(None if rec.probes is None else _enc(rec.probes[: opts["samples"]]))
    )
    fit = max(2, int(opts["max_bytes"] * 0.97 - fixed) // per_frame)
    if fit < len(chosen):
        chosen = [chosen[i] for i in _pick(len(chosen), fit)]
        # a flag jumps to its step: keep those frames (a few), thinning the rest further
        flagged = {f.step for f in rec.health()}
        must = [i for i, f in enumerate(frames) if f.step in flagged and i not in chosen]
        if must:
            room = max(2, fit - len(must))
            chosen = sorted(set([chosen[i] for i in _pick(len(chosen), room)] + must))
    body = [
        last if i == len(frames) - 1 else _frame_payload(rec, frames[i], opts, kinds)
        for i in chosen
    ]
    shown = min(opts["samples"], 0 if rec.probes is None else len(rec.probes))
    return {
        "frames": body,
        "labels": None if labels is None else labels[:shown],
        "classes": classes,
        "accuracy": _accuracy(body, labels, shown),
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


def _labels(rec: Any, labels: Any, classes: Any) -> tuple[list[int] | None, list[str] | None]:
    """Check ``labels=`` (one class index per probe) and ``classes=`` (their names)."""
    if classes is not None:
        classes = [str(c) for c in classes]
    if labels is None:
        return None, classes
    if rec.probes is None:
        raise ValueError("Recorder.explore: labels= needs a Recorder made with probes=")
    y = np.asarray(labels)
    if y.shape != (len(rec.probes),) or y.dtype.kind not in "iu":
        raise ValueError(
            f"Recorder.explore: labels must be {len(rec.probes)} integer class indices (one "
            f"per probe), got an array of shape {y.shape} and dtype {y.dtype}"
        )
    if classes is not None and (y.min() < 0 or y.max() >= len(classes)):
        raise ValueError(
            f"Recorder.explore: labels must lie in 0..{len(classes) - 1} (the classes given), "
            f"got {int(y.min())}..{int(y.max())}"
        )
    return [int(v) for v in y], classes


def _accuracy(body: list[dict[str, Any]], labels: list[int] | None, shown: int) -> Any:
    """Per kept frame, the share of the shown probes predicted right (None: no prediction)."""
    if labels is None or not shown:
        return None
    out: list[float | None] = []
    for f in body:
        pred = f["pred"]
        out.append(None if pred is None else sum(p == y for p, y in zip(pred, labels)) / shown)
    return out


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
        for n, p in rec._named  # display names ("conv1.weight"), as in summary() and drawings
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
    name = getattr(rec, "display_name", lambda p: p)  # the names flags and summary() use
    layers = {
        name(layer): {k: [_num(v) for v in vals] for k, vals in numbers.items() if k != "finite"}
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
    from .explorer.picture import timeline_picture

    payload = {"timeline": timeline_payload(rec, **options)}
    picture = timeline_picture(payload["timeline"], title)
    return Explorer(render_page(payload, title), title, picture)
