"""Grouped convolution: the channel split behind ``conv2d(..., groups=g)`` and its companions.

With ``g`` groups the C input channels and the O output channels are cut into ``g`` equal,
consecutive blocks; output block ``j`` sees input block ``j`` only, through filters of shape
``(O/g, C/g, kh, kw)``, so the weight is ``(O, C/g, kh, kw)`` as in PyTorch. Depthwise
convolution is ``g = C``: every channel is filtered on its own. Each block is one ordinary
convolution of the kernels in ``_kernels.conv``; the three products stay adjoint block by
block, so the companions' gradients are each other as for ``groups=1``.

>>> import numpy as np
>>> x = np.arange(8.0).reshape(1, 2, 2, 2)                 # two channels
>>> w = np.array([1.0, 10.0]).reshape(2, 1, 1, 1)          # depthwise: one 1x1 filter each
>>> grouped_conv2d(x, w, None, 1, 0, 1, groups=2)[0, :, 0, 0]
array([ 0., 40.])
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._kernels import conv2d as _conv2d
from ._kernels import conv2d_weight as _conv2d_weight
from ._kernels import conv_transpose2d as _conv_transpose2d

__all__ = [
    "check_groups",
    "grouped_conv2d",
    "grouped_conv2d_weight",
    "grouped_conv_transpose2d",
    "input_channels_of",
]


def check_groups(op: str, groups: Any, in_channels: int, out_channels: int) -> int:
    """``groups`` as an int that divides both channel counts, or an error naming the op.

    >>> check_groups("conv2d", 2, 4, 6)
    2
    >>> check_groups("conv2d", 3, 4, 6)
    Traceback (most recent call last):
    ...
    ValueError: conv2d: in_channels=4 is not divisible by groups=3; each group needs the \
same number of input channels
    """
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"{op}: groups must be a positive int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be >= 1, got {groups}")
    for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
        if n % groups:
            raise ValueError(
                f"{op}: {what}={n} is not divisible by groups={groups}; each group needs the "
                f"same number of {what.split('_')[0]}put channels"
            )
    return int(groups)


def input_channels_of(out_channel: int, in_channels: int, out_channels: int, groups: int) -> range:
    """The input channels that output channel ``out_channel``'s filter sees.

    >>> input_channels_of(5, 8, 8, 4)     # 4 groups of 2: filter 5 reads channels 4 and 5
    range(4, 6)
    """
    cg, og = in_channels // groups, out_channels // groups
    j = out_channel // og
    return range(j * cg, (j + 1) * cg)


def _blocks(n: int, groups: int) -> list[slice]:
    size = n // groups
    return [slice(j * size, (j + 1) * size) for j in range(groups)]


def grouped_conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> np.ndarray:
    """conv2d of (N, C, H, W) with (O, C/g, kh, kw) filters in ``groups`` blocks."""
    if groups == 1:
        return _conv2d(x, weight, bias, stride, padding, dilation)
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"conv2d: bias has shape {bias.shape} but weight (shape {weight.shape}) has "
            f"{weight.shape[0]} output channels; expected shape ({weight.shape[0]},)"
        )
    xs, ws = _blocks(x.shape[1], groups), _blocks(weight.shape[0], groups)
    parts = [
        _conv2d(x[:, xs[j]], weight[ws[j]], None if bias is None else bias[ws[j]], stride,
                padding, dilation)
        for j in range(groups)
    ]  # fmt: skip
    return np.concatenate(parts, axis=1)  # (N, O, OH, OW)


def grouped_conv_transpose2d(
    grad: np.ndarray,
    weight: np.ndarray,
    x_hw: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> np.ndarray:
    """(N, O, OH, OW) -> (N, C, H, W) through (O, C/g, kh, kw) filters in ``groups`` blocks."""
    if groups == 1:
        return _conv_transpose2d(grad, weight, x_hw, stride, padding, dilation)
    gs = _blocks(grad.shape[1], groups)
    parts = [_conv_transpose2d(grad[:, s], weight[s], x_hw, stride, padding, dilation) for s in gs]
    return np.concatenate(parts, axis=1)


def grouped_conv2d_weight(
    x: np.ndarray,
    grad: np.ndarray,
    w_shape: tuple[int, int, int, int],
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> np.ndarray:
    """The (O, C/g, kh, kw) weight gradient, block by block."""
    if groups == 1:
        return _conv2d_weight(x, grad, w_shape, stride, padding, dilation)
    o, cg, kh, kw = w_shape
    xs, gs = _blocks(x.shape[1], groups), _blocks(grad.shape[1], groups)
    block = (o // groups, cg, kh, kw)
    parts = [
        _conv2d_weight(x[:, xs[j]], grad[:, gs[j]], block, stride, padding, dilation)
        for j in range(groups)
    ]
    return np.concatenate(parts, axis=0)
