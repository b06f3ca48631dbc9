"""ONNX forms of batch_norm (evaluation), dropout (evaluation), the activations leaky_relu,
elu, gelu, silu, hardswish, hardsigmoid, softplus, normal_cdf, and
binary_cross_entropy_with_logits.

Where ONNX has the operator at the chosen opset it is used (``HardSwish`` from opset 14,
``Gelu`` from opset 20); otherwise the op is written with elementary nodes that compute the
same function (the exact gelu as ``x * (1 + Erf(x / sqrt 2)) / 2``, as PyTorch's exporter does).
Batch norm in training mode and dropout with ``training=True`` (and ``p > 0``) have no
inference form: ``mg.onnx.export`` runs a module in evaluation mode, and a function that calls
them in training mode is refused with an error saying so.
"""

from __future__ import annotations

import math

import numpy as np

from .builder import Builder, ExportNode
from .errors import OnnxExportError
from .export_ops import exporter, same_dtype

__all__: list[str] = []


def _c(b: Builder, node: ExportNode, value: float, hint: str) -> str:
    return b.const(value, dtype=node.out_dtype, hint=hint)


@exporter("batch_norm")
def _batch_norm(b: Builder, node: ExportNode) -> str:
    if node.attrs.get("training", False):
        raise OnnxExportError(
            "batch_norm: training mode (batch statistics) has no inference form in ONNX; "
            "export in evaluation mode (model.eval(), or training=False)"
        )
    x, mean, var, weight, bias = same_dtype(b, node)
    shape = node.shapes[0]
    assert shape is not None  # the input is never absent
    c = shape[1]
    dt = node.out_dtype
    scale = weight if weight is not None else b.const(np.ones(c, dtype=dt), hint="bn_scale")
    shift = bias if bias is not None else b.const(np.zeros(c, dtype=dt), hint="bn_bias")
    return b.add("BatchNormalization", [x, scale, shift, mean, var],
                 epsilon=float(node.attrs.get("eps", 1e-5)))  # fmt: skip


@exporter("dropout")
def _dropout(b: Builder, node: ExportNode) -> str:
    p = float(node.attrs.get("p", 0.5))
    if node.attrs.get("training", True) and p > 0:
        raise OnnxExportError(
            f"dropout: training mode (p={p}) draws random masks and has no inference form; "
            "export in evaluation mode (model.eval(), or training=False)"
        )
    # inference Dropout: the identity; the ratio is kept so the file says what the layer was
    # (a scalar Constant node: ONNX wants a 0-d ratio)
    from onnx import numpy_helper

    value = numpy_helper.from_array(np.array(min(p, 0.999999), dtype=np.float32))
    ratio = b.add("Constant", [], value=value)
    return b.add("Dropout", [node.inputs[0], ratio])


@exporter("leaky_relu")
def _leaky_relu(b: Builder, node: ExportNode) -> str:
    return b.add("LeakyRelu", [node.inputs[0]], alpha=float(node.attrs.get("negative_slope", 0.01)))


@exporter("elu")
def _elu(b: Builder, node: ExportNode) -> str:
    return b.add("Elu", [node.inputs[0]], alpha=float(node.attrs.get("alpha", 1.0)))


def _normal_cdf(b: Builder, node: ExportNode, x: str | None) -> str:
    """(1 + Erf(x / sqrt 2)) / 2."""
    z = b.add("Mul", [x, _c(b, node, math.sqrt(0.5), "inv_sqrt2")])
    one = _c(b, node, 1.0, "one")
    return b.add("Mul", [b.add("Add", [b.add("Erf", [z]), one]), _c(b, node, 0.5, "half")])


@exporter("normal_cdf")
def _normal_cdf_op(b: Builder, node: ExportNode) -> str:
    return _normal_cdf(b, node, node.inputs[0])


@exporter("gelu")
def _gelu(b: Builder, node: ExportNode) -> str:
    x = node.inputs[0]
    approximate = node.attrs.get("approximate", "none")
    if b.opset >= 20:
        return b.add("Gelu", [x], approximate=approximate)
    if approximate == "none":
        return b.add("Mul", [x, _normal_cdf(b, node, x)])
    # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    x3 = b.add("Mul", [b.add("Mul", [x, x]), x])
    inner = b.add("Add", [x, b.add("Mul", [x3, _c(b, node, 0.044715, "gelu_c")])])
    t = b.add("Tanh", [b.add("Mul", [inner, _c(b, node, math.sqrt(2 / math.pi), "gelu_k")])])
    half_x = b.add("Mul", [x, _c(b, node, 0.5, "half")])
    return b.add("Mul", [half_x, b.add("Add", [t, _c(b, node, 1.0, "one")])])


@exporter("silu")
def _silu(b: Builder, node: ExportNode) -> str:
    x = node.inputs[0]
    return b.add("Mul", [x, b.add("Sigmoid", [x])])


@exporter("hardswish")
def _hardswish(b: Builder, node: ExportNode) -> str:
    x = node.inputs[0]
    if b.opset >= 14:
        return b.add("HardSwish", [x])
    return b.add("Mul", [x, b.add("HardSigmoid", [x], alpha=1 / 6, beta=0.5)])


@exporter("hardsigmoid")
def _hardsigmoid(b: Builder, node: ExportNode) -> str:
    return b.add("HardSigmoid", [node.inputs[0]], alpha=1 / 6, beta=0.5)


@exporter("softplus")
def _softplus(b: Builder, node: ExportNode) -> str:
    """Where(beta x > threshold, x, Softplus(beta x) / beta): the op's exact definition."""
    x = node.inputs[0]
    beta = float(node.attrs.get("beta", 1.0))
    bx = x if beta == 1.0 else b.add("Mul", [x, _c(b, node, beta, "beta")])
    soft = b.add("Softplus", [bx])
    if beta != 1.0:
        soft = b.add("Div", [soft, _c(b, node, beta, "beta")])
    threshold = _c(b, node, float(node.attrs.get("threshold", 20.0)), "threshold")
    return b.add("Where", [b.add("Greater", [bx, threshold]), x, soft])


@exporter("binary_cross_entropy_with_logits")
def _bce_with_logits(b: Builder, node: ExportNode) -> str:
    """(1 - y) x + (1 + (pos_weight - 1) y) Softplus(-x), reduced."""
    x, y, pos_weight = same_dtype(b, node)
    one = _c(b, node, 1.0, "one")
    sp = b.add("Softplus", [b.add("Neg", [x])])
    if pos_weight is not None:
        lw = b.add("Add", [b.add("Mul", [b.add("Sub", [pos_weight, one]), y]), one])
        sp = b.add("Mul", [lw, sp])
    loss = b.add("Add", [b.add("Mul", [b.add("Sub", [one, y]), x]), sp])
    reduction = node.attrs.get("reduction", "mean")
    if reduction == "none":
        return loss
    op = {"mean": "ReduceMean", "sum": "ReduceSum"}[reduction]
    return b.reduce(op, loss, None, keepdims=False)
