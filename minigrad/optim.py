"""Optimizers: SGD (with momentum, dampening, Nesterov) and Adam, with PyTorch's update rules.

An optimizer holds a list of parameters and their state as numpy arrays. ``step()`` updates
each parameter's array in place from its ``.grad`` (parameters whose grad is None are
skipped) without recording a graph; ``zero_grad()`` sets the grads to None.

>>> import minigrad as mg
>>> w = mg.nn.Parameter(mg.tensor([1.0, -2.0]))
>>> opt = mg.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()      # grad = 2 w
>>> opt.step(); w.data
array([ 0.8, -1.6], dtype=float32)
>>> opt.zero_grad(); w.grad is None
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["SGD", "Adam", "Optimizer"]


def _check(
    owner: str, name: str, value: float, low: float = 0.0, high: float | None = None
) -> None:
    ok = value >= low and (high is None or value < high) and not math.isnan(value)
    if not ok:
        expected = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")


class Optimizer:
    """Base class: keeps the parameter list, per-parameter state and ``zero_grad``.

    Subclasses implement ``_update(i, p, grad)`` for one parameter with a gradient.
    """

    def __init__(self, params: Iterable[Tensor], defaults: dict[str, Any]) -> None:
        owner = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{owner}: params must be an iterable of Tensors (e.g. model.parameters()), "
                "got a single Tensor; wrap it in a list"
            )
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{owner}: got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(
                    f"{owner}: parameter {i} ({p._label()}) is not a leaf (it was made by op "
                    f"'{p.op}'); optimize the leaf tensors the computation starts from"
                )
            if id(p) in seen:
                raise ValueError(f"{owner}: parameter {i} ({p._label()}) appears more than once")
            seen.add(id(p))
        self.defaults = dict(defaults)
        #: per-parameter state, indexed like ``params`` (numpy arrays and step counts)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set the ``.grad`` of every parameter to None."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad = p.grad.data
            if grad.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}: the grad of parameter {i} ({p._label()}) has shape "
                    f"{grad.shape}, expected {p.shape}"
                )
            update = self._update(self.state[i], p.data, grad)
            if p.data.flags.writeable:
                p.data -= update
            else:
                p.data = p.data - update

    def _update(self, state: dict[str, Any], w: np.ndarray, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({len(self.params)} parameters, {opts})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, dampening, Nesterov, weight decay.

    Per step, as PyTorch: ``g = grad + weight_decay * w``; with momentum the buffer starts as
    the first ``g`` and then becomes ``b = momentum * b + (1 - dampening) * g``, and the step
    uses ``b`` (or ``g + momentum * b`` with ``nesterov=True``); finally ``w -= lr * step``.

    >>> import minigrad as mg
    >>> w = mg.nn.Parameter(mg.tensor([1.0]))
    >>> opt = mg.optim.SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 1.0).sum().backward(); opt.step()
    >>> w.data   # 1 - 0.5 * 1 - 0.5 * (0.9 + 1)
    array([-0.45], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        _check("SGD", "lr", lr)
        _check("SGD", "momentum", momentum)
        _check("SGD", "weight_decay", weight_decay)
        _check("SGD", "dampening", dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, "
                f"got momentum={momentum} and dampening={dampening}"
            )
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "weight_decay": weight_decay,
                "dampening": dampening,
                "nesterov": nesterov,
            },
        )
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.dampening = dampening
        self.nesterov = nesterov

    def _update(self, state: dict[str, Any], w: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        return self.lr * g


class Adam(Optimizer):
    """Adam with bias correction, as PyTorch (L2 ``weight_decay`` is added to the gradient).

    Per step t: ``g = grad + weight_decay * w``; ``m = b1 m + (1 - b1) g``;
    ``v = b2 v + (1 - b2) g^2``;
    ``w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.

    >>> import minigrad as mg
    >>> w = mg.nn.Parameter(mg.tensor([1.0, -1.0]))
    >>> opt = mg.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.data.round(4)   # the first step moves each weight by lr against its gradient's sign
    array([ 0.9, -0.9], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        _check("Adam", "lr", lr)
        _check("Adam", "eps", eps)
        _check("Adam", "weight_decay", weight_decay)
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        _check("Adam", "betas[0]", betas[0], 0.0, 1.0)
        _check("Adam", "betas[1]", betas[1], 0.0, 1.0)
        super().__init__(
            params,
            {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay},
        )
        self.lr = lr
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = eps
        self.weight_decay = weight_decay

    def _update(self, state: dict[str, Any], w: np.ndarray, g: np.ndarray) -> np.ndarray:
        b1, b2 = self.betas
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(w)
            state["exp_avg_sq"] = np.zeros_like(w)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)  # m = b1 m + (1 - b1) g, written as PyTorch's lerp
        v *= b2
        v += (1 - b2) * g * g
        step_size = self.lr / (1 - b1**t)
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + self.eps
        return step_size * m / denom
