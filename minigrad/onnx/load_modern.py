"""ONNX operators of modern small CNNs run with minigrad's plugin ops: HardSwish, HardSigmoid,
Gelu, Erf, Elu, Softplus, LeakyRelu and inference BatchNormalization.

PyTorch writes ``nn.GELU`` below opset 20 as ``x * (1 + Erf(x / sqrt 2)) / 2``; ``Erf`` runs as
``2 * normal_cdf(x * sqrt 2) - 1``, so such a graph computes (and differentiates) the exact
gelu. ``HardSigmoid`` with PyTorch's constants (alpha = 1/6, beta = 1/2) is ``mg.ops.hardsigmoid``;
other constants are ``clip(alpha * x + beta, 0, 1)``. Batch normalisation in inference uses the
file's running statistics as constants.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import Tensor

from .load_ops import NodeView, Value, as_mg, loader

__all__: list[str] = []


def _ops() -> Any:
    return mg.ops


@loader("HardSwish")
def _hardswish(node: NodeView, x: Value) -> Tensor:
    return _ops().hardswish(as_mg(x))


@loader("HardSigmoid")
def _hardsigmoid(node: NodeView, x: Value) -> Tensor:
    alpha = float(node.attrs.get("alpha", 0.2))
    beta = float(node.attrs.get("beta", 0.5))
    x = as_mg(x)
    if math.isclose(alpha, 1 / 6, rel_tol=1e-6) and beta == 0.5:
        return _ops().hardsigmoid(x)
    return mg.clip(x * alpha + beta, 0.0, 1.0)


@loader("Gelu")
def _gelu(node: NodeView, x: Value) -> Tensor:
    approximate = node.attrs.get("approximate", b"none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else str(approximate)
    return _ops().gelu(as_mg(x), approximate=approximate)


@loader("Erf")
def _erf(node: NodeView, x: Value) -> Value:
    if isinstance(x, np.ndarray):  # a constant stays a constant
        return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)
    return _ops().normal_cdf(as_mg(x) * math.sqrt(2.0)) * 2 - 1


@loader("Elu")
def _elu(node: NodeView, x: Value) -> Tensor:
    return _ops().elu(as_mg(x), alpha=float(node.attrs.get("alpha", 1.0)))


@loader("Softplus")
def _softplus(node: NodeView, x: Value) -> Tensor:
    # ONNX's Softplus has no linear region: a threshold no finite input exceeds
    return _ops().softplus(as_mg(x), threshold=float(np.finfo(np.float64).max))


@loader("LeakyRelu")
def _leaky_relu(node: NodeView, x: Value) -> Tensor:
    return _ops().leaky_relu(as_mg(x), negative_slope=float(node.attrs.get("alpha", 0.01)))


@loader("BatchNormalization")
def _batch_norm(node: NodeView, x: Value, scale: Value, bias: Value, mean: Value, var: Value):
    if node.attrs.get("training_mode", 0):
        raise node.fail("training_mode=1 is not supported (inference only)")
    if node.n_outputs > 1:
        raise node.fail("running-statistics outputs are not supported (inference only)")
    x = as_mg(x)
    # running statistics are constants in inference, even when an exporter stored them as the
    # same initializer as the scale or bias (PyTorch shares equal tensors): no gradient
    mean, var = (Tensor(np.array(v.data if isinstance(v, Tensor) else v)) for v in (mean, var))
    dt = x.dtype
    mean, var = (t if t.dtype == dt else Tensor(t.data.astype(dt)) for t in (mean, var))
    return _ops().batch_norm(x, mean, var, as_mg(scale), as_mg(bias),
                             eps=float(node.attrs.get("epsilon", 1e-5)))  # fmt: skip
