"""Watch a model learn: record a training run frame by frame, then scrub through it.

A :class:`Recorder` keeps *frames*. Frame 0 is taken when the recorder is made (the weights as
they are); after that, call ``rec.step(loss)`` after each ``optimizer.step()``::

    rec = mg.graph.Recorder(model, probes=x_test[:8], optimizer=opt)
    for xb, yb in loader:
        loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
        opt.zero_grad(); loss.backward(); opt.step()
        rec.step(loss)
    rec.health()                  # plain-words flags: dead ReLUs, exploding gradients...
    rec.explore().save("out/training.html")

Each recorded frame holds the step number, the loss, and per parameter the gradient, the
weights after the update and the update itself (new - previous weights, as the arrays' dtype
computes it). With ``probes`` (a batch of inputs) it also holds the probes' output of every
sub-module (``"conv1"``, ``"relu1"``...),
computed under ``no_grad`` in eval mode, outside your graph, with every module's mode put
back afterwards. With ``optimizer`` it also keeps what the update of every element can be
explained from (the weights and the optimizer's state before the step, and its settings):
``rec.explain("conv1.weight", (0, 0, 1, 1), frame=5)`` writes that update out with the
optimizer's real numbers (see :meth:`minigrad.optim.Optimizer.explain_update`).

Names. Frames, health flags, the timeline page and :meth:`Recorder.explain` name layers and
parameters as ``summary()`` and graph drawings do: ``"conv1"``, ``"relu1"``,
``"conv1.weight"`` (display names). In an unnamed :class:`~minigrad.nn.Sequential`, whose
``state_dict`` keys are ``"0.weight"``, ``"1"``..., a frame's dicts find an entry by that key
too: ``frame.params["0.weight"] is frame.params["conv1.weight"]``; iterating gives display
names.

Memory. Per frame: 3 arrays the size of the parameters (weights, gradients, updates), 1-3 more
with ``optimizer`` (the weights before the step, plus SGD's momentum buffer or Adam's two
moments), and every sub-module's output on the probes; ``rec.nbytes`` says how much is held.
Two knobs bound it: ``every=k`` records every k-th step only (the others cost a float for the
loss curve, ``rec.losses``, and a copy of the weights, gradients and optimizer state, so that
:meth:`Recorder.finish` can still record the last step); ``max_frames=n`` keeps at most n
frames: frame 0, the latest, and frames at steps that are multiples of a stride, which starts
at ``every`` and doubles (dropping every other frame) each time the n frames are full, so the
kept frames stay evenly spaced over the whole run.

Recording only reads: training gives the same numbers, bit for bit, with or without it.

>>> import numpy as np, minigrad as mg
>>> mg.manual_seed(0)
>>> model = mg.nn.Sequential(mg.nn.Linear(2, 4), mg.nn.ReLU(), mg.nn.Linear(4, 1))
>>> opt = mg.optim.SGD(model.parameters(), lr=0.1)
>>> x = mg.tensor(np.ones((3, 2), np.float32))
>>> rec = mg.graph.Recorder(model, probes=x, optimizer=opt)
>>> for _ in range(2):
...     loss = (model(x) ** 2).mean()
...     opt.zero_grad(); loss.backward(); opt.step()
...     _ = rec.step(loss)
>>> [f.step for f in rec.frames], list(rec.frames[1].activations), list(rec.frames[1].grads)
([0, 1, 2], ['fc1', 'relu1', 'fc2'], ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'])
>>> p = rec.frames[2].params
>>> p["0.weight"] is p["fc1.weight"], bool(np.all(p["fc1.weight"] == model[0].weight.data))
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..tensor import Tensor
from .recorder_health import flags, frame_stats, series
from .recorder_names import Names, display_aliases
from .recorder_page import explore_recording
from .recorder_probe import module_outputs

__all__ = ["Frame", "Recorder"]


@dataclass
class Frame:
    """One recorded moment of training (all arrays are copies; dicts map names to arrays).

    The dicts are keyed by display names (``"conv1.weight"``, ``"relu1"``) and find an entry
    by its ``state_dict`` key or module path too (``"0.weight"``, ``"1"``): see
    :mod:`minigrad.graph.recorder_names`.

    ``step`` counts ``rec.step`` calls (0: when the recorder was made); ``loss`` is None in
    frame 0; ``grads`` and ``updates`` are empty in frame 0, and a parameter that had no
    gradient at that step is missing from ``grads``. ``before`` (only with an optimizer)
    maps each parameter to the weights and optimizer state the step started from;
    ``hyperparameters`` are the optimizer's settings at that step; ``stats`` holds the
    health numbers of each layer (see :meth:`Recorder.series`).
    """

    step: int
    loss: float | None
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    updates: dict[str, np.ndarray] = field(default_factory=dict)
    activations: dict[str, np.ndarray] = field(default_factory=dict)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Bytes held by this frame's arrays."""
        total = 0
        for group in (self.params, self.grads, self.updates, self.activations):
            total += sum(a.nbytes for a in group.values())
        for state in self.before.values():
            total += sum(v.nbytes for v in state.values() if isinstance(v, np.ndarray))
        return total


