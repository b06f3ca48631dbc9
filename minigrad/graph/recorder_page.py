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
levels between their exact min and max (:func:`levels`), a quarter of float32's bytes, and
only the channels (8) and dense outputs (12 numbers) the page draws.

Each frame also carries the probes' predicted classes (the argmax of the model's last
output); with ``labels=`` (the probes' true classes, and ``classes=`` their names) the page
marks right and wrong predictions and draws the probes' accuracy over the run.

Size. The frames' arrays are packed without losing a bit (:func:`_pack`): an array equal to
one the page already has (the weight before a step is the frame before's weight) is a
reference, an array one float32 operation gives exactly (an update is new minus old weight,
Adam's ``m_hat`` is ``m`` over a number) is that operation, and the rest is compressed, the
same array of every frame together, each XORed with the frame before. 50 Adam steps of the
digits LeNet with 8 probes, every step kept, take about 1.8 MB. Frames are thinned evenly
(frame 0, the last and the steps of health flags always kept) only if the page would pass
``max_bytes`` (default 2 MB, the whole page: code, style and data) or ``frames`` frames
(default 300); each parameter keeps the exact numbers of at most ``max_elements`` elements
per array (default 256, the first ones in flat order, so leading filters stay whole: the
weights whose update the page can explain), and a conv layer's filters are drawn from all its
weights (as levels); activations keep the first ``samples`` probes (default 8) and at most
``max_elements`` elements each (default 4096). Same run, same bytes.

>>> import minigrad as mg
>>> rec = mg.graph.Recorder(mg.nn.Sequential(mg.nn.Linear(2, 2)))
>>> t = timeline_payload(rec)
>>> t["kept"], t["optimizer"], [p["name"] for p in t["params"]]
([0], None, ['fc1.weight', 'fc1.bias'])
>>> rec.explore(title="one frame").save("out/training.html")     # doctest: +SKIP
"""

from __future__ import annotations

import base64
import functools
import json
import re
import zlib
from typing import Any

import numpy as np

from .explorer import Explorer, encode
from .explorer.page import render_page
from .explorer.picture import timeline_picture

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
# what the page draws of a probe's activation: the first channels of a feature map, the
# first numbers of a dense layer's output (timeline.js draws and writes no more)
_SHOWN_CHANNELS = 8
_SHOWN_VALUES = 12
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
    # numpy's pairwise sum, not a BLAS dot: no thread start-up for a few thousand numbers
    return _num(np.sqrt(np.sum(v * v)))


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
        # maps are pictures (levels) of the channels drawn; a dense layer's shown numbers
        # are exact
        if a.ndim >= 3:
            acts[path] = levels(a[:, :_SHOWN_CHANNELS] if a.ndim == 4 else a, act_keep)
        else:
            acts[path] = _enc(a[:, :_SHOWN_VALUES] if a.ndim == 2 else a, act_keep)
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


@functools.cache
def _code_bytes() -> int:
    """The page without data: its code and style."""
    return len(render_page({}, "").encode("utf-8"))


# the sections of a frame whose arrays are packed, in the order the page resolves them
_SECTIONS = ("params", "grads", "updates", "pics", "acts")


def _arrays(frame: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """(path, encoded array) of every array in a frame payload."""
    out: list[tuple[tuple[str, ...], Any]] = [
        ((sec, n), enc) for sec in _SECTIONS for n, enc in sorted(frame[sec].items())
    ]
    for n, e in sorted(frame["explain"].items()):
        out += [(("explain", n, "values", k), v) for k, v in sorted(e["values"].items())]
    return [(path, enc) for path, enc in out if isinstance(enc, dict) and "b64" in enc]


def _derive(a: np.ndarray, frame: dict, prev: dict | None, path: tuple) -> dict | None:
    """How the page can compute ``a`` exactly from arrays it already has, or None.

    ``{"sub": [p, q]}``: float32(p - q); ``{"div": [p, s]}``: float32(p / float32(s)), with
    p and q ``[frame index, *path]`` and s a number. Each is kept only when it gives the same
    bits as ``a``: the page computes in float64 and rounds to float32, which for one
    operation on float32 inputs is float32 arithmetic exactly."""
    if a.dtype != np.float32:
        return None
    k = frame["_k"]

    def same(b: np.ndarray) -> bool:
        return b.shape == a.shape and b.tobytes() == a.tobytes()

    name = path[1]
    if path[0] == "updates" and prev is not None and name in prev["_arr"].get(("params",), {}):
        new, old = frame["_arr"][("params",)].get(name), prev["_arr"][("params",)][name]
        diff = None if new is None or new.shape != old.shape else new.astype(np.float64) - old
        if diff is not None and same(diff.astype(np.float32)):
            return {"sub": [[k, "params", name], [prev["_k"], "params", name]]}
    if path[0] == "explain":
        values = frame["explain"][name]["values"]
        scalars = [v for v in values.values() if isinstance(v, float) and v != 0.0]
        for key, enc in sorted(values.items()):
            if key == path[3] or not isinstance(enc, dict) or enc.get("dtype") != "float32":
                continue
            base = frame["_arr"][("explain", name)].get(key)
            if base is None or base.shape != a.shape:
                continue
            for s32 in scalars:
                s = float(np.float32(s32))
                if s and same((base.astype(np.float64) / s).astype(np.float32)):
                    return {"div": [[k, "explain", name, "values", key], s32]}
    return None


def _pack(body: list[dict[str, Any]]) -> tuple[list[dict], list[dict], list[list[str]]]:
    """The frames with their arrays packed, the packed bytes (``blobs``) and the explanations'
    templates (a frame's ``explain[name]["templates"]`` becomes an index into them).

    An exact array equal to one of the frame before or of its own frame becomes
    ``{"same": [frame index, *path]}``; one the page can compute exactly becomes a ``sub``
    or ``div`` (see :func:`_derive`); every other array becomes ``{"z": [blob, row]}``, a row
    of a blob: the same array of every frame, each row XORed with the one before (weights
    change little between frames; for uint8 levels, the difference), split into byte planes
    and compressed with DEFLATE (RFC 1951; the browser's ``DecompressionStream`` inflates
    it). Shapes, dtypes and the levels' ``lo``/``hi`` stay beside each array. Nothing is
    rounded: the page reads back the same bits."""
    out: list[dict[str, Any]] = []
    texts: dict[tuple[str, ...], int] = {}
    rows: dict[tuple, list[bytes]] = {}
    info: dict[tuple, dict[str, Any]] = {}
    prev: dict[str, Any] | None = None
    for k, frame in enumerate(body):
        cur: dict[str, Any] = {"_k": k, "_arr": {}, "explain": frame["explain"]}
        new = {
            **frame,
            **{sec: dict(frame[sec]) for sec in _SECTIONS},
            "explain": {
                n: {
                    "values": dict(e["values"]),
                    "templates": texts.setdefault(tuple(e["templates"]), len(texts)),
                }
                for n, e in frame["explain"].items()
            },
        }
        seen: dict[tuple, list] = {}
        if prev is not None:
            seen.update(prev["_seen"])
        for path, enc in _arrays(frame):
            a = encode.raw(enc)
            cur["_arr"].setdefault(path[:-1] if path[0] != "explain" else path[:2], {})[
                path[-1]
            ] = a
            meta = {key: v for key, v in enc.items() if key != "b64"}
            exact = "levels" not in enc
            key = (enc["dtype"], tuple(enc["shape"]), a.tobytes())
            if exact and key in seen:
                packed = {**meta, "same": seen[key]}
            else:
                derived = _derive(a, cur, prev, path) if exact else None
                if derived is not None:
                    packed = {**meta, **derived}
                else:
                    series = (path[0], *path[1:], enc["dtype"], a.size)
                    rows.setdefault(series, []).append(a.tobytes())
                    info[series] = {"dtype": enc["dtype"], "n": int(a.size)}
                    packed = {**meta, "z": [series, len(rows[series]) - 1]}
            if exact:
                seen[key] = [k, *path]  # the newest copy: the next frame may use it
            _put(new, path, packed)
        cur["_seen"] = {key: v for key, v in seen.items() if v[0] == k}
        out.append(new)
        prev = cur
    order = {series: i for i, series in enumerate(rows)}
    blobs = [_blob(rows[s], info[s]) for s in rows]
    for frame in out:
        for _, enc in _packed(frame):
            if "z" in enc:
                enc["z"] = [order[enc["z"][0]], enc["z"][1]]
    return out, blobs, [list(t) for t in texts]


def _packed(frame: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    out: list[tuple[tuple[str, ...], Any]] = [
        ((sec, n), enc) for sec in _SECTIONS for n, enc in frame[sec].items()
    ]
    for n, e in frame["explain"].items():
        out += [(("explain", n, "values", k), v) for k, v in e["values"].items()]
    return [(p, e) for p, e in out if isinstance(e, dict)]


def _put(frame: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    box = frame
    for key in path[:-1]:
        box = box[key]
    box[path[-1]] = value


def _blob(rows: list[bytes], info: dict[str, Any]) -> dict[str, Any]:
    """Rows of equal length as one compressed string (see :func:`_pack`)."""
    width = {"float32": 4, "float64": 8, "int32": 4, "uint8": 1}[info["dtype"]]
    a = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), -1)
    candidates = {"plain": a, "xor": a.copy()}
    candidates["xor"][1:] ^= a[:-1]
    if width == 1:
        candidates["delta"] = a.copy()
        candidates["delta"][1:] -= a[:-1]
    # byte k of every element, then byte k+1; the mode that compresses best at a quick level
    planes = {mode: b.reshape(-1, width).T.tobytes() for mode, b in candidates.items()}
    mode = min(planes, key=lambda m: (len(_deflate(planes[m], 1)), m != "plain"))
    packed = _deflate(planes[mode], 6)
    return {**info, "rows": len(rows), "mode": mode, "z": base64.b64encode(packed).decode("ascii")}


def _squeeze(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """The frames' JSON (names, shapes, references: much alike from frame to frame),
    DEFLATE-compressed: ``{"json": base64, "size": bytes}``; the page inflates and parses it.
    """
    text = json.dumps(frames, separators=(",", ":"), allow_nan=False).encode("ascii")
    return {"json": base64.b64encode(_deflate(text, 6)).decode("ascii"), "size": len(text)}


def _deflate(data: bytes, level: int) -> bytes:
    """Raw DEFLATE (no zlib header): what ``DecompressionStream("deflate-raw")`` reads."""
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush()


def timeline_payload(rec: Any, **options: Any) -> dict[str, Any]:
    """The ``"timeline"`` entry of the page payload (options: see the module docstring).

    Its ``frames`` are packed (:func:`_pack`, then :func:`_squeeze`), with ``blobs`` and
    ``templates`` beside them; ``timeline.js`` unpacks them when the page opens."""
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
    made: dict[int, dict[str, Any]] = {}

    def frame_payload(i: int) -> dict[str, Any]:
        if i not in made:
            made[i] = _frame_payload(rec, frames[i], opts, kinds)
        return made[i]

    # what is not in frames (losses, health, probes, the page's code) to fit the byte budget
    fixed = (
        _code_bytes()
        + _size([rec.losses, _health(rec), _params_info(rec, opts["max_elements"])])
        + 2 * _size(None if rec.probes is None else _enc(rec.probes[: opts["samples"]]))
        + 2_000
    )
    flagged = {f.step for f in rec.health()}
    while True:
        body, blobs, texts = _pack([frame_payload(i) for i in chosen])
        packed = _squeeze(body)
        size = fixed + _size([packed, blobs, texts])
        if size <= opts["max_bytes"] or len(chosen) <= 2:
            break
        # thin evenly, in proportion to the excess; a flag jumps to its step: keep those
        room = (opts["max_bytes"] - fixed) / max(1, size - fixed)
        fit = max(2, min(len(chosen) - 1, int(len(chosen) * room * 0.97)))
        must = [i for i in chosen if frames[i].step in flagged]
        thin = [chosen[j] for j in _pick(len(chosen), max(2, fit - len(must)))]
        chosen = sorted(set(thin + must))
        if len(chosen) >= len(body):  # flagged frames alone fill the budget
            chosen = thin
    shown = min(opts["samples"], 0 if rec.probes is None else len(rec.probes))
    return {
        "frames": packed,
        "blobs": blobs,
        "templates": texts,
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
    payload = {"timeline": timeline_payload(rec, **options)}
    picture = timeline_picture(payload["timeline"], title)
    return Explorer(render_page(payload, title), title, picture)
