"""ONNX forms of the CNN layer ops: conv2d, conv_transpose2d, pooling, softmax and the losses.

Pooling is exported in floor mode with explicit padding: ONNX Runtime and ONNX's own shape
inference disagree on ``ceil_mode`` output sizes (onnx/onnx#5711), so the exported file never
relies on it. Max pooling gets the extra trailing padding in its ``pads`` (padded cells never
win); average and sum pooling get a ``Pad`` node of zeros, and where a window's divisor is not
``kh*kw`` (``count_include_pad=False``, or a ``ceil_mode`` window hanging past the padding) the
result is rescaled by a constant map of the divisors, computed by PyTorch's rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._windows import pool_out_size, tail_pad, window_counts
from .builder import Builder, ExportNode
from .errors import OnnxExportError
from .export_ops import exporter, same_dtype

__all__: list[str] = []


def _pair(v: Any, what: str, op: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return int(v[0]), int(v[1])
    raise OnnxExportError(f"{op}: {what} {v!r} is not an int or a pair of ints")


def _conv_pads(padding: Any, k: tuple[int, int], d: tuple[int, int]) -> list[int]:
    """conv2d's padding as ONNX pads [top, left, bottom, right]."""
    if isinstance(padding, str):
        if padding == "valid":
            return [0, 0, 0, 0]
        if padding != "same":
            raise OnnxExportError(f"conv2d: padding {padding!r} is not 'valid' or 'same'")
        total = [d[i] * (k[i] - 1) for i in range(2)]  # stride 1 keeps the size
        before = [t // 2 for t in total]  # the odd extra row/column goes bottom/right
        return before + [total[i] - before[i] for i in range(2)]
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        top, bottom, left, right = (int(p) for p in padding)
        return [top, left, bottom, right]
    ph, pw = _pair(padding, "padding", "conv2d")
    return [ph, pw, ph, pw]


@exporter("conv2d")
def _conv2d(b: Builder, node: ExportNode) -> str:
    a = node.attrs
    w_shape = node.shape(1)
    k = (int(w_shape[2]), int(w_shape[3]))
    s, d = _pair(a.get("stride", 1), "stride", "conv2d"), _pair(a.get("dilation", 1), "dilation",
                                                                 "conv2d")  # fmt: skip
    args = same_dtype(b, node)
    while args and args[-1] is None:
        args.pop()  # no bias
    return b.add(
        "Conv", args, kernel_shape=list(k), strides=list(s), dilations=list(d),
        pads=_conv_pads(a.get("padding", 0), k, d), group=_group(a),
    )  # fmt: skip


def _group(attrs: dict) -> int | None:
    """ONNX's ``group`` attribute: left out for the default 1."""
    groups = int(attrs.get("groups", 1))
    return groups if groups != 1 else None


@exporter("conv_transpose2d")
def _conv_transpose2d(b: Builder, node: ExportNode) -> str:
    """The gradient of conv2d with respect to its input, as ONNX ConvTranspose (same weight
    layout: (O, C, kh, kw) maps O input channels to C output channels)."""
    a = node.attrs
    w_shape = node.shape(1)
    k = (int(w_shape[2]), int(w_shape[3]))
    s = _pair(a.get("stride", 1), "stride", "conv_transpose2d")
    d = _pair(a.get("dilation", 1), "dilation", "conv_transpose2d")
    pads = _conv_pads(a.get("padding", 0), k, d)
    ins = node.shape(0)[2:]
    # the smallest output; x_hw (the conv2d input size) may be up to stride - 1 larger
    smallest = [s[i] * (ins[i] - 1) + d[i] * (k[i] - 1) + 1 - pads[i] - pads[i + 2] for i in (0, 1)]
    extra = [int(node.out_shape[2 + i]) - smallest[i] for i in (0, 1)]
    return b.add(
        "ConvTranspose", same_dtype(b, node), kernel_shape=list(k), strides=list(s),
        dilations=list(d), pads=pads, output_padding=extra if any(extra) else None,
        group=_group(a),
    )  # fmt: skip


def _window(node: ExportNode) -> tuple:
    """Kernel, stride, padding and the exact output size of a pooling call."""
    a = node.attrs
    k = _pair(a["kernel_size"], "kernel_size", node.name)
    s = k if a.get("stride") is None else _pair(a["stride"], "stride", node.name)
    p = _pair(a.get("padding", 0), "padding", node.name)
    hw = node.shape(0)[2:]
    ceil = bool(a.get("ceil_mode", False))
    out = tuple(pool_out_size(hw[i], k[i], s[i], p[i], p[i], ceil) for i in range(2))
    if out != tuple(node.out_shape[2:]):  # the rules here must be the op's rules
        raise OnnxExportError(
            f"{node.name}: computed output size {out} but the op gave {node.out_shape[2:]}"
        )
    tail = tuple(tail_pad(hw[i], k[i], s[i], p[i], out[i]) for i in range(2))
    return k, s, p, tail, out, hw


@exporter("max_pool2d")
def _max_pool2d(b: Builder, node: ExportNode) -> str:
    k, s, p, tail, _, _ = _window(node)
    # floor mode; the trailing pads make exactly the op's windows (padded cells never win)
    return b.add("MaxPool", [node.inputs[0]], kernel_shape=list(k), strides=list(s),
                 pads=[p[0], p[1], tail[0], tail[1]])  # fmt: skip


def _padded_avg(b: Builder, node: ExportNode, k, s, p, tail) -> str:
    x = node.arg(0)
    if node.dtypes[0] != node.out_dtype:
        x = b.cast(x, node.out_dtype)  # integer input: the op averages in float32
    if any(p) or any(tail):
        pads = [0, 0, p[0], p[1], 0, 0, tail[0], tail[1]]  # (N, C, H, W) begins, then ends
        zero = b.const(0.0, dtype=node.out_dtype, hint="pad_value")
        x = b.add("Pad", [x, b.ints(pads, "pads"), zero], mode="constant")
    return b.add("AveragePool", [x], kernel_shape=list(k), strides=list(s))


@exporter("avg_pool2d")
def _avg_pool2d(b: Builder, node: ExportNode) -> str:
    k, s, p, tail, out, hw = _window(node)
    y = _padded_avg(b, node, k, s, p, tail)  # every window divided by kh*kw
    include = bool(node.attrs.get("count_include_pad", True))
    ch = window_counts(hw[0], k[0], s[0], p[0], p[0], out[0], include)
    cw = window_counts(hw[1], k[1], s[1], p[1], p[1], out[1], include)
    count = np.outer(ch, cw)  # (OH, OW) cells each window really averages
    if (count == k[0] * k[1]).all():
        return y
    scale = (k[0] * k[1] / count).astype(node.out_dtype).reshape(1, 1, *out)
    return b.add("Mul", [y, b.const(scale, hint="divisor_scale")])


@exporter("sum_pool2d")
def _sum_pool2d(b: Builder, node: ExportNode) -> str:
    k, s, p, tail, _, _ = _window(node)
    y = _padded_avg(b, node, k, s, p, tail)
    return b.add("Mul", [y, b.const(k[0] * k[1], dtype=node.out_dtype, hint="window_size")])


@exporter("global_avg_pool2d", "global_max_pool2d")
def _global_pool(b: Builder, node: ExportNode) -> str:
    op = "GlobalAveragePool" if node.name == "global_avg_pool2d" else "GlobalMaxPool"
    x = node.arg(0)
    if node.dtypes[0] != node.out_dtype:
        x = b.cast(x, node.out_dtype)
    # (N, C, H, W) -> (N, C, 1, 1) -> (N, C)
    return b.add("Flatten", [b.add(op, [x])], axis=1)


@exporter("softmax", "log_softmax")
def _softmax(b: Builder, node: ExportNode) -> str:
    op = "Softmax" if node.name == "softmax" else "LogSoftmax"
    return b.add(op, [node.inputs[0]], axis=int(node.attrs.get("axis", -1)))


def _reduce_loss(b: Builder, loss: str, reduction: str) -> str:
    if reduction == "none":
        return loss
    op = {"mean": "ReduceMean", "sum": "ReduceSum"}[reduction]
    return b.reduce(op, loss, None, keepdims=False)


@exporter("log_loss")
def _log_loss(b: Builder, node: ExportNode) -> str:
    """-(y log(pc) + (1 - y) log(1 - pc)), pc = p clipped to [eps, 1 - eps] (in p's dtype)."""
    dt = np.dtype(node.out_dtype)
    eps = node.attrs.get("eps", 1e-7)
    lo, hi = dt.type(eps), dt.type(1 - eps)
    if hi >= 1:
        hi = np.nextafter(dt.type(1), dt.type(0))
    p, y = node.arg(0), node.arg(1)
    if node.dtypes[1] != dt:
        y = b.cast(y, dt)
    pc = b.add("Clip", [p, b.const(lo, hint="eps"), b.const(hi, hint="one_minus_eps")])
    one = b.const(1.0, dtype=dt, hint="one")
    pos = b.add("Mul", [y, b.add("Log", [pc])])
    neg = b.add("Mul", [b.add("Sub", [one, y]), b.add("Log", [b.add("Sub", [one, pc])])])
    loss = b.add("Neg", [b.add("Add", [pos, neg])])
    return _reduce_loss(b, loss, node.attrs.get("reduction", "mean"))


def _probability_cross_entropy(b: Builder, node: ExportNode) -> str:
    """cross_entropy against class probabilities: -sum_k w_k q_k LogSoftmax(z)_k over axis 1,
    q = (1 - eps) t + eps / C; the mean is over positions."""
    z, t, w = same_dtype(b, node)
    shape = node.shapes[0]
    assert shape is not None
    n_classes, nd = int(shape[1]), len(shape)
    dt = node.out_dtype
    eps = float(node.attrs.get("label_smoothing", 0.0))
    q = t
    if eps:
        q = b.add("Add", [b.add("Mul", [t, b.const(1 - eps, dtype=dt, hint="one_minus_eps")]),
                          b.const(eps / n_classes, dtype=dt, hint="eps_per_class")])  # fmt: skip
    if w is not None:  # (C,) -> (1, C, 1, ...)
        q = b.add("Mul", [q, b.add("Reshape", [w, b.ints([1, n_classes] + [1] * (nd - 2))])])
    per = b.add("Mul", [q, b.add("LogSoftmax", [z], axis=1)])
    loss = b.add("Neg", [b.reduce("ReduceSum", per, [1], keepdims=False)])
    return _reduce_loss(b, loss, node.attrs.get("reduction", "mean"))


@exporter("cross_entropy", "nll_loss")
def _class_loss(b: Builder, node: ExportNode) -> str:
    """SoftmaxCrossEntropyLoss / NegativeLogLikelihoodLoss, with the class weight and
    ignore_index (both have them, with PyTorch's weighted mean)."""
    if node.dtypes[1] is not None and np.dtype(node.dtypes[1]).kind == "f":
        return _probability_cross_entropy(b, node)
    if node.attrs.get("label_smoothing", 0.0):
        raise OnnxExportError(
            "cross_entropy: label_smoothing has no ONNX form (SoftmaxCrossEntropyLoss has no "
            "such attribute); export the model without the loss, or with label_smoothing=0"
        )
    logits, target, weight = node.arg(0), node.arg(1), node.inputs[2]
    if node.dtypes[1] != np.int64:
        target = b.cast(target, np.int64)
    op = "SoftmaxCrossEntropyLoss" if node.name == "cross_entropy" else "NegativeLogLikelihoodLoss"
    args = [logits, target] + ([] if weight is None else [weight])
    return b.add(op, args, reduction=node.attrs.get("reduction", "mean"),
                 ignore_index=int(node.attrs.get("ignore_index", -100)))  # fmt: skip
