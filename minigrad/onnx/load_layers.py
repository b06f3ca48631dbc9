"""ONNX layer ops run with minigrad ops: Conv, pooling, activations, softmax, Gemm, the losses
(BatchNormalization and the newer activations are in ``load_modern``).

Conv and pooling call the CNN plugin ops (``mg.ops.conv2d``, ``mg.ops.max_pool2d``...), so a
loaded model's graph looks like one built here and differentiates the same way. Padding that
those ops cannot take directly (asymmetric, or more than half a pooling window) becomes an
explicit ``mg.pad``; average pooling with such padding is a sum pooling divided by each
window's cell count (the counts follow PyTorch's rules, which ONNX Runtime also follows).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import minigrad as F
from minigrad import Tensor

from ._windows import pool_out_size, tail_pad, window_counts
from .load_ops import NodeView, Value, as_mg, loader

__all__: list[str] = []


def _ops() -> Any:
    return F.ops


def _text(v: Any, default: str) -> str:
    if v is None:
        return default
    return v.decode() if isinstance(v, bytes) else str(v)


def _check_2d(node: NodeView, x: Value, what: str = "input") -> None:
    if len(x.shape) != 4:
        raise node.fail(f"only 2-D (N, C, H, W) {what}s are supported, got shape {tuple(x.shape)}")


def _pads(
    node: NodeView, hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int], d: tuple[int, int]
) -> list[int]:
    """ONNX pads [top, left, bottom, right], resolving auto_pad."""
    auto = _text(node.attrs.get("auto_pad"), "NOTSET")
    if auto in ("NOTSET", ""):
        return [int(p) for p in node.attrs.get("pads", [0, 0, 0, 0])]
    if auto == "VALID":
        return [0, 0, 0, 0]
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise node.fail(f"unknown auto_pad '{auto}'")
    before, after = [], []
    for n, kk, ss, dd in zip(hw, k, s, d):
        total = max((math.ceil(n / ss) - 1) * ss + (kk - 1) * dd + 1 - n, 0)
        small = total // 2
        before.append(small if auto == "SAME_UPPER" else total - small)
        after.append(total - before[-1])
    return before + after


def _pair(node: NodeView, key: str, default: int) -> tuple[int, int]:
    v = node.attrs.get(key)
    return (default, default) if v is None else (int(v[0]), int(v[1]))


@loader("Conv")
def _conv(node: NodeView, x: Value, w: Value, b: Value = None) -> Tensor:
    x, w = as_mg(x), as_mg(w)
    _check_2d(node, x)
    k = (w.shape[2], w.shape[3])
    s, d = _pair(node, "strides", 1), _pair(node, "dilations", 1)
    t, left, bottom, right = _pads(node, x.shape[2:], k, s, d)
    group = int(node.attrs.get("group", 1))
    attrs = {"stride": s, "padding": (t, bottom, left, right), "dilation": d}
    b = None if b is None else as_mg(b)
    if x.shape[1] % group or w.shape[0] % group or w.shape[1] * group != x.shape[1]:
        raise node.fail(f"group={group} does not divide input {x.shape} and weight {w.shape}")
    return _ops().conv2d(x, w, b, groups=group, **attrs)


@loader("ConvTranspose")
def _conv_transpose(node: NodeView, x: Value, w: Value, b: Value = None) -> Tensor:
    x, w = as_mg(x), as_mg(w)
    _check_2d(node, x)
    group = int(node.attrs.get("group", 1))
    k = (w.shape[2], w.shape[3])
    s, d = _pair(node, "strides", 1), _pair(node, "dilations", 1)
    if _text(node.attrs.get("auto_pad"), "NOTSET") not in ("NOTSET", "VALID", ""):
        raise node.fail("auto_pad SAME_* is not supported; give explicit pads")
    t, left, bottom, right = [int(p) for p in node.attrs.get("pads", [0, 0, 0, 0])]
    if "output_shape" in node.attrs:
        hw = tuple(int(v) for v in node.attrs["output_shape"][-2:])
    else:
        extra = _pair(node, "output_padding", 0)
        pads = (t + bottom, left + right)
        hw = tuple(
            s[i] * (x.shape[2 + i] - 1) + extra[i] + d[i] * (k[i] - 1) + 1 - pads[i] for i in (0, 1)
        )
    # (N, O, H, W) -> (N, C, OH, OW): the gradient of a conv2d with these attributes
    y = _ops().conv_transpose2d(x, w, x_hw=hw, stride=s, padding=(t, bottom, left, right),
                                dilation=d, groups=group)  # fmt: skip
    return y if b is None else y + as_mg(b).reshape((1, -1, 1, 1))


def _pool_geometry(node: NodeView, x: Tensor) -> tuple:
    _check_2d(node, x)
    if node.attrs.get("dilations") and any(int(v) != 1 for v in node.attrs["dilations"]):
        raise node.fail(f"dilations {list(node.attrs['dilations'])} are not supported (only 1)")
    k = _pair(node, "kernel_shape", 1)
    s = _pair(node, "strides", 1)
    pads = _pads(node, (x.shape[2], x.shape[3]), k, s, (1, 1))
    ceil = bool(node.attrs.get("ceil_mode", 0))
    out = tuple(
        pool_out_size(x.shape[2 + i], k[i], s[i], pads[i], pads[i + 2], ceil) for i in range(2)
    )
    return k, s, pads, ceil, out


def _symmetric(k: tuple[int, int], pads: list[int]) -> bool:
    return pads[0] == pads[2] and pads[1] == pads[3] and all(pads[i] <= k[i] // 2 for i in range(2))


def _explicit_pad(x: Tensor, k, s, pads, out, fill: float) -> Tensor:
    """Pad so that ``out`` floor-mode windows without padding cover exactly the same cells."""
    h, w = x.shape[2:]
    bottom = tail_pad(h, k[0], s[0], pads[0], out[0])
    right = tail_pad(w, k[1], s[1], pads[1], out[1])
    # (N, C, H, W) -> (N, C, top + H + bottom, left + W + right)
    return F.pad(x, ((0, 0), (0, 0), (pads[0], bottom), (pads[1], right)), value=fill)


@loader("MaxPool")
def _max_pool(node: NodeView, x: Value) -> Tensor:
    if node.n_outputs > 1:
        raise node.fail("the Indices output is not supported")
    x = as_mg(x)
    k, s, pads, ceil, out = _pool_geometry(node, x)
    if _symmetric(k, pads):
        return _ops().max_pool2d(x, k, s, padding=(pads[0], pads[1]), ceil_mode=ceil)
    padded = _explicit_pad(x, k, s, pads, out, -np.inf)
    return _ops().max_pool2d(padded, k, s)


@loader("AveragePool")
def _avg_pool(node: NodeView, x: Value) -> Tensor:
    x = as_mg(x)
    k, s, pads, ceil, out = _pool_geometry(node, x)
    include = bool(node.attrs.get("count_include_pad", 0))
    if _symmetric(k, pads):
        return _ops().avg_pool2d(
            x, k, s, padding=(pads[0], pads[1]), ceil_mode=ceil, count_include_pad=include
        )
    summed = _ops().sum_pool2d(_explicit_pad(x, k, s, pads, out, 0.0), k, s)
    h, w = x.shape[2:]
    ch = window_counts(h, k[0], s[0], pads[0], pads[2], out[0], include)
    cw = window_counts(w, k[1], s[1], pads[1], pads[3], out[1], include)
    count = np.outer(ch, cw).astype(x.dtype)  # (OH, OW): windows are rectangles
    return summed / Tensor(count)


@loader("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(node: NodeView, x: Value) -> Tensor:
    x = as_mg(x)
    _check_2d(node, x)
    fn = (
        _ops().global_avg_pool2d
        if node.op_type == "GlobalAveragePool"
        else (_ops().global_max_pool2d)
    )
    return fn(x).reshape((x.shape[0], x.shape[1], 1, 1))  # ONNX keeps (N, C, 1, 1)


@loader("Relu", "Sigmoid", "Tanh")
def _activation(node: NodeView, x: Value) -> Tensor:
    return getattr(_ops(), node.op_type.lower())(as_mg(x))


@loader("Softmax", "LogSoftmax")
def _softmax(node: NodeView, x: Value) -> Tensor:
    x = as_mg(x)
    fn = _ops().softmax if node.op_type == "Softmax" else _ops().log_softmax
    if node.opset >= 13:
        return fn(x, axis=int(node.attrs.get("axis", -1)))
    # before opset 13 the input was flattened to 2-D at `axis` (default 1)
    axis = int(node.attrs.get("axis", 1)) % x.ndim
    flat = x.reshape((int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))))
    return fn(flat, axis=-1).reshape(x.shape)


@loader("MatMul")
def _matmul(node: NodeView, a: Value, b: Value) -> Tensor:
    return as_mg(a) @ as_mg(b)


@loader("Gemm")
def _gemm(node: NodeView, a: Value, b: Value, c: Value = None) -> Tensor:
    a, b = as_mg(a), as_mg(b)
    if node.attrs.get("transA", 0):
        a = a.T
    if node.attrs.get("transB", 0):
        b = b.T
    y = a @ b
    alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))
    if alpha != 1.0:
        y = y * alpha
    if c is not None and beta != 0.0:
        y = y + (as_mg(c) if beta == 1.0 else as_mg(c) * beta)
    return y


@loader("SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss")
def _class_loss(node: NodeView, scores: Value, labels: Value, weights: Value = None):
    """cross_entropy / nll_loss with ONNX's optional class weights and ignore_index (the
    weighted mean is the same in both); without ignore_index no index is ignored."""
    if node.n_outputs > 1:
        raise node.fail("the log_prob output is not supported")
    reduction = _text(node.attrs.get("reduction"), "mean")
    target = Tensor(np.asarray(labels.data if isinstance(labels, Tensor) else labels))
    # ONNX ignores nothing unless told; -100 then stays an (out of range) class index
    ignore = int(node.attrs["ignore_index"]) if "ignore_index" in node.attrs else None
    if ignore is None and (target.data < 0).any():
        raise node.fail("negative class indices without an ignore_index attribute")
    op = _ops().cross_entropy if node.op_type == "SoftmaxCrossEntropyLoss" else _ops().nll_loss
    weight = None if weights is None else as_mg(weights)
    return op(as_mg(scores), target, weight, ignore_index=-100 if ignore is None else ignore,
              reduction=reduction)  # fmt: skip
