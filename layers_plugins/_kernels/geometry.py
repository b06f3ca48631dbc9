"""Argument normalisation and output-size arithmetic shared by the convolution and pooling kernels.

Every check raises ``ValueError`` (or ``TypeError`` for a wrong kind of value) with a message that
starts with the op name and states the shapes and attributes involved, so the plugin ops can let
these errors reach the user unchanged.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

Pair = tuple[int, int]
# Asymmetric spatial padding, in the order (top, bottom, left, right).
Padding4 = tuple[int, int, int, int]
IntOrPair = int | Sequence[int]
ConvPadding = int | Sequence[int] | str


def _prefix(op: str) -> str:
    return f"{op}: " if op else ""


def _is_int(value: object) -> TypeGuard[int]:  # an Integral that is not a bool
    if type(value) is int:  # the common case, without the slower ABC check
        return True
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def pair(value: IntOrPair, name: str, *, op: str = "") -> Pair:
    """Turn an int or a sequence of two ints into a ``(height, width)`` pair.

    >>> pair(3, "kernel_size")
    (3, 3)
    >>> pair((1, 2), "stride")
    (1, 2)
    """
    if type(value) is tuple and len(value) == 2 and type(value[0]) is type(value[1]) is int:
        return value  # type: ignore[return-value]
    if _is_int(value):
        return (int(value), int(value))
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        a, b = value
        if _is_int(a) and _is_int(b):
            return (int(a), int(b))
    raise TypeError(f"{_prefix(op)}{name} must be an int or a pair of ints, got {value!r}")


def _at_least(value: Pair, minimum: int, name: str, op: str) -> Pair:
    if value[0] < minimum or value[1] < minimum:
        raise ValueError(f"{_prefix(op)}{name} must be >= {minimum}, got {value}")
    return value


def _shape(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(s) for s in shape)


def check_4d(
    shape: Sequence[int], op: str, what: str = "input", layout: str = "(N, C, H, W)"
) -> None:
    """Raise unless ``shape`` has four dimensions."""
    if len(shape) != 4:
        raise ValueError(f"{_prefix(op)}expected a 4-D {what} {layout}, got shape {_shape(shape)}")


# ---------------------------------------------------------------------------------------------
# Caching
# ---------------------------------------------------------------------------------------------

# Validated geometries by argument key; cleared when it grows past _CACHE_SIZE entries.
_CACHE: dict[tuple, object] = {}
_CACHE_SIZE = 1024


def _key(value: Any) -> object:
    """A hashable key that tells apart values that compare equal but validate differently.

    ``True == 1`` and ``[1, 2] == (1, 2)`` would otherwise share an entry, although ``pair``
    rejects a bool; the type goes into the key. Raises TypeError for unhashable values.
    """
    kind = type(value)
    if kind is int or kind is str or value is None:
        return value
    if kind is tuple:
        for v in value:
            if type(v) is not int:
                break
        else:  # the common case, a shape or a pair of ints
            return value
    if kind is tuple or kind is list:
        return (kind, tuple(map(_key, value)))
    hash(value)
    return (kind, value)


def _cached(compute, *args):  # type: ignore[no-untyped-def]
    """``compute(*args)``, remembered for the same arguments (errors are not remembered)."""
    try:
        key = (compute, *map(_key, args))
        hit = _CACHE.get(key)
    except TypeError:  # an unhashable argument: validate it every time
        return compute(*args)
    if hit is None:
        hit = compute(*args)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = hit
    return hit


# ---------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------


def conv2d_padding(
    padding: ConvPadding,
    kernel_hw: Pair,
    stride: Pair = (1, 1),
    dilation: Pair = (1, 1),
    *,
    op: str = "conv2d",
) -> Padding4:
    """Resolve a conv2d ``padding`` argument to ``(top, bottom, left, right)``.

    Accepts an int, a pair ``(ph, pw)``, a 4-tuple ``(top, bottom, left, right)``, ``"valid"``
    (no padding) or ``"same"`` (output size equals input size; stride must be 1). For ``"same"``
    the total padding per axis is ``dilation * (kernel - 1)``; when it is odd the extra row/column
    goes to the bottom/right, as in PyTorch.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0, 0, 0)
        if mode == "same":
            if stride != (1, 1):
                raise ValueError(
                    f"{_prefix(op)}padding='same' requires stride 1, got stride {stride}"
                )
            total_h = dilation[0] * (kernel_hw[0] - 1)
            total_w = dilation[1] * (kernel_hw[1] - 1)
            return (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
        raise ValueError(
            f"{_prefix(op)}padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
        )
    if isinstance(padding, Sequence) and len(padding) == 4 and all(_is_int(p) for p in padding):
        pads = tuple(int(p) for p in padding)
    else:
        ph, pw = pair(padding, "padding", op=op)
        pads = (ph, ph, pw, pw)
    if min(pads) < 0:
        raise ValueError(f"{_prefix(op)}padding must be >= 0, got {padding!r}")
    return pads  # type: ignore[return-value]


def conv2d_output_size(
    in_hw: Pair, kernel_hw: Pair, stride: Pair, padding: Padding4, dilation: Pair
) -> Pair:
    """Output ``(OH, OW)`` of a convolution; may be < 1 when the kernel does not fit."""
    top, bottom, left, right = padding
    oh = (in_hw[0] + top + bottom - dilation[0] * (kernel_hw[0] - 1) - 1) // stride[0] + 1
    ow = (in_hw[1] + left + right - dilation[1] * (kernel_hw[1] - 1) - 1) // stride[1] + 1
    return (oh, ow)


@dataclass(frozen=True)
class ConvGeometry:
    """Every size a conv2d kernel needs, validated and normalised."""

    n: int
    c: int
    h: int
    w: int
    o: int
    kh: int
    kw: int
    stride: Pair
    padding: Padding4  # (top, bottom, left, right)
    dilation: Pair
    oh: int
    ow: int

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.h, self.w)

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.o, self.c, self.kh, self.kw)

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.o, self.oh, self.ow)

    @property
    def ck(self) -> int:
        """Rows of the column matrix: ``C * kh * kw``."""
        return self.c * self.kh * self.kw

    @property
    def ohw(self) -> int:
        """Columns of the column matrix: ``OH * OW``."""
        return self.oh * self.ow


