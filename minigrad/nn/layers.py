"""Linear (core ops) and Conv2d (the ``conv2d`` plugin op), and the checks layers share.

Every layer checks its input before calling an op, so a wrong shape is reported with the layer
(and its path in the model, e.g. ``at 'conv1'``), what it expected and what it got.

>>> import minigrad as mg
>>> mg.manual_seed(0)
>>> fc = mg.nn.Linear(4, 3)
>>> fc(mg.ones(2, 4)).shape
(2, 3)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv2d", "Linear"]


def _ops() -> Any:
    # imported on first use: `import minigrad.nn` must not load the plugin registry
    from ..plugins import ops

    return ops


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _pair(value: Any, what: str, owner: str) -> tuple[int, int]:
    if _is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value)):
        return int(value[0]), int(value[1])
    raise TypeError(f"{owner}: {what} must be an int or a pair of ints, got {value!r}")


def _positive(pair: tuple[int, int], what: str, owner: str, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if min(pair) < low:
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner}: {what} must be {bound}, got {pair}")


def _reset_affine(weight: Parameter, bias: Parameter | None, fan_in: int) -> None:
    # PyTorch's defaults: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """Fully connected layer: ``y = x @ weight.T + bias``.

    ``weight`` has shape (out_features, in_features); input (..., in_features) gives
    (..., out_features). Initialised as PyTorch's Linear (uniform in +-1/sqrt(in_features)).
    Labelled ``fc1``, ``fc2``... inside an unnamed Sequential.

    >>> import minigrad as mg
    >>> fc = mg.nn.Linear(4, 3)
    >>> fc.weight.shape, fc.bias.shape
    ((3, 4), (3,))
    >>> fc(mg.ones(2, 4)).shape
    (2, 3)
    """

    label_prefix = "fc"

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype: Any = np.float32
    ) -> None:
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(
                f"Linear: in_features and out_features must be non-negative, "
                f"got {in_features} and {out_features}"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty((out_features,), dtype=dtype)) if bias else None
        _reset_affine(self.weight, self.bias, self.in_features)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self._where()}: expected input with last dimension {self.in_features}, "
                f"got shape {x.shape}"
            )
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.out_features}"
        return text if self.bias is not None else text + ", bias=False"


class Conv2d(Module):
    """2-D convolution (cross-correlation) over NCHW input, through ``mg.ops.conv2d``.

    ``weight`` has shape (out_channels, in_channels // groups, kh, kw), ``bias`` (out_channels,).
    ``padding`` is an int, a pair, ``"valid"`` or ``"same"``. ``groups`` splits the channels
    into blocks that are convolved separately (``groups=in_channels``: depthwise); both channel
    counts must be divisible by it. Initialised as PyTorch's Conv2d.

    >>> import minigrad as mg
    >>> conv = mg.nn.Conv2d(1, 6, 5)
    >>> conv
    Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
    >>> conv.weight.shape
    (6, 1, 5, 5)
    >>> mg.nn.Conv2d(8, 8, 3, padding=1, groups=8).weight.shape     # depthwise
    (8, 1, 3, 3)
    """

    label_prefix = "conv"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(
                f"Conv2d: in_channels and out_channels must be positive, "
                f"got {in_channels} and {out_channels}"
            )
        if not _is_int(groups) or groups < 1:
            raise ValueError(f"Conv2d: groups must be a positive int, got {groups!r}")
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if n % groups:
                raise ValueError(f"Conv2d: {what}={n} is not divisible by groups={groups}")
        self.groups = int(groups)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.dilation = _pair(dilation, "dilation", "Conv2d")
        _positive(self.kernel_size, "kernel_size", "Conv2d")
        _positive(self.stride, "stride", "Conv2d")
        _positive(self.dilation, "dilation", "Conv2d")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
                )
            self.padding: tuple[int, int] | str = padding
        else:
            self.padding = _pair(padding, "padding", "Conv2d")
            _positive(self.padding, "padding", "Conv2d", allow_zero=True)
        kh, kw = self.kernel_size
        per_group = in_channels // self.groups
        self.weight = Parameter(np.empty((out_channels, per_group, kh, kw), dtype=dtype))
        self.bias = Parameter(np.empty((out_channels,), dtype=dtype)) if bias else None
        _reset_affine(self.weight, self.bias, per_group * kh * kw)

    def forward(self, x: Any) -> Tensor:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) != 4 or shape[1] != self.in_channels:
            hint = " (add a batch dimension: x.reshape(1, *x.shape))" if len(shape) == 3 else ""
            raise ValueError(
                f"{self._where()}: expected input of shape (N, {self.in_channels}, H, W), "
                f"got shape {tuple(shape)}{hint}"
            )
        attrs: dict[str, Any] = {"stride": self.stride, "padding": self.padding}
        attrs.update(dilation=self.dilation, groups=self.groups)
        return _ops().conv2d(x, self.weight, self.bias, **attrs)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
