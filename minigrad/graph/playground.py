"""The playground: change a pixel, a weight or the label, and the engine recomputes.

A :class:`Session` holds a model, a batch ``x``, its ``target``, a loss and an optimizer.
Every change goes through it: :meth:`Session.set` (an input cell, a label, a weight),
:meth:`Session.step` (one optimizer step), :meth:`Session.undo`, :meth:`Session.reset` and a
new learning rate. After each one the engine runs the forward and the backward pass again
(nothing is computed anywhere else), and :attr:`Session.changes` says what moved since the
state before: which cells of the input, the weights, the gradients, each layer's output and
the probabilities, and by how much.

Each change first saves the exact state it leaves (the input, the target, every parameter,
the optimizer's state and settings) on an undo stack: ``undo()`` puts that state back bit for
bit and recomputes. :class:`minigrad.graph.Playground` is the same session as a live page
(a Jupyter widget), and ``python -m minigrad playground SCRIPT.py`` serves that page
without Jupyter.

Names. ``"input"``, ``"target"``, and each parameter by its display name (``"conv1.weight"``,
the name drawings and summaries show) or its ``state_dict`` key (``"0.weight"`` in a
numbered :class:`~minigrad.nn.Sequential`). An index is one element (one int per axis, or
a flat int), a tuple of ints and slices (``np.s_[0, 0, 2:5, 3]``), or a list of those.

>>> import numpy as np, minigrad as mg
>>> mg.manual_seed(0)
>>> model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(4, 2))
>>> s = Session(model, np.zeros((1, 1, 2, 2), np.float32), np.array([1]))
>>> s.loss_name, round(s.lr, 3), s.names
('cross-entropy', 0.1, ['input', 'target', '1.bias', '1.weight', 'fc1.bias', 'fc1.weight'])
>>> before = s.loss
>>> s.set("input", (0, 0, 1, 1), 1.0)
>>> list(s.changes["arrays"])
['input', 'fc1.weight.grad', 'fc1.bias.grad', 'flatten1', 'fc1', 'output', 'probabilities']
>>> s.changes["arrays"]["input"]["count"], s.changes["arrays"]["input"]["cells"][0]
(1, {'index': [0, 0, 1, 1], 'old': 0.0, 'new': 1.0})
>>> s.step(); s.undo(); s.undo(); s.loss == before
True
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn, ops, optim
from ..autograd import no_grad
from ..nn import _context
from ..nn.module import display_names, module_display_paths
from ..tensor import Tensor
from .playground_cells import assign, moved, selection, where

__all__ = ["Session", "display_names"]

#: at most this many states are kept for undo (the oldest go first)
UNDO_LIMIT = 500


@dataclass
class _State:
    """Everything a computation depends on (copies that nothing else holds)."""

    x: np.ndarray
    target: np.ndarray
    params: dict[str, np.ndarray]
    opt_state: list[dict[str, Any]]
    hyper: dict[str, Any]
    steps: int
    what: str = ""


@dataclass
class _Result:
    """What the engine computed from one state."""

    loss_tensor: Tensor
    loss: float
    output: np.ndarray
    probabilities: np.ndarray | None
    grads: dict[str, np.ndarray]
    activations: dict[str, np.ndarray] = field(default_factory=dict)


class Session:
    """The playground's state and its edits, without a page: see the module docstring.

    ``loss``: a callable ``(output, target Tensor) -> scalar Tensor``; by default
    cross-entropy (``mg.nn.CrossEntropyLoss``) for integer targets and scores ``(N, C)``,
    and log loss (``mg.nn.LogLoss``) for a single sigmoid output ``(N, 1)`` or ``(N,)`` with
    0/1 targets. ``optimizer``: an ``mg.optim`` optimizer over the model's parameters; by
    default ``SGD(model.parameters(), lr=lr)``. ``classes``: names of the output classes.
    """

    def __init__(
        self,
        model: Any,
        x: Any,
        target: Any,
        loss: Any = None,
        optimizer: Any = None,
        classes: Any = None,
        *,
        lr: float = 0.1,
    ) -> None:
        if not callable(getattr(model, "named_parameters", None)):
            raise TypeError(
                f"Playground: model must be an mg.nn.Module, got {type(model).__name__}"
            )
        self.model = model
        self._params = dict(model.named_parameters())
        if not self._params:
            raise ValueError(f"Playground: {type(model).__name__} has no parameters to play with")
        self._display = display_names(model)
        self._by_name: dict[str, str] = {}
        for key, shown in self._display.items():
            self._by_name[key] = key
            self._by_name[shown] = key
        self._paths = module_display_paths(model)
        x = x.data if isinstance(x, Tensor) else x
        self._x = np.array(x, copy=True)
        if self._x.dtype.kind != "f":
            raise TypeError(
                f"Playground: x must hold floats (the model's input), got dtype {self._x.dtype}"
            )
        target = target.data if isinstance(target, Tensor) else target
        self._target = np.array(target, copy=True)
        if self._target.dtype.kind not in "iuf":
            raise TypeError(
                f"Playground: target must hold class indices (ints) or 0/1 values, got dtype "
                f"{self._target.dtype}"
            )
        if optimizer is None:
            optimizer = optim.SGD(model.parameters(), lr=lr)
        elif not callable(getattr(optimizer, "hyperparameters", None)):
            got = type(optimizer).__name__
            raise TypeError(f"Playground: optimizer must be an mg.optim optimizer, got {got}")
        self.optimizer = optimizer
        self._loss_fn = loss
        self.loss_name = "custom" if loss is not None else ""
        self._steps = 0
        self._history: list[_State] = []
        first = self._compute()  # also picks the default loss
        self._start = self._snapshot("start")
        self.classes = self._classes(classes, first.output)
        self._result = first
        self._previous: _Result | None = None
        self._previous_state: _State | None = None
        #: what moved between the previous state and this one (see :meth:`changes`)
        self.changes: dict[str, Any] = {"what": "start", "loss": None, "arrays": {}}

    # --- names and reading -------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """Every name :meth:`set` accepts: ``input``, ``target``, display names and keys."""
        return ["input", "target", *sorted(set(self._by_name))]

    def _accepted(self) -> str:
        shown = [f"{d} ({k})" if d != k else k for k, d in self._display.items()]
        return "'input', 'target', " + ", ".join(shown)

    def key_of(self, name: str) -> str:
        """The ``state_dict`` key of a parameter given by display name or key."""
        if not isinstance(name, str) or name not in self._by_name:
            raise KeyError(
                f"Playground: no parameter {name!r}; accepted names: {self._accepted()} "
                "(display name or state_dict key)"
            )
        return self._by_name[name]

    @property
    def x(self) -> np.ndarray:
        """A copy of the current input batch."""
        return self._x.copy()

    @property
    def target(self) -> np.ndarray:
        """A copy of the current targets."""
        return self._target.copy()

    @property
    def loss(self) -> float:
        """The loss of the current state, as the engine computed it."""
        return self._result.loss

    @property
    def loss_tensor(self) -> Tensor:
        """The current loss Tensor (its graph is kept: explore it, draw it)."""
        return self._result.loss_tensor

    @property
    def output(self) -> np.ndarray:
        """The model's output on the current input (a copy)."""
        return self._result.output.copy()

    @property
    def probabilities(self) -> np.ndarray | None:
        """``(N, classes)`` probabilities (softmax of the scores, or ``1 - p, p`` for a
        sigmoid output), computed by the engine; None for other outputs."""
        p = self._result.probabilities
        return None if p is None else p.copy()

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Each parameter's gradient (display name -> a copy)."""
        return {self._display[k]: g.copy() for k, g in self._result.grads.items()}

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """Each layer's output on the current input (display path -> array), in call order."""
        return dict(self._result.activations)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Each parameter's current value (display name -> a copy)."""
        return {self._display[k]: p.data.copy() for k, p in self._params.items()}

    @property
    def steps(self) -> int:
        """Optimizer steps taken to reach the current state (undo counts back)."""
        return self._steps

    @property
    def can_undo(self) -> int:
        """How many changes :meth:`undo` can take back."""
        return len(self._history)

    @property
    def lr(self) -> float:
        """The optimizer's learning rate; setting it is a change that :meth:`undo` takes back."""
        return float(self.optimizer.lr)

    @lr.setter
    def lr(self, value: float) -> None:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"Playground: lr must be a number, got {value!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"Playground: lr must be a finite number > 0, got {value!r}")
        self._push("lr")
        self.optimizer.lr = v
        self._previous, self._previous_state = self._result, self._history[-1]
        self.changes = {"what": f"lr = {v:g}", "loss": None, "arrays": {}}

    # --- edits -------------------------------------------------------------------------------

    def set(self, name: str, index: Any, value: Any) -> None:
        """Set cells of ``"input"``, a label of ``"target"`` or elements of a parameter, then
        recompute. ``index``: see the module docstring; for ``"target"`` it is the sample.

        >>> import numpy as np, minigrad as mg
        >>> model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(4, 3))
        >>> s = Session(model, np.zeros((2, 1, 2, 2), np.float32), np.array([0, 2]))
        >>> s.set("target", 1, 0); s.target.tolist()
        [0, 0]
        >>> s.set("fc1.weight", (2, 3), 0.5); float(s.params["fc1.weight"][2, 3])
        0.5
        """
        if name == "input":
            mask = selection("input", self._x.shape, index)
            new = assign(self._x, mask, index, value, "input")
            self._push(f"input{where(index)} = {value!r}")
            self._x = new
        elif name == "target":
            mask = selection("target", self._target.shape, index)
            value = self._check_target(value)
            new = assign(self._target, mask, index, value, "target")
            self._push(f"target{where(index)} = {value!r}")
            self._target = new
        else:
            key = self.key_of(name)
            p = self._params[key]
            mask = selection(self._display[key], p.shape, index)
            new = assign(p.data, mask, index, value, self._display[key])
            self._push(f"{self._display[key]}{where(index)} = {value!r}")
            p.data = new
        self._recompute()

    def step(self) -> None:
        """One optimizer step from the current gradients, then recompute.

        >>> import numpy as np, minigrad as mg
        >>> model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(4, 2))
        >>> s = Session(model, np.ones((1, 1, 2, 2), np.float32), np.array([1]), lr=0.5)
        >>> w, g = s.params["fc1.weight"], s.grads["fc1.weight"]
        >>> s.step(); bool(np.array_equal(s.params["fc1.weight"], w - np.float32(0.5) * g))
        True
        """
        self._push("step")
        self.optimizer.step()
        self._steps += 1
        self._recompute()

    def undo(self) -> None:
        """Put back the state before the last change (bit for bit) and recompute."""
        if not self._history:
            raise ValueError("Playground.undo: nothing to undo (no change since the start)")
        state = self._history.pop()
        before = self._snapshot("")
        self._restore(state)
        if state.what == "lr":
            self._previous, self._previous_state = self._result, before
            self.changes = {"what": f"undo lr (lr = {self.lr:g})", "loss": None, "arrays": {}}
            return
        try:
            self._recompute(f"undo {state.what}", push_state=before)
        except Exception:
            self._history.append(state)  # still there to undo
            raise

    def reset(self) -> None:
        """Back to the state the session started from (a change :meth:`undo` takes back)."""
        self._push("reset")
        self._restore(self._start)
        self._recompute()

    # --- internals ---------------------------------------------------------------------------

    def _check_target(self, value: Any) -> Any:
        if self.loss_name == "log loss":
            ok = isinstance(value, (int, float, np.integer, np.floating))
            if isinstance(value, bool) or not ok or not 0 <= value <= 1:
                raise ValueError(
                    f"Playground: a log-loss target is a number in [0, 1], got {value!r}"
                )
            return value
        if self._target.dtype.kind in "iu":
            ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            n = self._result.output.shape[-1] if self._result.output.ndim == 2 else None
            if not ok or value < 0 or (n is not None and n > 1 and value >= n):
                classes = f"0 .. {n - 1}" if n else "an int"
                raise ValueError(
                    f"Playground: a target is a class index ({classes}), got {value!r}"
                )
            return int(value)
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"Playground: a target must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"Playground: a target must be finite, got {value!r}")
        return v

    def _snapshot(self, what: str) -> _State:
        return _State(
            x=self._x.copy(),
            target=self._target.copy(),
            params={k: p.data.copy() for k, p in self._params.items()},
            opt_state=copy.deepcopy(self.optimizer.state),
            hyper={k: copy.deepcopy(getattr(self.optimizer, k)) for k in self.optimizer.defaults},
            steps=self._steps,
            what=what,
        )

    def _restore(self, s: _State) -> None:
        self._x = s.x.copy()
        self._target = s.target.copy()
        for k, p in self._params.items():
            p.data = s.params[k].copy()
        self.optimizer.state = copy.deepcopy(s.opt_state)
        for k, v in s.hyper.items():
            setattr(self.optimizer, k, copy.deepcopy(v))
        self._steps = s.steps

    def _push(self, what: str) -> None:
        self._history.append(self._snapshot(what))
        del self._history[:-UNDO_LIMIT]

    def _recompute(self, what: str | None = None, push_state: _State | None = None) -> None:
        before_state = push_state if push_state is not None else self._history[-1]
        old = self._result
        try:
            self._result = self._compute()
        except Exception:
            # the change failed (the model raised): leave the session as it was before it
            self._restore(before_state)
            if push_state is None:
                self._history.pop()
            self._result = old
            raise
        self._previous, self._previous_state = old, before_state
        self.changes = self._diff(what or before_state.what, old, before_state)

    def _compute(self) -> _Result:
        """Forward and backward with the engine, from the current state."""
        model = self.model
        x = Tensor(self._x.copy(), name="input")
        rows: list = []
        token = _context.summary_rows.set(rows)
        try:
            out = model(x)
        finally:
            _context.summary_rows.reset(token)
        if not isinstance(out, Tensor):
            raise TypeError(f"Playground: the model returned {type(out).__name__}, not a Tensor")
        if self._loss_fn is None:
            self._loss_fn, self.loss_name = self._default_loss(out)
        y = Tensor(self._target_for(out), name="target")
        loss = self._loss_fn(out, y)
        if not isinstance(loss, Tensor) or loss.size != 1:
            raise ValueError(
                "Playground: the loss must return a Tensor holding one number, got "
                f"{type(loss).__name__} {getattr(loss, 'shape', '')}"
            )
        model.zero_grad()
        loss.backward(retain_graph=True)  # the graph stays for the page and the explorer
        grads = {
            k: np.array(p.grad.data, copy=True)
            for k, p in self._params.items()
            if p.grad is not None
        }
        with no_grad():
            probs = self._probabilities(out, ops)
        acts: dict[str, np.ndarray] = {}
        for row in rows:
            if row is None or not row[0] or not isinstance(row[2], Tensor):
                continue
            name = self._paths.get(row[0], row[0])
            key, k = name, 1
            while key in acts:
                k += 1
                key = f"{name}#{k}"
            acts[key] = row[2].data
        return _Result(loss, float(loss.item()), out.data, probs, grads, acts)

    def _target_for(self, out: Tensor) -> np.ndarray:
        t = self._target
        if self.loss_name == "log loss" and t.shape != out.shape and t.size == out.size:
            return t.reshape(out.shape).astype(out.dtype)  # (N,) 0/1 labels for a (N, 1) output
        if self.loss_name == "log loss" and t.dtype != out.dtype:
            return t.astype(out.dtype)
        return t.copy()

    def _default_loss(self, out: Tensor) -> tuple[Any, str]:
        t = self._target
        single = out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1)
        if single and out.op == "sigmoid":
            if t.size != out.shape[0]:
                raise ValueError(
                    f"Playground: a sigmoid output {out.shape} needs one 0/1 target per sample, "
                    f"got target shape {t.shape}"
                )
            return nn.LogLoss(), "log loss"
        if out.ndim == 2 and out.shape[1] > 1 and t.dtype.kind in "iu":
            if t.shape != (out.shape[0],):
                raise ValueError(
                    f"Playground: scores {out.shape} need one class index per sample, target "
                    f"shape ({out.shape[0]},), got {t.shape}"
                )
            return nn.CrossEntropyLoss(), "cross-entropy"
        raise ValueError(
            f"Playground: no default loss for an output of shape {out.shape} (op "
            f"{out.op!r}) and targets of dtype {t.dtype}: cross-entropy needs scores (N, C) "
            "and integer class targets, log loss a sigmoid output (N, 1) and 0/1 targets; "
            "or pass loss=... (a callable (output, target) -> scalar Tensor)"
        )

    def _probabilities(self, out: Tensor, ops: Any) -> np.ndarray | None:
        if out.op == "sigmoid" and (out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1)):
            return _two(out.reshape(out.shape[0], 1))
        if out.ndim == 2 and out.shape[1] > 1:
            return ops.softmax(out, axis=-1).data
        return None

    def _classes(self, classes: Any, out: np.ndarray) -> list[str]:
        n = 2 if self.loss_name == "log loss" else (out.shape[1] if out.ndim == 2 else 0)
        if classes is None:
            return [str(i) for i in range(n)]
        names = [str(c) for c in classes]
        if n and len(names) != n:
            raise ValueError(f"Playground: {n} outputs need {n} class names, got {len(names)}")
        return names

    def _diff(self, what: str, old: _Result, before: _State) -> dict[str, Any]:
        """Which cells moved and by how much, from ``before``/``old`` to now."""
        new = self._result
        arrays: dict[str, Any] = {}
        pairs: list[tuple[str, Any, Any]] = [
            ("input", before.x, self._x),
            ("target", before.target, self._target),
        ]
        for k, p in self._params.items():
            pairs.append((self._display[k], before.params[k], p.data))
        for k in self._params:
            pairs.append((self._display[k] + ".grad", old.grads.get(k), new.grads.get(k)))
        for name, a in new.activations.items():
            pairs.append((name, old.activations.get(name), a))
        pairs.append(("output", old.output, new.output))
        pairs.append(("probabilities", old.probabilities, new.probabilities))
        for name, a, b in pairs:
            d = moved(a, b)
            if d is not None:
                arrays[name] = d
        loss = {"old": old.loss, "new": new.loss, "delta": new.loss - old.loss}
        return {"what": what, "loss": loss, "arrays": arrays}


def _two(p: Tensor) -> np.ndarray:
    q = 1.0 - p  # the engine's subtraction; the columns are joined outside it
    return np.concatenate([q.data, p.data], axis=1)