def conv2d_geometry(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
    *,
    op: str = "conv2d",
) -> ConvGeometry:
    """Validate conv2d arguments and compute the output size.

    ``x_shape`` is ``(N, C, H, W)``, ``w_shape`` is ``(O, C, kh, kw)``. Results are cached by
    argument values (and types), since a network calls its layers with the same ones each step.

    >>> g = conv2d_geometry((64, 6, 12, 12), (16, 6, 5, 5))
    >>> g.out_shape, g.ck
    ((64, 16, 8, 8), 150)
    """
    return _cached(_conv2d_geometry, x_shape, w_shape, stride, padding, dilation, op)


def _conv2d_geometry(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: IntOrPair,
    padding: ConvPadding,
    dilation: IntOrPair,
    op: str,
) -> ConvGeometry:
    check_4d(x_shape, op)
    check_4d(w_shape, op, "weight", "(out_channels, in_channels, kh, kw)")
    n, c, h, w = _shape(x_shape)
    o, wc, kh, kw = _shape(w_shape)
    if wc != c:
        raise ValueError(
            f"{_prefix(op)}input has {c} channels (shape {_shape(x_shape)}) but weight expects "
            f"{wc} (shape {_shape(w_shape)})"
        )
    if kh < 1 or kw < 1:
        raise ValueError(f"{_prefix(op)}weight has an empty kernel (shape {_shape(w_shape)})")
    stride_ = _at_least(pair(stride, "stride", op=op), 1, "stride", op)
    dilation_ = _at_least(pair(dilation, "dilation", op=op), 1, "dilation", op)
    pads = conv2d_padding(padding, (kh, kw), stride_, dilation_, op=op)
    span = (dilation_[0] * (kh - 1) + 1, dilation_[1] * (kw - 1) + 1)
    padded = (h + pads[0] + pads[1], w + pads[2] + pads[3])
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{_prefix(op)}kernel {(kh, kw)} with dilation {dilation_} spans {span}, larger than "
            f"the padded input {padded} (input shape {_shape(x_shape)}, padding "
            f"(top, bottom, left, right) {pads})"
        )
    oh, ow = conv2d_output_size((h, w), (kh, kw), stride_, pads, dilation_)
    return ConvGeometry(n, c, h, w, o, kh, kw, stride_, pads, dilation_, oh, ow)


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def pool_output_length(size: int, kernel: int, stride: int, pad: int, ceil_mode: bool) -> int:
    """Pooling output length along one axis, with PyTorch's ``ceil_mode`` rule.

    With ``ceil_mode`` a last, partial window is kept only if it starts inside the input or the
    left padding, i.e. the count drops by one when ``(out - 1) * stride >= size + pad``.
    """
    span = size + 2 * pad - kernel
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def pool2d_output_size(
    in_hw: Pair, kernel: Pair, stride: Pair, padding: Pair, ceil_mode: bool
) -> Pair:
    """Pooling output ``(OH, OW)``; may be < 1 when the window does not fit."""
    return (
        pool_output_length(in_hw[0], kernel[0], stride[0], padding[0], ceil_mode),
        pool_output_length(in_hw[1], kernel[1], stride[1], padding[1], ceil_mode),
    )


