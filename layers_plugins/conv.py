"""Convolution: conv2d and its two gradient companions, conv_transpose2d and conv2d_weight.

All three are NCHW, with weights laid out ``(out_channels, in_channels, kh, kw)`` and
cross-correlation as in every deep-learning framework. They are the three products of one
convolution layer and each one's gradients are the other two, so every backward pass here is
written with ``mg.ops`` calls and can be drawn and differentiated again (``create_graph=True``).
With ``u`` the incoming gradient and the same ``stride``, ``padding`` and ``dilation``:

=====================================  ==========================================================
op                                     gradients
=====================================  ==========================================================
``y = conv2d(x, w, b)``                x: ``conv_transpose2d(u, w, x_hw)``,
                                       w: ``conv2d_weight(x, u, w_shape)``, b: ``u.sum((0,2,3))``
``dx = conv_transpose2d(g, w, x_hw)``  g: ``conv2d(u, w)``, w: ``conv2d_weight(u, g, w_shape)``
``dw = conv2d_weight(x, g, w_shape)``  x: ``conv_transpose2d(g, u, x_hw)``, g: ``conv2d(x, u)``
=====================================  ==========================================================

Only the gradients that ``ctx.needs_input_grad`` asks for are computed: the first layer of a
network, whose input needs no gradient, never runs a transposed convolution.

Dtypes: every array input is float16, float32 or float64; integer, bool and complex ones raise
``TypeError`` naming the op and the argument (see ``layers_plugins._dtypes``). Inputs of two
float widths follow numpy's promotion (a float32 image with float64 weights gives float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor

from ._args import Samples, check_input, size_attr
from ._dtypes import check_float
from ._kernels.geometry import check_4d, conv2d_padding, pair
from .conv_groups import (
    check_groups,
    grouped_conv2d,
    grouped_conv2d_weight,
    grouped_conv_transpose2d,
)

__all__ = ["Conv2d", "Conv2dWeight", "ConvTranspose2d"]


def _conv_attrs(ctx: Context) -> dict[str, Any]:
    """stride/padding/dilation/groups of a call, for the companion ops of its backward pass."""
    attrs = {k: size_attr(ctx.attrs[k]) for k in ("stride", "padding", "dilation")}
    attrs["groups"] = int(ctx.attrs["groups"])
    return attrs


def _check_weight_channels(op: str, channels: int, weight_shape: tuple, groups: int) -> None:
    """A grouped weight is (O, C/groups, kh, kw): say so when it is not."""
    if groups != 1 and weight_shape[1] * groups != channels:
        raise ValueError(
            f"{op}: the input has {channels} channels and groups={groups}, so the weight must "
            f"be (out_channels, {channels // groups}, kh, kw) (in_channels / groups per filter); "
            f"got weight of shape {tuple(weight_shape)}"
        )


def _check_floats(op: str, **arrays: np.ndarray | None) -> None:
    """Every given array is float16, float32 or float64 (see ``layers_plugins._dtypes``)."""
    for what, a in arrays.items():
        if a is not None:
            check_float(op, what, a)


def _positive(groups: Any) -> int:
    """groups as a multiplier before it is checked (check_groups then names what is wrong)."""
    return groups if isinstance(groups, int) and groups > 0 else 1


def _hw(t: Tensor) -> tuple[int, int]:
    return (int(t.shape[2]), int(t.shape[3]))


# --------------------------------------------------------------------------- conv2d


class Conv2d(Op):
    """2-D convolution (cross-correlation) of NCHW input with ``(O, C, kh, kw)`` filters.

    ``y[n, o, i, j] = bias[o] + sum_{c, p, q} x[n, c, i*sh + p*dh - top, j*sw + q*dw - left]
    * weight[o, c, p, q]``, reading zeros in the padding, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : Tensor
        (N, C, H, W) input, float16, float32 or float64 (as are ``weight`` and ``bias``).
    weight : Tensor
        (O, C, kh, kw) filters, one (C, kh, kw) filter per output channel.
    bias : Tensor, optional
        (O,) added to every position of output channel ``o``.
    stride : int or (sh, sw), default 1
        Step between windows; must be >= 1.
    padding : int, (ph, pw), (top, bottom, left, right), "valid" or "same", default 0
        Zeros added around the input. ``"same"`` keeps the size (stride 1 only; an odd total
        padding puts the extra row/column at the bottom/right, as PyTorch does).
    dilation : int or (dh, dw), default 1
        Spacing between kernel taps; must be >= 1.
    groups : int, default 1
        Split the C input and O output channels into this many blocks; output block j sees
        input block j only, and ``weight`` is (O, C/groups, kh, kw). ``groups=C`` is a
        depthwise convolution. Both C and O must be divisible by it.

    Returns
    -------
    Tensor
        (N, O, OH, OW) with ``OH = (H + top + bottom - dh*(kh-1) - 1) // sh + 1`` (same for
        OW), in ``x``'s float dtype (numpy promotion when ``x`` and ``weight`` differ).

    Notes
    -----
    The backward pass calls ``mg.ops.conv_transpose2d`` for ``x`` (only if ``x`` needs a
    gradient), ``mg.ops.conv2d_weight`` for ``weight`` and a sum over (N, OH, OW) for ``bias``,
    so it is a graph of ops that can be drawn and differentiated again.

    Raises ``TypeError`` naming conv2d for an integer, bool or complex array, and
    ``ValueError`` naming conv2d, the shapes and the attributes for: an input or weight
    that is not 4-D, a channel mismatch between input and weight, a bias that is not (O,), a
    kernel (with its dilation) larger than the padded input, stride or dilation < 1, and
    ``"same"`` padding with a stride other than 1.

    Examples
    --------
    >>> import numpy as np, minigrad as mg
    >>> img = mg.tensor(np.eye(4, dtype=np.float32).reshape(1, 1, 4, 4))       # (N, C, H, W)
    >>> diag = mg.tensor(np.eye(2, dtype=np.float32).reshape(1, 1, 2, 2))      # (O, C, kh, kw)
    >>> mg.ops.conv2d(img, diag).data[0, 0]                                    # (OH, OW) = (3, 3)
    array([[2., 0., 0.],
           [0., 2., 0.],
           [0., 0., 2.]], dtype=float32)
    >>> mg.ops.conv2d(img, diag, padding="same").shape, mg.ops.conv2d(img, diag, stride=2).shape
    ((1, 1, 4, 4), (1, 1, 2, 2))
    """

    name = "conv2d"
    formula = "dx = conv_transpose2d(dy, w); dw = conv2d_weight(x, dy); db = sum(dy, (N, H, W))"

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        *,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
    ) -> np.ndarray:
        check_input("conv2d", x.shape)
        check_4d(weight.shape, "conv2d", "weight", "(out_channels, in_channels, kh, kw)")
        _check_floats("conv2d", x=x, weight=weight, bias=bias)
        groups = check_groups("conv2d", groups, x.shape[1], weight.shape[0])
        _check_weight_channels("conv2d", x.shape[1], weight.shape, groups)
        ctx.save_for_backward(x, weight)
        # (N, C, H, W) * (O, C/groups, kh, kw) -> (N, O, OH, OW)
        return grouped_conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        attrs = _conv_attrs(ctx)
        gx = gw = gb = None
        if need_x:  # (N, O, OH, OW) -> (N, C, H, W)
            gx = mg.ops.conv_transpose2d(grad, weight, x_hw=_hw(x), **attrs)
        if need_w:  # (N, C, H, W), (N, O, OH, OW) -> (O, C, kh, kw)
            gw = mg.ops.conv2d_weight(x, grad, w_shape=tuple(weight.shape), **attrs)
        if need_b:  # (N, O, OH, OW) -> (O,)
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb

    @staticmethod
    def sample_inputs() -> Samples:
        """Small float64 inputs: bias and padding, stride with dilation, "same", no bias, groups."""
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 2, 5, 5))
        w = rng.standard_normal((3, 2, 3, 3))
        b = rng.standard_normal(3)
        x1 = rng.standard_normal((1, 1, 6, 5))
        w1 = rng.standard_normal((2, 1, 2, 3))
        return [
            ((x, w, b), {"padding": 1}),
            ((x, w, b), {"stride": 2, "dilation": (1, 2), "padding": (1, 2)}),
            ((x1, w1), {"padding": "same"}),
            ((x1, w1), {"stride": (2, 1)}),
            ((x, rng.standard_normal((4, 1, 2, 2)), b[:1].repeat(4)), {"groups": 2, "padding": 1}),
        ]


# --------------------------------------------------------------------------- conv_transpose2d


def _transposed_size(
    grad_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: Any,
    padding: Any,
    dilation: Any,
) -> tuple[int, int]:
    """The smallest (H, W) whose conv2d with these attributes has grad's (OH, OW)."""
    op = "conv_transpose2d"
    kh, kw = int(w_shape[2]), int(w_shape[3])
    s = pair(stride, "stride", op=op)
    d = pair(dilation, "dilation", op=op)
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"{op}: stride and dilation must be >= 1, got {s} and {d}")
    top, bottom, left, right = conv2d_padding(padding, (kh, kw), s, d, op=op)
    h = (grad_shape[2] - 1) * s[0] - top - bottom + d[0] * (kh - 1) + 1
    w = (grad_shape[3] - 1) * s[1] - left - right + d[1] * (kw - 1) + 1
    if h < 1 or w < 1:
        raise ValueError(
            f"{op}: grad of shape {grad_shape} with weight {w_shape}, stride {s}, padding "
            f"{padding!r} and dilation {d} gives an empty output ({h}, {w}); use less padding"
        )
    return h, w


