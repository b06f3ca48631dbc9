"""NaN, infinities and empty or 0-D inputs: the values and gradients PyTorch gives.

Each case is checked by hand (what a reader can verify) and, when PyTorch is installed,
against PyTorch on the same input. The one deliberate difference (``max``/``min`` over an
axis with a NaN) is pinned down at the end and documented in the README."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import require_ops

import minigrad as mg

nan, inf = float("nan"), float("inf")

# id -> (minigrad function, PyTorch function, inputs, expected values, expected gradients)
CASES: dict[str, tuple[Callable, Callable, list, Any, list]] = {
    "abs at NaN": (
        lambda x: mg.abs(x),
        lambda t, x: t.abs(x),
        [[nan, -1.0, 0.0, 2.0]],
        [nan, 1.0, 0.0, 2.0],
        [[0.0, -1.0, 0.0, 1.0]],
    ),
    "relu at NaN": (
        lambda x: mg.ops.relu(x),
        lambda t, x: t.relu(x),
        [[nan, -1.0, 0.0, 2.0]],
        [nan, 0.0, 0.0, 2.0],
        [[1.0, 0.0, 0.0, 1.0]],
    ),
    "maximum with one NaN": (
        lambda a, b: mg.maximum(a, b),
        lambda t, a, b: t.maximum(a, b),
        [[nan, 1.0, 2.0, nan, 3.0], [1.0, nan, 2.0, nan, 1.0]],
        [nan, nan, 2.0, nan, 3.0],
        [[1.0, 1.0, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 1.0, 0.0]],
    ),
    "minimum with one NaN": (
        lambda a, b: mg.minimum(a, b),
        lambda t, a, b: t.minimum(a, b),
        [[nan, 1.0, 2.0, nan, 3.0], [1.0, nan, 2.0, nan, 1.0]],
        [nan, nan, 2.0, nan, 1.0],
        [[1.0, 1.0, 0.5, 1.0, 0.0], [1.0, 1.0, 0.5, 1.0, 1.0]],
    ),
    "sqrt at -inf, inf, 0, -1, NaN": (
        lambda x: mg.sqrt(x),
        lambda t, x: t.sqrt(x),
        [[-inf, inf, 0.0, -1.0, nan]],
        [nan, inf, 0.0, nan, nan],
        [[nan, 0.0, inf, nan, nan]],
    ),
    "softmax of a 0-d tensor": (
        lambda x: mg.ops.softmax(x, axis=0),
        lambda t, x: t.softmax(x, 0),
        [3.0],
        1.0,
        [0.0],
    ),
    "softmax of a 0-d tensor, axis -1": (
        lambda x: mg.ops.softmax(x, axis=-1),
        lambda t, x: t.softmax(x, -1),
        [-2.0],
        1.0,
        [0.0],
    ),
    "log_softmax of a 0-d tensor": (
        lambda x: mg.ops.log_softmax(x, axis=0),
        lambda t, x: t.log_softmax(x, 0),
        [3.0],
        0.0,
        [0.0],
    ),
    "mean over an empty axis": (
        lambda x: x.mean(axis=0),
        lambda t, x: x.mean(0),
        [np.zeros((0, 3))],
        [nan, nan, nan],
        [np.zeros((0, 3))],
    ),
    "mean of an empty tensor": (
        lambda x: x.mean(),
        lambda t, x: x.mean(),
        [np.zeros((2, 0))],
        nan,
        [np.zeros((2, 0))],
    ),
    "mean over a non-empty axis of an empty tensor": (
        lambda x: x.mean(axis=1, keepdims=True),
        lambda t, x: x.mean(1, keepdim=True),
        [np.zeros((0, 3))],
        np.zeros((0, 1)),
        [np.zeros((0, 3))],
    ),
    "clip with min > max": (
        lambda x: x.clip(2.0, 1.0),
        lambda t, x: t.clamp(x, 2.0, 1.0),
        [[0.0, 1.5, 3.0]],
        [1.0, 1.0, 1.0],
        [[0.0, 0.0, 0.0]],
    ),
    "clip at NaN": (
        lambda x: x.clip(0.0, 1.0),
        lambda t, x: t.clamp(x, 0.0, 1.0),
        [[nan, 0.5, 3.0]],
        [nan, 0.5, 1.0],
        [[0.0, 1.0, 0.0]],
    ),
    "max of a tensor with a NaN": (
        lambda x: x.max(),
        lambda t, x: x.max(),
        [[nan, 0.5, 3.0]],
        nan,
        [[1.0, 0.0, 0.0]],
    ),
    "min of a tensor with two NaNs": (
        lambda x: x.min(),
        lambda t, x: x.min(),
        [[nan, 0.5, nan]],
        nan,
        [[0.5, 0.0, 0.5]],
    ),
}


def _ours(fn: Callable, inputs: list) -> tuple[np.ndarray, list[np.ndarray]]:
    xs = [mg.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in inputs]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error")  # no "mean of empty slice" or similar on the way
        y = fn(*xs)
        y.sum().backward()
    return y.data, [x.grad.data for x in xs]


@pytest.mark.parametrize("case", list(CASES))
def test_values_and_gradients_by_hand(case: str) -> None:
    require_ops("relu", "softmax", "log_softmax")
    fn, _, inputs, value, grads = CASES[case]
    y, gs = _ours(fn, inputs)
    np.testing.assert_array_equal(y, np.asarray(value, dtype=np.float64))
    for g, e in zip(gs, grads):
        np.testing.assert_array_equal(g, np.asarray(e, dtype=np.float64))


@pytest.mark.parametrize("case", list(CASES))
def test_values_and_gradients_equal_pytorch(case: str) -> None:
    torch = pytest.importorskip("torch")
    require_ops("relu", "softmax", "log_softmax")
    fn, torch_fn, inputs, _, _ = CASES[case]
    y, gs = _ours(fn, inputs)
    ts = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in inputs]
    e = torch_fn(torch, *ts)
    e.sum().backward()
    np.testing.assert_array_equal(y, e.detach().numpy())
    for g, t in zip(gs, ts):
        np.testing.assert_array_equal(g, t.grad.numpy())


def test_max_over_an_axis_with_a_nan_routes_the_gradient_to_the_nan() -> None:
    # deliberate: PyTorch's amax gives NaN gradients to the whole row here (0 / 0 shares);
    # minigrad, like torch.max(x, dim), sends the gradient to the entry that made the NaN
    x = mg.tensor(np.array([[nan, 0.5, 3.0], [1.0, 2.0, 0.0]]), requires_grad=True)
    y = x.max(axis=1)
    np.testing.assert_array_equal(y.data, [nan, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_max_over_an_axis_with_a_nan_equals_torch_max_with_dim() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([[nan, 0.5, 3.0], [1.0, 2.0, 0.0]])
    x = mg.tensor(data, requires_grad=True)
    x.max(axis=1).sum().backward()
    t = torch.tensor(data, requires_grad=True)
    t.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())


def test_double_backward_through_maximum_and_clip_edges() -> None:
    # the masks are constants: second derivatives are 0, also at the edges
    a = mg.tensor([nan, 2.0, 1.0], requires_grad=True)
    b = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (ga,) = mg.grad((mg.maximum(a, b) * a).sum(), [a], create_graph=True)
    (gga,) = mg.grad(ga.sum(), [a])
    np.testing.assert_array_equal(gga.data, [2.0, 1.0, 0.0])  # d/da (a * share_a * 1 + ...)
