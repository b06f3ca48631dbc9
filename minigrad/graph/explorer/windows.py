"""Window geometry of a conv2d or pooling call: which input cells one output cell reads.

One :class:`Window` per op call holds the resolved attributes (kernel, stride, dilation,
padding as top/bottom/left/right, the input and output sizes). :meth:`Window.rows` and
:meth:`Window.cols` give the input rows/columns of output cell ``(i, j)``, and
:meth:`Window.cells` says for each window cell whether it is in the input (0), in the
padding (1) or past the padding (2: a ``ceil_mode`` partial window's clipped part). The
explainer page receives the same resolved numbers (:meth:`Window.to_json`).

>>> w = Window("conv2d", (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), (6, 6), (6, 6))
>>> w.rows(0).tolist(), w.cells(0, 0)[0].tolist()
([-1, 0, 1], [1, 1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...op import Context

__all__ = ["POOLS", "WINDOW_OPS", "Window", "window_of"]

#: pooling ops with a sliding window, by name -> kind
POOLS = {"max_pool2d": "max", "avg_pool2d": "avg", "sum_pool2d": "sum"}
#: every op the window explainer knows
WINDOW_OPS = ("conv2d", *POOLS, "global_max_pool2d", "global_avg_pool2d")


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


@dataclass(frozen=True)
class Window:
    """Resolved window attributes of one call (see the module docstring)."""

    op: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad: tuple[int, int, int, int]  # top, bottom, left, right
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    count_include_pad: bool = True

    @property
    def kind(self) -> str:
        """ "conv", "max", "avg", "sum", "global_max" or "global_avg"."""
        if self.op == "conv2d":
            return "conv"
        return POOLS.get(self.op) or self.op.replace("_pool2d", "")

    def rows(self, i: int) -> np.ndarray:
        """Input rows of output row ``i`` (negative or >= H: outside the input)."""
        return i * self.stride[0] - self.pad[0] + np.arange(self.kernel[0]) * self.dilation[0]

    def cols(self, j: int) -> np.ndarray:
        """Input columns of output column ``j``."""
        return j * self.stride[1] - self.pad[2] + np.arange(self.kernel[1]) * self.dilation[1]

    def cells(self, i: int, j: int) -> np.ndarray:
        """(kh, kw) codes: 0 input, 1 padding, 2 past the padding (clipped partial window)."""
        h, w = self.in_hw
        r, c = self.rows(i)[:, None], self.cols(j)[None, :]
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        padded = (r >= -self.pad[0]) & (r < h + self.pad[1]) & (c >= -self.pad[2])
        padded &= c < w + self.pad[3]
        return np.where(inside, 0, np.where(padded, 1, 2))

    def divisor(self, i: int, j: int) -> int:
        """What an average divides by: padded cells count unless ``count_include_pad=False``;
        cells past the padding never count (PyTorch's rule)."""
        codes = self.cells(i, j)
        return int((codes == 0).sum() + ((codes == 1).sum() if self.count_include_pad else 0))

    def to_json(self) -> dict[str, Any]:
        """The resolved numbers, for the page."""
        return {
            "op": self.op,
            "kind": self.kind,
            "kernel": list(self.kernel),
            "stride": list(self.stride),
            "dilation": list(self.dilation),
            "pad": list(self.pad),
            "in_hw": list(self.in_hw),
            "out_hw": list(self.out_hw),
            "count_include_pad": self.count_include_pad,
        }


def _conv_pad(padding: Any, k: tuple[int, int], d: tuple[int, int]) -> tuple[int, ...]:
    if isinstance(padding, str):
        if padding.lower() == "valid":
            return (0, 0, 0, 0)
        th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)  # "same": the odd extra goes bottom/right
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        return tuple(int(p) for p in padding)
    ph, pw = _pair(padding)
    return (ph, ph, pw, pw)


def window_of(ctx: Context) -> Window | None:
    """The window geometry of a recorded conv2d/pooling call, or None for other ops.

    >>> import minigrad as mg
    >>> y = mg.ops.max_pool2d(mg.randn(1, 1, 5, 5, requires_grad=True), 2, ceil_mode=True)
    >>> window_of(y._node).out_hw, window_of(y._node).cells(2, 2).tolist()
    ((3, 3), [[0, 2], [2, 2]])
    """
    name = ctx.name
    if name not in WINDOW_OPS:
        return None
    x = ctx.inputs[0]
    out = ctx.output
    if x is None or x.ndim != 4:
        return None
    hw = (int(x.shape[2]), int(x.shape[3]))
    if name.startswith("global_"):
        return Window(name, hw, (1, 1), (1, 1), (0, 0, 0, 0), hw, (1, 1))
    a = ctx.attrs
    if name == "conv2d":
        w = ctx.inputs[1]
        assert w is not None  # conv2d's weight is required
        k = (int(w.shape[2]), int(w.shape[3]))
        s, d = _pair(a.get("stride", 1)), _pair(a.get("dilation", 1))
        pad = _conv_pad(a.get("padding", 0), k, d)
    else:
        k = _pair(a["kernel_size"])
        s = k if a.get("stride") is None else _pair(a["stride"])
        d = (1, 1)
        ph, pw = _pair(a.get("padding", 0))
        pad = (ph, ph, pw, pw)
    if out is not None:
        ohw = (int(out.shape[2]), int(out.shape[3]))
    else:  # the output was dropped: floor-mode sizes are what a reader expects
        ohw = tuple(  # type: ignore[assignment]
            (hw[i] + pad[2 * i] + pad[2 * i + 1] - d[i] * (k[i] - 1) - 1) // s[i] + 1
            for i in range(2)
        )
    cip = bool(a.get("count_include_pad", True))
    return Window(name, k, s, d, pad, hw, ohw, cip)  # type: ignore[arg-type]
