"""Parameter initialisers, drawn from the generator that ``mg.manual_seed`` seeds.

Each function fills a tensor's array in place (no graph is recorded) and returns the tensor, so
``mg.manual_seed(0)`` followed by building a model always gives the same weights.

The defaults of :class:`~minigrad.nn.Linear` and :class:`~minigrad.nn.Conv2d` follow PyTorch:
weights from ``kaiming_uniform_(w, a=math.sqrt(5))``, which is uniform in
``(-1/sqrt(fan_in), 1/sqrt(fan_in))``, and biases uniform in the same interval.

>>> import math
>>> import minigrad as mg
>>> from minigrad.nn import init
>>> w = mg.nn.Parameter(mg.zeros(3, 4))
>>> _ = init.kaiming_uniform_(w, a=math.sqrt(5))
>>> bool(abs(w.data).max() <= 1 / math.sqrt(4))
True
"""

from __future__ import annotations

import math

import numpy as np

from .. import creation
from ..tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "fan_in_and_fan_out",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """Fan-in and fan-out of a weight: shape (out, in) for Linear, (out, in, kh, kw) for conv.

    >>> fan_in_and_fan_out((6, 1, 5, 5))
    (25, 150)
    """
    if len(shape) < 2:
        raise ValueError(
            f"fan_in_and_fan_out: needs a weight with at least 2 dimensions, got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as PyTorch defines it.

    >>> calculate_gain("relu") == math.sqrt(2)
    True
    """
    if nonlinearity in ("linear", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of "
        "'linear', 'conv2d', 'sigmoid', 'tanh', 'relu', 'leaky_relu'"
    )


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    # in place, so anything holding the parameter (an optimizer) sees the new values
    t.data[...] = values.astype(t.dtype, copy=False)
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill ``t`` with samples from U(a, b). ``init.uniform_(w, -0.1, 0.1)``"""
    return _fill(t, creation.generator().uniform(a, b, size=t.shape))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill ``t`` with samples from N(mean, std**2). ``init.normal_(w, 0.0, 0.01)``"""
    return _fill(t, creation.generator().normal(mean, std, size=t.shape))


def constant_(t: Tensor, value: float) -> Tensor:
    """Fill ``t`` with ``value``. ``init.constant_(b, 0.1)``"""
    t.data[...] = value
    return t


def zeros_(t: Tensor) -> Tensor:
    """Fill ``t`` with zeros. ``init.zeros_(b)``"""
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fill ``t`` with ones. ``init.ones_(w)``"""
    return constant_(t, 1.0)


def _fan(t: Tensor, mode: str) -> int:
    fan_in, fan_out = fan_in_and_fan_out(t.shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def kaiming_uniform_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He initialisation: U(-bound, bound) with bound = gain * sqrt(3 / fan).

    With ``a=math.sqrt(5)`` (the Linear/Conv2d default) the bound is ``1/sqrt(fan_in)``.
    ``init.kaiming_uniform_(w, nonlinearity="relu")``
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(t, -bound, bound)


def kaiming_normal_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He initialisation: N(0, std**2) with std = gain / sqrt(fan).

    ``init.kaiming_normal_(w, nonlinearity="relu")``
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    return normal_(t, 0.0, std)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialisation: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).

    ``init.xavier_uniform_(w)``
    """
    fan_in, fan_out = fan_in_and_fan_out(t.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialisation: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    ``init.xavier_normal_(w)``
    """
    fan_in, fan_out = fan_in_and_fan_out(t.shape)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))
