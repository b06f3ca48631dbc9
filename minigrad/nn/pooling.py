"""Pooling layers over NCHW input, through the plugin ops ``max_pool2d``, ``avg_pool2d``,
``sum_pool2d``, ``global_avg_pool2d`` and ``global_max_pool2d``. Inside an unnamed Sequential
they are labelled ``pool1``, ``pool2``...

>>> import minigrad as mg
>>> mg.nn.MaxPool2d(2)(mg.ones(1, 1, 4, 4)).shape
(1, 1, 2, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .layers import _ops, _pair, _positive
from .module import Module

__all__ = ["AvgPool2d", "GlobalAvgPool2d", "GlobalMaxPool2d", "MaxPool2d", "SumPool2d"]


def _check_4d(layer: Module, x: Any) -> None:
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(shape) != 4:
        raise ValueError(
            f"{layer._where()}: expected a 4-D input of shape (N, C, H, W), "
            f"got shape {tuple(shape)}"
        )


class _Pool2d(Module):
    _op = ""
    label_prefix = "pool"

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        _positive(_pair(kernel_size, "kernel_size", owner), "kernel_size", owner)
        if stride is not None:
            _positive(_pair(stride, "stride", owner), "stride", owner)
        _positive(_pair(padding, "padding", owner), "padding", owner, allow_zero=True)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)

    def _attrs(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "ceil_mode": self.ceil_mode,
        }

    def forward(self, x: Any) -> Tensor:
        _check_4d(self, x)
        return getattr(_ops(), self._op)(x, **self._attrs())

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return text + (", ceil_mode=True" if self.ceil_mode else "")


class MaxPool2d(_Pool2d):
    """Max pooling over NCHW input (``mg.ops.max_pool2d``); stride defaults to kernel_size.

    >>> import minigrad as mg
    >>> mg.nn.MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2, padding=0)
    """

    _op = "max_pool2d"


class SumPool2d(_Pool2d):
    """Sum pooling over NCHW input (``mg.ops.sum_pool2d``); stride defaults to kernel_size.

    >>> import minigrad as mg
    >>> mg.nn.SumPool2d(3, stride=1)
    SumPool2d(kernel_size=3, stride=1, padding=0)
    """

    _op = "sum_pool2d"


class AvgPool2d(_Pool2d):
    """Average pooling over NCHW input (``mg.ops.avg_pool2d``); stride defaults to kernel_size.

    With ``count_include_pad=True`` padded zeros count in the average, as in PyTorch.

    >>> import minigrad as mg
    >>> mg.nn.AvgPool2d(2, padding=1, count_include_pad=False)
    AvgPool2d(kernel_size=2, stride=2, padding=1, count_include_pad=False)
    """

    _op = "avg_pool2d"

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def _attrs(self) -> dict[str, Any]:
        return {**super()._attrs(), "count_include_pad": self.count_include_pad}

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + ("" if self.count_include_pad else ", count_include_pad=False")


class GlobalAvgPool2d(Module):
    """Mean over the spatial dimensions: (N, C, H, W) -> (N, C).

    >>> import minigrad as mg
    >>> mg.nn.GlobalAvgPool2d()(mg.ones(2, 3, 4, 4)).shape
    (2, 3)
    """

    def forward(self, x: Any) -> Tensor:
        _check_4d(self, x)
        return _ops().global_avg_pool2d(x)

    label_prefix = "pool"


class GlobalMaxPool2d(Module):
    """Maximum over the spatial dimensions: (N, C, H, W) -> (N, C).

    >>> import minigrad as mg
    >>> mg.nn.GlobalMaxPool2d()(mg.ones(2, 3, 4, 4)).shape
    (2, 3)
    """

    def forward(self, x: Any) -> Tensor:
        _check_4d(self, x)
        return _ops().global_max_pool2d(x)

    label_prefix = "pool"
