"""Tensor creation, dtype rules and the array-like surface."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_python_floats_become_float32_ints_int64() -> None:
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(3.0).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_


def test_numpy_arrays_keep_their_dtype_and_are_copied() -> None:
    a = np.arange(3, dtype=np.float64)
    t = mg.tensor(a)
    assert t.dtype == np.float64
    a[0] = 100.0
    assert t.data[0] == 0.0


def test_dtype_argument_overrides() -> None:
    assert mg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert mg.tensor([1.5], dtype="float16").dtype == np.float16


def test_array_facts() -> None:
    x = mg.tensor(np.zeros((2, 3, 4), dtype=np.float32), name="x")
    assert (x.shape, x.ndim, x.size, x.dtype, x.name) == ((2, 3, 4), 3, 24, np.float32, "x")
    assert x.numpy() is x.data
    assert mg.tensor([[5.0]]).item() == 5.0
    with pytest.raises(ValueError, match=r"only one-element tensors.*\(2,\)"):
        mg.tensor([1.0, 2.0]).item()


def test_leaf_and_requires_grad_flags() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.requires_grad and x.op is None
    assert not y.is_leaf and y.requires_grad and y.op == "mul"
    assert mg.tensor([1.0]).requires_grad is False


def test_repr_is_readable() -> None:
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
    assert repr(x) == "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True, name='x')"
    assert repr(x * 2).endswith("op=mul)")
    assert "dtype=float64" in repr(mg.tensor(np.zeros(2)))


def test_factories() -> None:
    assert mg.zeros(2, 3).shape == (2, 3)
    assert mg.ones((2, 3)).data.sum() == 6.0
    assert mg.full((2,), 0.5).data.tolist() == [0.5, 0.5]
    assert mg.arange(3).data.tolist() == [0, 1, 2]
    assert mg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert mg.randn(4, 5).dtype == np.float32
    assert mg.zeros_like(mg.ones(2, dtype=np.float64)).dtype == np.float64
    assert mg.randn(2, requires_grad=True, name="w").requires_grad


def test_manual_seed_makes_randn_reproducible() -> None:
    mg.manual_seed(123)
    a = mg.randn(5).data
    mg.manual_seed(123)
    b = mg.randn(5).data
    mg.manual_seed(124)
    c = mg.randn(5).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_truth_value_of_many_elements_is_ambiguous() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mg.tensor([1.0, 2.0]) > 0)
    assert bool(mg.tensor([1.0]) > 0)


def test_tensor_is_hashable_by_identity() -> None:
    a, b = mg.tensor([1.0]), mg.tensor([1.0])
    assert len({a, b}) == 2


def test_iteration_and_len() -> None:
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(x) == 2
    assert [r.data.tolist() for r in x] == [[1.0, 2.0], [3.0, 4.0]]


def test_python_number_constants_keep_sign_of_zero_and_dtype() -> None:
    a = mg.tensor([1.0, 2.0])
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal((1.0 / (a * -0.0)).data, [-np.inf, -np.inf])
        np.testing.assert_array_equal((1.0 / (a * 0.0)).data, [np.inf, np.inf])
    assert (a * 2).dtype == np.float32 and (mg.tensor([1, 2]) * 2).dtype == np.int64
    assert (mg.tensor([1.0], dtype=np.float64) * 2.5).dtype == np.float64
    assert mg.as_tensor(True).dtype == np.bool_ and mg.as_tensor(2.5).dtype == np.float32
