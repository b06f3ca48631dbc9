"""A seeded example input for an ONNX model, and the sum of its outputs as a scalar loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import Tensor

from .load import OnnxModule, load

__all__ = ["example_inputs", "example_loss"]


def example_inputs(model: OnnxModule, batch: int = 1, seed: int = 0) -> list[Tensor]:
    """One seeded input per graph input: dynamic dimensions become ``batch``.

    Float inputs are standard normal and require a gradient (so the backward pass reaches the
    input even in a model without parameters); integer inputs are zeros.
    """
    if int(batch) < 1:
        raise ValueError(f"example_inputs: batch must be >= 1, got {batch!r}")
    rng = np.random.default_rng(seed)
    out = []
    for spec in model.inputs:
        if spec.shape is None:
            raise ValueError(
                f"example_inputs: ONNX input '{spec.name}' declares no shape, so no example "
                "input can be made for it; call the model with an input of your own"
            )
        shape = tuple(d if isinstance(d, int) else int(batch) for d in spec.shape)
        if spec.dtype.kind == "f":
            t = Tensor(rng.standard_normal(shape).astype(spec.dtype), requires_grad=True)
        elif spec.dtype.kind == "b":
            t = Tensor(np.zeros(shape, dtype=bool))
        else:
            t = Tensor(np.zeros(shape, dtype=spec.dtype))
        t.name = spec.name
        out.append(t)
    return out


def example_loss(path: Any, batch: int = 1, seed: int = 0) -> Tensor:
    """Load an ONNX model, run it on a seeded example input and return the sum of its outputs.

    The result is a 0-d Tensor whose graph reaches every Parameter, ready for
    ``mg.graph.draw(loss, backward=True)``, ``mg.graph.explore(loss)`` or ``loss.backward()``.

    >>> import minigrad as mg
    >>> loss = mg.onnx.example_loss("model.onnx", batch=2)      # doctest: +SKIP
    >>> loss.shape                                              # doctest: +SKIP
    ()
    """
    model = path if isinstance(path, OnnxModule) else load(path)
    outputs = model(*example_inputs(model, batch, seed))
    if not isinstance(outputs, tuple):
        outputs = (outputs,)
    total = None
    for y in outputs:
        if y.dtype.kind != "f":
            continue  # integer outputs (class indices...) carry no gradient
        s = y.sum()
        total = s if total is None else total + s
    if total is None:
        raise ValueError("example_loss: the model has no floating-point output to sum")
    total.name = "loss"
    return total