def _check_count(what: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        extra = " or None" if what == "max_frames" else ""
        raise ValueError(f"Recorder: {what} must be an int >= {low}{extra}, got {value!r}")
    return int(value)


class Recorder:
    """Records a training run of ``model``; see the module docstring for what and how much.

    ``probes``: a batch of inputs (array or Tensor) whose activations each frame keeps;
    ``every``: record every k-th step; ``max_frames``: keep at most this many frames (>= 2);
    ``optimizer``: keep what is needed to explain every update (:meth:`explain`).
    """

    def __init__(
        self,
        model: Any,
        probes: Any = None,
        every: int = 1,
        max_frames: int | None = None,
        *,
        optimizer: Any = None,
    ) -> None:
        if not callable(getattr(model, "named_parameters", None)):
            raise TypeError(f"Recorder: model must be an mg.nn.Module, got {type(model).__name__}")
        self.model = model
        self.every = _check_count("every", every, 1)
        self.max_frames = None if max_frames is None else _check_count("max_frames", max_frames, 2)
        self.optimizer = optimizer
        #: module path or state_dict key -> display name (grows with "path#2" of a reused module)
        self._shown = display_aliases(model)
        self._named = [(self._shown.get(k, k), p) for k, p in model.named_parameters()]
        if not self._named:
            raise ValueError(f"Recorder: {type(model).__name__} has no parameters to record")
        if optimizer is not None:
            mine = {id(p) for p in getattr(optimizer, "params", [])}
            if not callable(getattr(optimizer, "explain_update", None)) or not mine:
                raise TypeError(
                    "Recorder: optimizer must be an mg.optim optimizer (SGD, Adam), got "
                    f"{type(optimizer).__name__}"
                )
            self._optimized = [n for n, p in self._named if id(p) in mine]
        else:
            self._optimized = []
        if probes is not None:
            probes = probes.data if isinstance(probes, Tensor) else probes
            probes = np.array(probes, copy=True)
        self.probes: np.ndarray | None = probes
        #: the loss of every step, recorded or not (index = step - 1)
        self.losses: list[float | None] = []
        #: the kept frames, in step order; frames[0] is the state at creation
        self.frames: list[Frame] = []
        #: the recorded steps are multiples of this (grows with max_frames thinning)
        self.stride = self.every
        self._step = 0
        self._kinds: dict[str, str] = {}
        self._prev: dict[str, np.ndarray] = {}
        self._prev_state: dict[str, dict[str, Any]] = {}
        self._pending: tuple[Frame, dict[str, np.ndarray]] | None = None
        try:
            activations = self._probe_outputs()
        except Exception as err:
            shape = None if self.probes is None else self.probes.shape
            raise ValueError(
                f"Recorder: running {type(model).__name__} on the probes (shape {shape}) "
                f"failed: {err}"
            ) from err
        params = {n: p.data.copy() for n, p in self._named}
        frame = Frame(0, None, params, activations=activations)
        frame.stats = frame_stats(frame, {}, self.layers, self._kinds)
        self._add(frame)
        self._remember(params)

    # --- recording ----------------------------------------------------------------------------

    @property
    def steps(self) -> int:
        """How many times :meth:`step` was called."""
        return self._step

    def step(self, loss: Any = None) -> Frame | None:
        """Note one training step (call it after ``optimizer.step()``); returns the new frame,
        or None when ``every`` skips this step (:meth:`finish` can still record it)."""
        self._step += 1
        value = _loss_value(loss)
        self.losses.append(value)
        frame, before = self._collect(value)
        self._remember(frame.params)  # this step's weights are the next step's "before"
        if self._step % self.every:
            self._pending = (frame, before)
            return None
        self._pending = None
        return self._complete(frame, before)

    def finish(self) -> Frame | None:
        """Record the latest step if ``every`` skipped it, so the last frame holds the final
        weights; call it after training (:meth:`explore` does). Returns that frame or None.

        Its activations are left empty if the weights changed since that step."""
        if self._pending is None:
            return None
        frame, before = self._pending
        self._pending = None
        return self._complete(frame, before)

    def _remember(self, params: dict[str, np.ndarray]) -> None:
        self._prev = params  # the frame's own copies: nothing writes to them
        if self.optimizer is not None:
            by_name = dict(self._named)
            self._prev_state = {n: self.optimizer.state_of(by_name[n]) for n in self._optimized}

    def _collect(self, loss: float | None) -> tuple[Frame, dict[str, np.ndarray]]:
        """The step's weights, gradients and (with an optimizer) what the step started from."""
        params, grads = {}, {}
        for n, p in self._named:
            params[n] = p.data.copy()
            if p.grad is not None:
                grads[n] = np.array(p.grad.data, copy=True)
        frame = Frame(self._step, loss, params, grads)
        before = self._prev
        if self.optimizer is not None:
            frame.before = {
                n: {"weight": before[n], **self._prev_state.get(n, {})}
                for n in self._optimized
                if n in before
            }
            frame.hyperparameters = self.optimizer.hyperparameters()
        return frame, before

    def _complete(self, frame: Frame, before: dict[str, np.ndarray]) -> Frame:
        """Add the updates, the probes' activations and the health numbers; keep the frame."""
        for n, w in frame.params.items():
            if n in before and before[n].shape == w.shape:
                frame.updates[n] = w - before[n]
        now = {n: p.data for n, p in self._named}
        if all(np.array_equal(now[n], w) for n, w in frame.params.items()):
            frame.activations = self._probe_outputs()
        frame.stats = frame_stats(frame, before, self.layers, self._kinds)
        self._add(frame)
        return frame

    def _add(self, frame: Frame) -> None:
        for part in ("params", "grads", "updates", "activations", "before", "stats"):
            setattr(frame, part, Names(getattr(frame, part), self._shown))
        frames = self.frames
        if self.max_frames is not None and len(frames) > 1 and frames[-1].step % self.stride:
            frames.pop()  # the previous "latest" was off the stride: this one replaces it
        frames.append(frame)
        while self.max_frames is not None and len(frames) > self.max_frames:
            self.stride *= 2  # thin evenly: keep frame 0, the latest and multiples of stride
            last = len(frames) - 1
            frames[:] = [
                f for i, f in enumerate(frames) if i in (0, last) or f.step % self.stride == 0
            ]

    def _probe_outputs(self) -> dict[str, np.ndarray]:
        if self.probes is None:
            return {}
        outputs, kinds = module_outputs(self.model, self.probes)
        shown = {}
        for path in outputs:  # "0" -> "conv1"; a module called twice: "1#2" -> "relu1#2"
            base, mark, call = path.partition("#")
            shown[path] = self._shown.get(base, base) + mark + call
            if mark:
                self._shown[path] = shown[path]
        self._kinds = {shown[p]: k for p, k in kinds.items()}
        return {shown[p]: a for p, a in outputs.items()}

    # --- reading ------------------------------------------------------------------------------

    @property
    def layers(self) -> dict[str, str]:
        """Parameter name -> its layer (the module path: ``"conv1.weight"`` -> ``"conv1"``)."""
        return {n: (n.rsplit(".", 1)[0] if "." in n else n) for n, _ in self._named}

    @property
    def nbytes(self) -> int:
        """Bytes held: the kept frames, a skipped last step kept for :meth:`finish`, and the
        optimizer state copied for the next step's explanation."""
        held = sum(f.nbytes for f in self.frames)
        if self._pending is not None:
            held += self._pending[0].nbytes
        for state in self._prev_state.values():
            held += sum(v.nbytes for v in state.values() if isinstance(v, np.ndarray))
        return held

    def frame_at(self, step: int) -> Frame:
        """The kept frame of ``step``; raises KeyError naming the kept steps otherwise."""
        for f in self.frames:
            if f.step == step:
                return f
        kept = [f.step for f in self.frames]
        raise KeyError(f"Recorder: no frame of step {step} is kept; kept steps: {kept}")

    def display_name(self, path: str) -> str:
        """A module path or parameter key as frames, ``summary()`` and the pages show it:
        ``"0"`` -> ``"conv1"``, ``"0.weight"`` -> ``"conv1.weight"`` (display names and
        unknown paths as given)."""
        return self._shown.get(path, path)

    def explain(self, name: str, index: Any, frame: int = -1) -> dict[str, Any]:
        """Why did element ``index`` of parameter ``name`` change at ``frames[frame]``?

        ``name`` is the display name (``"conv1.weight"``, as ``summary()`` and the pages
        show it) or the ``state_dict`` key (``"0.weight"`` in an unnamed Sequential).

        The optimizer's :meth:`~minigrad.optim.Optimizer.explain_update` for that step, from
        the gradient, weights, state and settings recorded with the frame: its
        ``values["new_weight"]`` is exactly ``frames[frame].params[name][index]``.
        """
        if self.optimizer is None:
            raise ValueError(
                "Recorder.explain: make the recorder with optimizer=... to explain updates"
            )
        f = self.frames[frame]
        if f.step == 0:
            raise ValueError("Recorder.explain: frame 0 is the start; no update led to it")
        by_name = dict(self._named)
        name = self.display_name(name)  # "0.weight" as well as "conv1.weight"
        if name not in by_name:
            raise KeyError(f"Recorder.explain: no parameter {name!r}; have {sorted(by_name)}")
        if name not in f.before or name not in f.grads:
            raise ValueError(
                f"Recorder.explain: {name} was not updated by the optimizer at step {f.step}"
            )
        before = dict(f.before[name])
        weight = before.pop("weight")
        return self.optimizer.explain_update(
            by_name[name],
            index,
            grad=f.grads[name],
            weight=weight,
            state=before,
            hyperparameters=f.hyperparameters,
        )

    def series(self) -> dict[str, Any]:
        """The health numbers as series over the kept frames (see :mod:`.recorder_health`);
        ``["layers"]`` is keyed by display names and finds a layer by its key too."""
        out = series(self)
        out["layers"] = Names(out["layers"], self._shown)
        return out

    def health(self, **thresholds: float) -> list[Any]:
        """The flags the run raises (layer, first step, kind, message); see ``recorder_health``."""
        return flags(self, **thresholds)

    def explore(self, title: str | None = None, **options: Any) -> Any:
        """An explorer page with the timeline of this run (:class:`minigrad.graph.Explorer`);
        records the latest step first if ``every`` skipped it (:meth:`finish`)."""
        self.finish()
        return explore_recording(self, title, **options)

    def __repr__(self) -> str:
        return (
            f"<Recorder of {type(self.model).__name__}: {self._step} steps, "
            f"{len(self.frames)} frames, {self.nbytes:,} bytes>"
        )


def _loss_value(loss: Any) -> float | None:
    if loss is None:
        return None
    if isinstance(loss, Tensor):
        if loss.size != 1:
            raise ValueError(
                f"Recorder.step: loss must be a single number, got a Tensor of shape {loss.shape}"
            )
        return float(loss.item())
    try:
        return float(loss)
    except (TypeError, ValueError):
        raise TypeError(
            f"Recorder.step: loss must be a Tensor or a number, got {type(loss).__name__}"
        ) from None
