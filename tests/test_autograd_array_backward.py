"""First-order backward of the arithmetic ops on numpy arrays (``Op._array_backward``).

These ops write their formula twice: ``backward`` on Tensors (recorded with
``create_graph=True`` or in anomaly mode, so it can be differentiated again) and
``_array_backward`` on numpy arrays, which the engine calls instead in a first-order pass.
Both must give the same gradients, bit for bit, and each sees one type only.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.functional import CORE_OPS, arithmetic

ARRAY_OPS = [op for op in CORE_OPS if op._array_backward is not None]

# (function, (shape of a, shape of b)): broadcasting, 0-d and size-1 operands included
BINARY = [
    (lambda a, b: a + b, "add"),
    (lambda a, b: a - b, "sub"),
    (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"),
]
UNARY = [
    (lambda x: -x, "neg"),
    (mg.exp, "exp"),
    (mg.log, "log"),
    (mg.sqrt, "sqrt"),
    (lambda x: x.sum(), "sum"),
    (lambda x: x.mean(axis=0), "mean"),
    (lambda x: x.sum(axis=-1, keepdims=True), "sum keepdims"),
]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (1, 5, 1)), ((), (3,)), ((1,), ())]


def _grads(fn, arrays, create_graph):
    leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    upstream = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    found = mg.grad(out, leaves, grad_outputs=upstream, create_graph=create_graph)
    return [g.data for g in found]


def test_the_flagged_ops_are_the_arithmetic_ones():
    assert sorted(op.name for op in ARRAY_OPS) == sorted(
        ["add", "sub", "mul", "div", "neg", "exp", "log", "sqrt", "matmul", "sum", "mean"]
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("fn,name", BINARY, ids=[n for _, n in BINARY])
def test_binary_first_order_matches_recorded_formula(fn, name, shapes, dtype):
    rng = np.random.default_rng(0)
    arrays = [(rng.random(s) + 0.5).astype(dtype) for s in shapes]
    plain = _grads(fn, arrays, create_graph=False)
    recorded = _grads(fn, arrays, create_graph=True)
    for p, r, a in zip(plain, recorded, arrays):
        assert p.shape == a.shape and p.dtype == a.dtype
        np.testing.assert_array_equal(p, r)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4), (), (1,)], ids=str)
@pytest.mark.parametrize("fn,name", UNARY, ids=[n for _, n in UNARY])
def test_unary_first_order_matches_recorded_formula(fn, name, shape, dtype):
    x = (np.random.default_rng(0).random(shape) + 0.5).astype(dtype)
    (plain,) = _grads(fn, [x], create_graph=False)
    (recorded,) = _grads(fn, [x], create_graph=True)
    assert plain.shape == x.shape and plain.dtype == x.dtype
    assert type(plain) is np.ndarray  # 0-d results stay arrays, never numpy scalars
    np.testing.assert_array_equal(plain, recorded)


MATMUL = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", MATMUL, ids=str)
def test_matmul_first_order_matches_recorded_formula(shapes, dtype):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    plain = _grads(lambda a, b: a @ b, arrays, create_graph=False)
    recorded = _grads(lambda a, b: a @ b, arrays, create_graph=True)
    for p, r, a in zip(plain, recorded, arrays):
        assert p.shape == a.shape and p.dtype == a.dtype
        np.testing.assert_array_equal(p, r)


def _spy_on_mul(monkeypatch):
    """Record what Mul's two formulas receive: (formula, type of grad, types of saved values)."""
    seen = []
    tensor_formula, array_formula = arithmetic.Mul.backward, arithmetic.Mul._array_backward

    def backward(ctx, grad):
        seen.append(("backward", type(grad), [type(s) for s in ctx.saved_tensors]))
        return tensor_formula(ctx, grad)

    def array_backward(ctx, grad):
        seen.append(("array", type(grad), [type(s) for s in ctx.saved]))
        return array_formula(ctx, grad)

    monkeypatch.setattr(arithmetic.Mul, "backward", staticmethod(backward))
    monkeypatch.setattr(arithmetic.Mul, "_array_backward", staticmethod(array_backward))
    return seen


def test_each_formula_sees_one_type(monkeypatch):
    seen = _spy_on_mul(monkeypatch)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert seen == [("array", np.ndarray, [np.ndarray, np.ndarray])]
    seen.clear()
    (g,) = mg.grad((x * x).sum(), [x], create_graph=True)
    assert seen == [("backward", mg.Tensor, [mg.Tensor, mg.Tensor])]
    # the recorded gradient can be differentiated again: d/dx sum(2x) = 2
    x.grad = None
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    seen.clear()
    with mg.detect_anomaly():
        (x * x).sum().backward()
    assert seen[0][:2] == ("backward", mg.Tensor)  # anomaly mode checks every step as recorded


def test_saved_values_read_as_tensors_after_a_first_order_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.sum().backward(retain_graph=True)
    saved = y._node.saved_tensors
    assert all(isinstance(s, mg.Tensor) for s in saved) and saved[0] is x


def test_hooks_and_retained_grads_get_tensors():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    got = []
    y.register_hook(lambda g: got.append(g))
    (y * y).sum().backward()
    assert isinstance(got[0], mg.Tensor) and isinstance(y.grad, mg.Tensor)
    np.testing.assert_array_equal(y.grad.data, 2 * y.data)
    np.testing.assert_array_equal(x.grad.data, 8 * x.data)


def test_in_place_change_of_a_saved_leaf_is_still_caught():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data[0] = 5.0
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_gradients_handed_out_are_tensors_of_arrays():
    # inside a first-order pass gradients may travel as bare arrays; what users get is not
    x = mg.tensor(2.0, requires_grad=True)  # 0-d: 0-d sums give numpy scalars
    y = x * x
    z = y * x + y  # y and x are used twice: their gradients are sums
    seen = []
    x.register_hook(lambda g: seen.append(g))
    gy, gx = mg.grad(z, [y, x])
    for g in (gy, gx, seen[0]):
        assert isinstance(g, mg.Tensor) and type(g.data) is np.ndarray and g.shape == ()
    assert float(gx.data) == 3 * 4.0 + 2 * 2.0  # dz/dx = 3x^2 + 2x
    z2 = (x * x) * x + x * x
    z2.backward()
    assert type(x.grad.data) is np.ndarray and float(x.grad.data) == 16.0


def test_a_thread_differentiating_the_same_node_meanwhile_gets_tensors(monkeypatch):
    # while one thread runs a node's array formula, another thread's create_graph backward
    # through that node runs the Tensor formula and gets a gradient with its graph
    import threading

    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    seen = _spy_on_mul(monkeypatch)
    array_formula = arithmetic.Mul._array_backward
    found = []

    def array_backward(ctx, grad):
        if not found:  # the first-order pass, inside the array formula
            other = threading.Thread(
                target=lambda: found.extend(mg.grad(y.sum(), [x], create_graph=True))
            )
            other.start()
            other.join()
        return array_formula(ctx, grad)

    monkeypatch.setattr(arithmetic.Mul, "_array_backward", staticmethod(array_backward))
    y.sum().backward(retain_graph=True)
    assert seen == [
        ("backward", mg.Tensor, [mg.Tensor, mg.Tensor]),
        ("array", np.ndarray, [np.ndarray, np.ndarray]),
    ]
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    x.grad = None
    found[0].sum().backward()  # d/dx sum(2x) = 2: the other thread's gradient has its graph
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
