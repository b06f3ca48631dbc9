"""Integer and bool tensors meeting floats: the dtype and values PyTorch gives.

An integer tensor ** a Python float, an integer tensor with a Python float in + - * /, an
integer quotient, and exp/log/sqrt of an integer tensor are computed in floating point and give
float32 (the default float dtype), never a truncated integer and never float64. Numpy arrays
keep their own float dtype (an int tensor + a float64 array is float64, as in PyTorch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minigrad as mg

# (id, minigrad expression, the same in PyTorch); t: int64 [1 2 3 4], b: bool [F F T T]
CASES: list[tuple[str, Callable[[Any, Any, Any], Any], Callable[[Any, Any, Any], Any]]] = [
    ("int ** 0.5", lambda m, t, b: t**0.5, lambda th, t, b: t**0.5),
    ("int ** -1.0", lambda m, t, b: t**-1.0, lambda th, t, b: t**-1.0),
    ("int ** 2", lambda m, t, b: t**2, lambda th, t, b: t**2),
    (
        "int ** tensor(1.5)",
        lambda m, t, b: t ** m.tensor(1.5),
        lambda th, t, b: t ** th.tensor(1.5),
    ),
    ("2.0 ** int", lambda m, t, b: 2.0**t, lambda th, t, b: 2.0**t),
    ("int ** int", lambda m, t, b: t**t, lambda th, t, b: t**t),
    ("int + 0.5", lambda m, t, b: t + 0.5, lambda th, t, b: t + 0.5),
    ("0.5 + int", lambda m, t, b: 0.5 + t, lambda th, t, b: 0.5 + t),
    ("int - 0.5", lambda m, t, b: t - 0.5, lambda th, t, b: t - 0.5),
    ("0.5 - int", lambda m, t, b: 0.5 - t, lambda th, t, b: 0.5 - t),
    ("int * 1.5", lambda m, t, b: t * 1.5, lambda th, t, b: t * 1.5),
    ("int / 2.5", lambda m, t, b: t / 2.5, lambda th, t, b: t / 2.5),
    ("1.0 / int", lambda m, t, b: 1.0 / t, lambda th, t, b: 1.0 / t),
    ("int / 2", lambda m, t, b: t / 2, lambda th, t, b: t / 2),
    ("int / int", lambda m, t, b: t / (t + 1), lambda th, t, b: t / (t + 1)),
    ("int + 2", lambda m, t, b: t + 2, lambda th, t, b: t + 2),
    ("bool + 0.5", lambda m, t, b: b + 0.5, lambda th, t, b: b + 0.5),
    ("exp(int)", lambda m, t, b: m.exp(t), lambda th, t, b: th.exp(t)),
    ("log(int)", lambda m, t, b: m.log(t), lambda th, t, b: th.log(t)),
    ("sqrt(int)", lambda m, t, b: m.sqrt(t), lambda th, t, b: th.sqrt(t)),
    ("abs(int)", lambda m, t, b: m.abs(t), lambda th, t, b: th.abs(t)),
    ("maximum(int, 2.5)", lambda m, t, b: m.maximum(t, 2.5), lambda th, t, b: th.clamp(t, 2.5)),
    (
        "where(b, int, 0.5)",
        lambda m, t, b: m.where(b, t, 0.5),
        lambda th, t, b: th.where(b, t, 0.5),
    ),
    (
        "clip(int, 0.5, 2.5)",
        lambda m, t, b: t.clip(0.5, 2.5),
        lambda th, t, b: th.clamp(t, 0.5, 2.5),
    ),
    ("clip(int, 1, 2)", lambda m, t, b: t.clip(1, 2), lambda th, t, b: th.clamp(t, 1, 2)),
]


def _inputs(lib: Any) -> tuple[Any, Any]:
    if lib is mg:
        return mg.arange(1, 5), mg.tensor([False, False, True, True])
    return lib.arange(1, 5), lib.tensor([False, False, True, True])


def test_integer_power_of_a_float_is_computed_in_floating_point() -> None:
    t = mg.arange(1, 5)
    r = t**0.5
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.data, np.sqrt([1.0, 2.0, 3.0, 4.0]), rtol=1e-7)
    np.testing.assert_allclose((t**-1.0).data, [1.0, 0.5, 1 / 3, 0.25], rtol=1e-7)
    assert (t**2).dtype == np.int64  # an integer exponent keeps integers, as in PyTorch


def test_integer_tensor_with_a_python_float_is_float32() -> None:
    t = mg.arange(1, 5)
    for r in (t + 0.5, 0.5 - t, t * 1.5, t / 2, 1.0 / t, mg.exp(t), mg.log(t), mg.sqrt(t)):
        assert r.dtype == np.float32


def test_numpy_arrays_keep_their_float_dtype() -> None:
    t = mg.arange(1, 5)
    assert (t + np.full(4, 0.5)).dtype == np.float64
    assert (t * mg.tensor(np.ones(4, dtype=np.float16))).dtype == np.float16
    x = mg.tensor(np.ones(4), requires_grad=True)  # float64
    (x * t).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0, 4.0])


def test_float32_tensor_meeting_an_integer_tensor_stays_float32() -> None:
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    t = mg.arange(1, 5)
    y = x * t + t - t / x
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [2.0, 2.5, 3.0 + 1 / 3, 4.25], rtol=1e-6)


@pytest.mark.parametrize("name, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_dtype_and_values_equal_pytorch(name: str, ours: Callable, theirs: Callable) -> None:
    torch = pytest.importorskip("torch")
    r = ours(mg, *_inputs(mg))
    e = theirs(torch, *_inputs(torch))
    assert str(r.dtype) == str(e.dtype).removeprefix("torch."), name
    np.testing.assert_allclose(r.data, e.numpy(), rtol=1e-6)