class ConvTranspose2d(Op):
    """Transposed convolution: the gradient of ``conv2d`` with respect to its input.

    Maps (N, O, OH, OW) to (N, C, H, W) with the *conv2d* weight layout (O, C, kh, kw): each
    input value ``grad[n, o, i, j]`` adds ``grad[n, o, i, j] * weight[o, :, :, :]`` into the
    window that conv2d position (i, j) reads. It is therefore also the "deconvolution" (an
    upsampling layer) of decoders; note that ``torch.nn.functional.conv_transpose2d`` names the
    same array's axes (in_channels, out_channels, kh, kw), seen from the transposed op.

    Parameters
    ----------
    grad : Tensor
        (N, O, OH, OW), e.g. the gradient of a conv2d output; float16, float32 or float64.
    weight : Tensor
        (O, C, kh, kw), as given to conv2d.
    x_hw : (H, W), optional
        Output size, i.e. the conv2d input's size. Several sizes pool to the same (OH, OW) when
        the stride is above 1; by default the smallest one,
        ``H = (OH - 1)*sh - top - bottom + dh*(kh - 1) + 1`` (PyTorch's size without
        ``output_padding``). Rows and columns that no window reads get 0.
    stride, padding, dilation, groups
        As for conv2d (``padding`` is removed from the output's border); with groups the
        weight is (O, C/groups, kh, kw) and the output has ``weight.shape[1] * groups``
        channels.

    Returns
    -------
    Tensor
        (N, C, H, W) in the float dtype of ``grad`` and ``weight``.

    Notes
    -----
    Linear in each input: its backward calls ``mg.ops.conv2d(u, weight)`` for ``grad`` and
    ``mg.ops.conv2d_weight(u, grad, w_shape)`` for ``weight``.

    Examples
    --------
    A stride-2 transposed convolution with a 2x2 kernel of ones copies each value to a 2x2
    block (nearest-neighbour upsampling):

    >>> import numpy as np, minigrad as mg
    >>> g = mg.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32))  # (1, 1, 2, 2)
    >>> ones = mg.ones(1, 1, 2, 2)                                             # (O, C, kh, kw)
    >>> mg.ops.conv_transpose2d(g, ones, stride=2).data[0, 0]                # (1, 1, 4, 4)
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]], dtype=float32)
    """

    name = "conv_transpose2d"
    formula = "dgrad = conv2d(dy, w); dw = conv2d_weight(dy, grad)"

    @staticmethod
    def forward(
        ctx: Context,
        grad: np.ndarray,
        weight: np.ndarray,
        *,
        x_hw: tuple[int, int] | None = None,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
    ) -> np.ndarray:
        op = "conv_transpose2d"
        check_input(op, grad.shape, "grad")
        check_4d(weight.shape, op, "weight", "(out_channels, in_channels, kh, kw)")
        _check_floats(op, grad=grad, weight=weight)
        if grad.shape[1] != weight.shape[0]:
            raise ValueError(
                f"{op}: grad has {grad.shape[1]} channels (shape {grad.shape}) but weight of "
                f"shape {weight.shape} has {weight.shape[0]} output channels; the weight is laid "
                "out (O, C, kh, kw) as for conv2d and maps (N, O, OH, OW) -> (N, C, H, W)"
            )
        groups = check_groups(op, groups, weight.shape[1] * _positive(groups), weight.shape[0])
        if x_hw is None:
            x_hw = _transposed_size(grad.shape, weight.shape, stride, padding, dilation)
        ctx.save_for_backward(grad, weight)
        # (N, O, OH, OW) -> (N, C, H, W), C = weight.shape[1] * groups
        return grouped_conv_transpose2d(grad, weight, x_hw, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, weight = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad
        attrs = _conv_attrs(ctx)
        dg = dw = None
        if need_g:  # (N, C, H, W) -> (N, O, OH, OW)
            dg = mg.ops.conv2d(u, weight, **attrs)
        if need_w:  # (N, C, H, W), (N, O, OH, OW) -> (O, C, kh, kw)
            dw = mg.ops.conv2d_weight(u, grad, w_shape=tuple(weight.shape), **attrs)
        return dg, dw

    @staticmethod
    def sample_inputs() -> Samples:
        """Small float64 inputs: an explicit x_hw a stride leaves ambiguous, padding, "same",
        groups."""
        rng = np.random.default_rng(1)
        w = rng.standard_normal((3, 2, 3, 3))
        return [
            ((rng.standard_normal((2, 3, 3, 3)), w), {"x_hw": (6, 6), "stride": 2, "padding": 1}),
            ((rng.standard_normal((1, 3, 4, 4)), w), {"padding": "same"}),
            ((rng.standard_normal((1, 3, 2, 3)), w), {"stride": (1, 2), "dilation": 2}),
            ((rng.standard_normal((1, 4, 3, 3)), rng.standard_normal((4, 1, 2, 2))), {"groups": 2}),
        ]


# --------------------------------------------------------------------------- conv2d_weight


class Conv2dWeight(Op):
    """The gradient of ``conv2d`` with respect to its weight.

    ``dw[o, c, p, q] = sum_{n, i, j} grad[n, o, i, j] * x[n, c, i*sh + p*dh - top,
    j*sw + q*dw - left]``: the correlation of the input with the output gradient.

    Parameters
    ----------
    x : Tensor
        (N, C, H, W), the conv2d input; float16, float32 or float64.
    grad : Tensor
        (N, O, OH, OW), the gradient of the conv2d output.
    w_shape : (O, C/groups, kh, kw)
        Shape of the weight (the kernel size cannot be told from ``x`` and ``grad`` alone).
    stride, padding, dilation, groups
        As given to conv2d.

    Returns
    -------
    Tensor
        (O, C, kh, kw) in the float dtype of ``x`` and ``grad``.

    Notes
    -----
    Linear in each input: its backward calls ``mg.ops.conv_transpose2d(grad, u, x_hw)`` for
    ``x`` and ``mg.ops.conv2d(x, u)`` for ``grad``.

    Examples
    --------
    >>> import minigrad as mg
    >>> x = mg.ones(1, 1, 3, 3)                                      # (N, C, H, W)
    >>> g = mg.ones(1, 2, 2, 2)                                      # (N, O, OH, OW)
    >>> mg.ops.conv2d_weight(x, g, w_shape=(2, 1, 2, 2)).data[0, 0]  # 4 windows per tap
    array([[4., 4.],
           [4., 4.]], dtype=float32)
    """

    name = "conv2d_weight"
    formula = "dx = conv_transpose2d(grad, dy); dgrad = conv2d(x, dy)"

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        grad: np.ndarray,
        *,
        w_shape: tuple[int, int, int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
    ) -> np.ndarray:
        op = "conv2d_weight"
        check_input(op, x.shape)
        check_input(op, grad.shape, "grad")
        _check_floats(op, x=x, grad=grad)
        if grad.shape[0] != x.shape[0]:
            raise ValueError(
                f"{op}: x has batch size {x.shape[0]} (shape {x.shape}) but grad has "
                f"{grad.shape[0]} (shape {grad.shape}); they must match"
            )
        groups = check_groups(op, groups, x.shape[1], grad.shape[1])
        _check_weight_channels(op, x.shape[1], tuple(w_shape), groups)
        ctx.save_for_backward(x, grad)
        # (N, C, H, W), (N, O, OH, OW) -> (O, C/groups, kh, kw)
        return grouped_conv2d_weight(x, grad, w_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, grad = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        attrs = _conv_attrs(ctx)
        dx = dg = None
        if need_x:  # (O, C, kh, kw) -> (N, C, H, W)
            dx = mg.ops.conv_transpose2d(grad, u, x_hw=_hw(x), **attrs)
        if need_g:  # (O, C, kh, kw) -> (N, O, OH, OW)
            dg = mg.ops.conv2d(x, u, **attrs)
        return dx, dg

    @staticmethod
    def sample_inputs() -> Samples:
        """Small float64 inputs: padding, a stride with dilation, groups."""
        rng = np.random.default_rng(2)
        x = rng.standard_normal((2, 2, 5, 5))
        return [
            ((x, rng.standard_normal((2, 3, 5, 5))), {"w_shape": (3, 2, 3, 3), "padding": 1}),
            (
                (x, rng.standard_normal((2, 2, 2, 2))),
                {"w_shape": (2, 2, 2, 2), "stride": 2, "dilation": (2, 1)},
            ),
            ((x, rng.standard_normal((2, 4, 4, 4))), {"w_shape": (4, 1, 2, 2), "groups": 2}),
        ]
