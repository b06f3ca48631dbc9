"""Elementwise activations, softmax, Flatten and Identity; the activations call the plugin
ops (``relu``, ``sigmoid``, ``tanh``, ``softmax``, ``log_softmax``) through ``mg.ops``.

>>> import minigrad as mg
>>> mg.nn.ReLU()(mg.tensor([-1.0, 1.0])).data
array([0., 1.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor, as_tensor
from .layers import _ops
from .module import Module

__all__ = ["Flatten", "Identity", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]


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