@dataclass(frozen=True)
class PoolGeometry:
    """Every size a pooling kernel needs, validated and normalised."""

    n: int
    c: int
    h: int
    w: int
    kernel: Pair
    stride: Pair
    padding: Pair  # symmetric (ph, pw)
    ceil_mode: bool
    oh: int
    ow: int

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.h, self.w)

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.oh, self.ow)

    @property
    def tiles(self) -> bool:
        """True when the windows tile the input exactly (stride == kernel, no padding)."""
        return (
            self.stride == self.kernel
            and self.padding == (0, 0)
            and self.oh * self.kernel[0] == self.h
            and self.ow * self.kernel[1] == self.w
        )

    @property
    def extent(self) -> Pair:
        """Rows and columns covered by all windows, counted from the top-left padding corner."""
        return (
            (self.oh - 1) * self.stride[0] + self.kernel[0],
            (self.ow - 1) * self.stride[1] + self.kernel[1],
        )


def pool2d_geometry(
    x_shape: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    *,
    op: str = "pool2d",
) -> PoolGeometry:
    """Validate pooling arguments (PyTorch's rules) and compute the output size.

    ``stride=None`` means ``stride = kernel_size``. Padding may be at most half the kernel.
    Results are cached like ``conv2d_geometry``'s.

    >>> pool2d_geometry((64, 6, 24, 24), 2).out_shape
    (64, 6, 12, 12)
    """
    return _cached(_pool2d_geometry, x_shape, kernel_size, stride, padding, ceil_mode, op)


def _pool2d_geometry(
    x_shape: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    ceil_mode: bool,
    op: str,
) -> PoolGeometry:
    check_4d(x_shape, op)
    n, c, h, w = _shape(x_shape)
    kernel = _at_least(pair(kernel_size, "kernel_size", op=op), 1, "kernel_size", op)
    if stride is None:
        stride_ = kernel
    else:
        stride_ = _at_least(pair(stride, "stride", op=op), 1, "stride", op)
    pad = _at_least(pair(padding, "padding", op=op), 0, "padding", op)
    if 2 * pad[0] > kernel[0] or 2 * pad[1] > kernel[1]:
        raise ValueError(f"{_prefix(op)}padding {pad} must be at most half of kernel_size {kernel}")
    oh, ow = pool2d_output_size((h, w), kernel, stride_, pad, bool(ceil_mode))
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{_prefix(op)}kernel_size {kernel} is larger than the padded input "
            f"{(h + 2 * pad[0], w + 2 * pad[1])} (input shape {_shape(x_shape)}, padding {pad}, "
            f"stride {stride_}, ceil_mode={bool(ceil_mode)}); the output would be empty"
        )
    return PoolGeometry(n, c, h, w, kernel, stride_, pad, bool(ceil_mode), oh, ow)
