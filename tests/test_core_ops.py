"""Every core op three ways: values vs numpy, gradients vs finite differences, double backward;
and, when PyTorch is installed, values and gradients equal to PyTorch's on the same input."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck


@dataclass
class Case:
    """One op applied to inputs: ``ours`` on Tensors, ``ref`` on numpy arrays, ``torch_fn`` on torch tensors."""

    id: str
    ours: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: list[tuple[int, ...]]
    torch_fn: Callable[..., Any] | None = None
    positive: bool = False  # inputs drawn away from zero and positive (log, sqrt, pow)
    apart: bool = False  # inputs well separated (max/min/abs/clip kinks)
    double: bool = True
    extra: dict = field(default_factory=dict)


def _torch_same(name: str) -> Callable[..., Any]:
    def fn(*xs: Any) -> Any:
        import torch

        return getattr(torch, name)(*xs)

    return fn


CASES = [
    Case("add", lambda a, b: a + b, np.add, [(2, 3), (2, 3)], lambda a, b: a + b),
    Case("add_broadcast", lambda a, b: a + b, np.add, [(2, 3), (3,)], lambda a, b: a + b),
    Case("add_scalar", lambda a: a + 2.5, lambda a: a + 2.5, [(3,)], lambda a: a + 2.5),
    Case("radd_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, [(3,)], lambda a: 2.5 + a),
    Case("sub", lambda a, b: a - b, np.subtract, [(2, 1), (1, 3)], lambda a, b: a - b),
    Case("rsub", lambda a: 1.0 - a, lambda a: 1.0 - a, [(4,)], lambda a: 1.0 - a),
    Case("mul", lambda a, b: a * b, np.multiply, [(2, 3), (2, 3)], lambda a, b: a * b),
    Case("mul_broadcast", lambda a, b: a * b, np.multiply, [(4, 1, 3), (2, 1)], lambda a, b: a * b),
    Case("div", lambda a, b: a / b, np.divide, [(2, 3), (2, 3)], lambda a, b: a / b, positive=True),
    Case("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [(3,)], lambda a: 2.0 / a, positive=True),
    Case("neg", lambda a: -a, np.negative, [(2, 2)], lambda a: -a),
    Case("pow_scalar", lambda a: a**3, lambda a: a**3, [(2, 3)], lambda a: a**3),
    Case("pow_half", lambda a: a**0.5, np.sqrt, [(5,)], lambda a: a**0.5, positive=True),
    Case(
        "pow_tensor",
        lambda a, b: a**b,
        np.power,
        [(2, 3), (2, 3)],
        lambda a, b: a**b,
        positive=True,
    ),
    Case("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [(3,)], lambda a: 2.0**a),
    Case("exp", mg.exp, np.exp, [(2, 3)], _torch_same("exp")),
    Case("log", mg.log, np.log, [(2, 3)], _torch_same("log"), positive=True),
    Case("sqrt", mg.sqrt, np.sqrt, [(2, 3)], _torch_same("sqrt"), positive=True),
    Case("abs", mg.abs, np.abs, [(2, 3)], _torch_same("abs"), apart=True),
    Case(
        "clip",
        lambda a: mg.clip(a, -0.5, 0.5),
        lambda a: np.clip(a, -0.5, 0.5),
        [(3, 4)],
        lambda a: a.clamp(-0.5, 0.5),
        apart=True,
    ),
    Case("maximum", mg.maximum, np.maximum, [(2, 3), (2, 3)], _torch_same("maximum"), apart=True),
    Case("minimum", mg.minimum, np.minimum, [(2, 3), (3,)], _torch_same("minimum"), apart=True),
    Case(
        "where",
        lambda a, b: mg.where(a > 0, a, b),
        lambda a, b: np.where(a > 0, a, b),
        [(2, 3), (2, 3)],
        lambda a, b: a.where(a > 0, b),
        apart=True,
    ),
    Case("matmul", lambda a, b: a @ b, np.matmul, [(2, 3), (3, 4)], lambda a, b: a @ b),
    Case("matmul_vec_mat", lambda a, b: a @ b, np.matmul, [(3,), (3, 4)], lambda a, b: a @ b),
    Case("matmul_mat_vec", lambda a, b: a @ b, np.matmul, [(2, 3), (3,)], lambda a, b: a @ b),
    Case("matmul_vec_vec", lambda a, b: a @ b, np.matmul, [(3,), (3,)], lambda a, b: a @ b),
    Case(
        "matmul_batched",
        lambda a, b: a @ b,
        np.matmul,
        [(2, 1, 2, 3), (3, 3, 2)],
        lambda a, b: a @ b,
    ),
    Case("sum_all", lambda a: a.sum(), np.sum, [(2, 3)], lambda a: a.sum()),
    Case(
        "sum_axis",
        lambda a: a.sum(axis=1),
        lambda a: a.sum(axis=1),
        [(2, 3, 4)],
        lambda a: a.sum(dim=1),
    ),
    Case(
        "sum_axes_keepdims",
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        [(2, 3, 4)],
        lambda a: a.sum(dim=(0, 2), keepdim=True),
    ),
    Case(
        "sum_batch_and_plane",
        lambda a: a.sum(axis=(0, 2, 3)),
        lambda a: a.sum(axis=(0, 2, 3)),
        [(3, 2, 4, 5)],
        lambda a: a.sum(dim=(0, 2, 3)),
    ),
    Case("mean_all", lambda a: a.mean(), np.mean, [(2, 3)], lambda a: a.mean()),
    Case(
        "mean_axes",
        lambda a: a.mean(axis=(2, 0)),
        lambda a: a.mean(axis=(2, 0)),
        [(3, 4, 5)],
        lambda a: a.mean(dim=(2, 0)),
    ),
    Case(
        "mean_axis",
        lambda a: a.mean(axis=-1, keepdims=True),
        lambda a: a.mean(axis=-1, keepdims=True),
        [(2, 3)],
        lambda a: a.mean(dim=-1, keepdim=True),
    ),
    Case("max_all", lambda a: a.max(), np.max, [(3, 4)], lambda a: a.amax(), apart=True),
    Case(
        "max_axis",
        lambda a: a.max(axis=0),
        lambda a: a.max(axis=0),
        [(3, 4)],
        lambda a: a.amax(dim=0),
        apart=True,
    ),
    Case(
        "min_axis_keepdims",
        lambda a: a.min(axis=1, keepdims=True),
        lambda a: a.min(axis=1, keepdims=True),
        [(3, 4)],
        lambda a: a.amin(dim=1, keepdim=True),
        apart=True,
    ),
    Case(
        "reshape",
        lambda a: a.reshape(3, -1),
        lambda a: a.reshape(3, -1),
        [(2, 3, 2)],
        lambda a: a.reshape(3, -1),
    ),
    Case("transpose", lambda a: a.T, lambda a: a.T, [(2, 3)], lambda a: a.T),
    Case(
        "permute",
        lambda a: a.transpose(2, 0, 1),
        lambda a: a.transpose(2, 0, 1),
        [(2, 3, 4)],
        lambda a: a.permute(2, 0, 1),
    ),
    Case(
        "flatten",
        lambda a: a.flatten(1),
        lambda a: a.reshape(2, -1),
        [(2, 3, 4)],
        lambda a: a.flatten(1),
    ),
    Case(
        "expand",
        lambda a: mg.expand(a, (4, 2, 3)),
        lambda a: np.broadcast_to(a, (4, 2, 3)),
        [(2, 1)],
        lambda a: a.expand(4, 2, 3),
    ),
    Case(
        "getitem_slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 5)], lambda a: a[1:, ::2]
    ),
    Case("getitem_int", lambda a: a[1], lambda a: a[1], [(3, 5)], lambda a: a[1]),
    Case(
        "getitem_array_repeats",
        lambda a: a[np.array([0, 2, 0, 0])],
        lambda a: a[np.array([0, 2, 0, 0])],
        [(3, 2)],
        lambda a: a[[0, 2, 0, 0]],
    ),
    Case(
        "getitem_mixed",
        lambda a: a[np.array([1, 1]), :, 0],
        lambda a: a[np.array([1, 1]), :, 0],
        [(2, 3, 2)],
        lambda a: a[[1, 1], :, 0],
    ),
    Case(
        "concatenate",
        lambda a, b: mg.concatenate([a, b], axis=1),
        lambda a, b: np.concatenate([a, b], axis=1),
        [(2, 3), (2, 1)],
        lambda a, b: __import__("torch").cat([a, b], dim=1),
    ),
    Case(
        "stack",
        lambda a, b: mg.stack([a, b], axis=-1),
        lambda a, b: np.stack([a, b], axis=-1),
        [(2, 3), (2, 3)],
        lambda a, b: __import__("torch").stack([a, b], dim=-1),
    ),
    Case(
        "pad",
        lambda a: mg.pad(a, ((0, 0), (1, 2))),
        lambda a: np.pad(a, ((0, 0), (1, 2))),
        [(2, 3)],
        lambda a: __import__("torch").nn.functional.pad(a, (1, 2)),
    ),
]


def _inputs(case: Case, dtype: Any, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for shape in case.shapes:
        if case.positive:
            a = rng.uniform(0.5, 2.0, shape)
        elif case.apart:
            # distinct values at least 0.1 apart, and away from 0 and the clip bounds
            n = int(np.prod(shape))
            vals = rng.permutation(np.linspace(-1.95, 1.95, 2 * n + 1))[:n]
            vals = np.where(np.isclose(np.abs(vals), 0.5, atol=0.05), vals + 0.11, vals)
            vals = np.where(np.abs(vals) < 0.05, vals + 0.11, vals)
            a = vals.reshape(shape) + rng.uniform(-0.01, 0.01, shape)
        else:
            a = rng.standard_normal(shape)
        out.append(a.astype(dtype))
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(case: Case, dtype: Any) -> None:
    arrays = _inputs(case, dtype)
    out = case.ours(*[mg.tensor(a) for a in arrays])
    expected = np.asarray(case.ref(*arrays))
    assert out.shape == expected.shape
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient_matches_finite_differences(case: Case) -> None:
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(case, np.float64)]
    assert gradcheck(case.ours, *xs)


@pytest.mark.parametrize("case", [c for c in CASES if c.double], ids=lambda c: c.id)
def test_double_backward_matches_finite_differences(case: Case) -> None:
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(case, np.float64)]
    # linear ops have a zero second derivative: their first-order grads don't depend on x
    try:
        assert gradgradcheck(case.ours, *xs)
    except mg.testing.GradcheckError as e:
        if "do not depend on the inputs" not in str(e):
            raise


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_grads_equal_pytorch(case: Case, dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    arrays = _inputs(case, dtype, seed=1)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = case.ours(*ours), case.torch_fn(*theirs)
    g = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    out.backward(mg.tensor(g))
    ref.backward(torch.tensor(g))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **tol)
    for t, r in zip(ours, theirs):
        assert t.grad.dtype == dtype
        np.testing.assert_allclose(t.grad.data, r.grad.numpy(), **tol)


def test_second_derivatives_equal_pytorch() -> None:
    torch = pytest.importorskip("torch")
    a = np.array([0.3, 1.2, 2.0])
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    f = (mg.exp(x) * x**3 / (1.0 + x)).sum()
    tf = (torch.exp(tx) * tx**3 / (1.0 + tx)).sum()
    (g,) = mg.grad(f, [x], create_graph=True)
    (tg,) = torch.autograd.grad(tf, [tx], create_graph=True)
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


# --- hand-checkable examples ---------------------------------------------------------------


def test_mul_gradient_by_hand() -> None:
    # z = x * y + x, dz/dx = y + 1, dz/dy = x
    x = mg.tensor(2.0, requires_grad=True)
    y = mg.tensor(-3.0, requires_grad=True)
    (x * y + x).backward()
    assert x.grad.item() == -2.0
    assert y.grad.item() == 2.0


def test_integer_array_index_gradient_accumulates() -> None:
    x = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_bool_mask_indexing() -> None:
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x[x.data > 0]
    np.testing.assert_array_equal(y.data, [1.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "shape, index",
    [
        ((10,), [True, False]),
        ((10,), [True] * 11),
        ((2, 3), (slice(None), [True, False])),
        ((2, 3, 4), (Ellipsis, [True] * 3)),
        ((2, 3, 4), np.ones((3, 2), dtype=bool)),
        ((2, 3, 4), (0, np.ones(4, dtype=bool))),
    ],
    ids=["short", "long", "second-axis", "after-ellipsis", "2d-mask", "after-an-int"],
)
def test_bool_mask_of_another_shape_raises_index_error(shape, index) -> None:
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(np.asarray(i) if isinstance(i, list) else i for i in items)
    x = mg.tensor(np.zeros(shape), requires_grad=True)
    with pytest.raises(IndexError, match=rf"bool mask of shape {re.escape(str(items[-1].shape))}"):
        x[index]
    with pytest.raises(IndexError):  # numpy agrees
        np.zeros(shape)[items]


def test_bool_masks_select_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    data = np.arange(24.0).reshape(2, 3, 4)
    m23, m4 = data[:, :, 0] % 4 == 0, np.array([True, False, True, True])
    for index in [(m23,), (Ellipsis, m4), (slice(None), m23[0]), (slice(1, 2), m23[1])]:
        x = mg.tensor(data, requires_grad=True)
        t = torch.tensor(data, requires_grad=True)
        y, e = (
            x[index],
            t[tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)],
        )
        np.testing.assert_array_equal(y.data, e.detach().numpy())
        (y * y).sum().backward()
        (e * e).sum().backward()
        np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    with pytest.raises(IndexError):
        torch.zeros(10)[torch.tensor([True, False])]


def test_max_ties_share_gradient() -> None:
    x = mg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])


def test_maximum_ties_split_gradient() -> None:
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 1.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, 1.0])
    np.testing.assert_array_equal(b.grad.data, [0.5, 0.0])


def test_abs_gradient_is_zero_at_zero() -> None:
    x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    mg.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 1.0])


def test_clip_passes_gradient_on_the_boundary() -> None:
    x = mg.tensor([-2.0, 0.0, 1.0, 3.0], requires_grad=True)
    mg.clip(x, 0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 0.0])


def test_comparisons_return_tensors_without_grad() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert isinstance(r, mg.Tensor)
        assert r.dtype == np.bool_
        assert not r.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])


def test_mixed_float_dtypes_promote_like_numpy() -> None:
    a = mg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = mg.tensor(np.ones(3, dtype=np.float64), requires_grad=True)
    c = a * b
    assert c.dtype == np.float64
    c.sum().backward()
    assert a.grad.dtype == np.float32
    assert b.grad.dtype == np.float64


def test_python_scalars_keep_the_tensor_dtype() -> None:
    x = mg.tensor(np.ones(2, dtype=np.float32))
    assert (x * 2.5).dtype == np.float32
    assert (2 + x).dtype == np.float32
    assert (x**2).dtype == np.float32


def test_numpy_array_on_the_left_dispatches_to_tensor() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, mg.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


# --- bad input -----------------------------------------------------------------------------


def test_broadcast_mismatch_names_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        mg.tensor(np.ones((2, 3))) + mg.tensor(np.ones(4))


def test_matmul_mismatch_names_shapes() -> None:
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not match"):
        mg.tensor(np.ones((2, 3))) @ mg.tensor(np.ones((4, 5)))


def test_reshape_mismatch_names_shapes() -> None:
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape .* \(2, 3\) .* into shape \(4,\)"
    ):
        mg.tensor(np.ones((2, 3))).reshape(4)


def test_axis_out_of_range() -> None:
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a 2-D tensor"):
        mg.tensor(np.ones((2, 3))).sum(axis=2)


def test_concatenate_mismatch() -> None:
    with pytest.raises(ValueError, match="concatenate: cannot join shapes"):
        mg.concatenate([mg.ones(2, 3), mg.ones(3, 3)], axis=1)


def test_where_needs_bool_condition() -> None:
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        mg.where(mg.ones(2), mg.ones(2), mg.zeros(2))


@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
def test_reductions_of_a_0d_tensor_accept_axis_0_like_pytorch(reduction: str) -> None:
    x = mg.tensor(2.0, requires_grad=True)
    y = getattr(x, reduction)(axis=0)
    assert y.shape == () and y.item() == 2.0
    y.backward()
    assert x.grad.item() == 1.0
    with pytest.raises(ValueError, match="axis 1 is out of range for a 0-D tensor"):
        getattr(x, reduction)(axis=1)
