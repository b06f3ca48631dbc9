"""Elementwise activations, softmax, Flatten and Identity; the activations call the plugin
ops (``relu``, ``sigmoid``, ``tanh``, ``leaky_relu``, ``elu``, ``gelu``, ``silu``, ``hardswish``,
``hardsigmoid``, ``softplus``, ``softmax``, ``log_softmax``) through ``mg.ops``.

>>> import minigrad as mg
>>> mg.nn.ReLU()(mg.tensor([-1.0, 1.0])).data
array([0., 1.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor
from .layers import _ops
from .module import Module

__all__ = [
    "ELU",
    "Dropout",
    "GELU",
    "Flatten",
    "Hardsigmoid",
    "Hardswish",
    "Identity",
    "LeakyReLU",
    "LogSoftmax",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


class ReLU(Module):
    """max(x, 0) elementwise (``mg.ops.relu``; the gradient at 0 is 0).

    >>> import minigrad as mg
    >>> mg.nn.ReLU()(mg.tensor([-1.0, 2.0])).data
    array([0., 2.], dtype=float32)
    """

    def forward(self, x: Any) -> Tensor:
        return _ops().relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise (``mg.ops.sigmoid``).

    >>> import minigrad as mg
    >>> mg.nn.Sigmoid()(mg.tensor([0.0])).data
    array([0.5], dtype=float32)
    """

    def forward(self, x: Any) -> Tensor:
        return _ops().sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise (``mg.ops.tanh``).

    >>> import minigrad as mg
    >>> mg.nn.Tanh()(mg.tensor([0.0])).data
    array([0.], dtype=float32)
    """

    def forward(self, x: Any) -> Tensor:
        return _ops().tanh(x)


def _real(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    return float(value)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x`` (``mg.ops.leaky_relu``).

    >>> import minigrad as mg
    >>> mg.nn.LeakyReLU(0.1)(mg.tensor([-1.0, 2.0])).data
    array([-0.1,  2. ], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = _real("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Any) -> Tensor:
        return _ops().leaky_relu(x, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)`` (``mg.ops.elu``).

    >>> import minigrad as mg
    >>> mg.nn.ELU()(mg.tensor([0.0, 2.0])).data
    array([0., 2.], dtype=float32)
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = _real("ELU", "alpha", alpha)

    def forward(self, x: Any) -> Tensor:
        return _ops().elu(x, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """``x * Phi(x)``, exact or with the tanh approximation (``mg.ops.gelu``).

    >>> import minigrad as mg
    >>> mg.nn.GELU(approximate="tanh")
    GELU(approximate='tanh')
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return _ops().gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` (``mg.ops.silu``).

    >>> import minigrad as mg
    >>> mg.nn.SiLU()(mg.tensor([0.0])).data
    array([0.], dtype=float32)
    """

    def forward(self, x: Any) -> Tensor:
        return _ops().silu(x)


class Hardswish(Module):
    """``x * relu6(x + 3) / 6`` (``mg.ops.hardswish``).

    >>> import minigrad as mg
    >>> mg.nn.Hardswish()(mg.tensor([-4.0, 4.0])).data
    array([-0.,  4.], dtype=float32)
    """

    def forward(self, x: Any) -> Tensor:
        return _ops().hardswish(x)


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6`` (``mg.ops.hardsigmoid``).

    >>> import minigrad as mg
    >>> mg.nn.Hardsigmoid()(mg.tensor([0.0])).data
    array([0.5], dtype=float32)
    """

    def forward(self, x: Any) -> Tensor:
        return _ops().hardsigmoid(x)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold`` (``mg.ops.softplus``).

    >>> import minigrad as mg
    >>> mg.nn.Softplus(beta=2.0)
    Softplus(beta=2.0, threshold=20.0)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = _real("Softplus", "beta", beta)
        self.threshold = _real("Softplus", "threshold", threshold)
        if self.beta == 0:
            raise ValueError("Softplus: beta must be non-zero, got 0")

    def forward(self, x: Any) -> Tensor:
        return _ops().softplus(x, beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the rest by 1/(1 - p)
    (``mg.ops.dropout``); the identity after ``eval()``. Masks come from the generator that
    ``mg.manual_seed`` seeds.

    >>> import minigrad as mg
    >>> drop = mg.nn.Dropout(0.25)
    >>> drop
    Dropout(p=0.25)
    >>> drop.eval()(mg.ones(3)).data
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        p = _real("Dropout", "p", p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Any) -> Tensor:
        return _ops().dropout(x, p=self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``axis`` (``mg.ops.softmax``).

    >>> import minigrad as mg
    >>> mg.nn.Softmax()(mg.tensor([[0.0, 0.0]])).data
    array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, x: Any) -> Tensor:
        return _ops().softmax(x, axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``axis``, computed stably (``mg.ops.log_softmax``).

    >>> import minigrad as mg
    >>> mg.nn.LogSoftmax()(mg.tensor([[0.0, 0.0]])).shape
    (1, 2)
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, x: Any) -> Tensor:
        return _ops().log_softmax(x, axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim``: (N, C, H, W) -> (N, C*H*W) by default.

    >>> import minigrad as mg
    >>> mg.nn.Flatten()(mg.zeros(2, 3, 4, 4)).shape
    (2, 48)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim <= self.start_dim and self.start_dim >= 0:
            raise ValueError(
                f"{self._where()}: start_dim {self.start_dim} needs an input with more than "
                f"{self.start_dim} dimension(s), got shape {x.shape}"
            )
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer).

    >>> import minigrad as mg
    >>> mg.nn.Identity()(mg.tensor([1.0])).data
    array([1.], dtype=float32)
    """

    def forward(self, x: Any) -> Any:
        return x
