"""The reverse-mode engine: ordering, accumulation, graph freeing, hooks, modes, errors."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import call_op


def test_tensor_used_twice_accumulates() -> None:
    # y = x*x + x  ->  dy/dx = 2x + 1
    x = mg.tensor(3.0, requires_grad=True)
    (x * x + x).backward()
    assert x.grad.item() == 7.0


def test_diamond_graph_runs_each_node_once() -> None:
    # x -> a = 2x, b = 3x -> c = a * b = 6x^2 -> dc/dx = 12x
    x = mg.tensor(2.0, requires_grad=True)
    a, b = x * 2.0, x * 3.0
    (a * b).backward()
    assert x.grad.item() == 24.0


def test_backward_twice_accumulates_into_leaf_grad() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_second_backward_through_freed_graph_says_retain_graph() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_of_non_scalar_needs_grad() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output, got shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(mg.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 20.0])


def test_backward_grad_of_wrong_shape() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(mg.ones(3))


def test_backward_without_graph() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_integer_tensor_cannot_require_grad() -> None:
    with pytest.raises(TypeError, match="only floating point tensors can require gradients.*int64"):
        mg.tensor([1, 2], requires_grad=True)


def test_non_leaf_requires_grad_cannot_be_changed() -> None:
    y = mg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only be changed on a leaf"):
        y.requires_grad = False


def test_mg_grad_returns_gradients_without_accumulating() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = mg.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    np.testing.assert_array_equal(gw.data, [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_mg_grad_of_intermediate_tensor() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    (gh,) = mg.grad((h * h).sum(), [h])
    np.testing.assert_array_equal(gh.data, 2 * h.data)


def test_mg_grad_unused_input() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    u = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="was not used"):
        mg.grad((x * 2).sum(), [x, u])
    gx, gu = mg.grad((x * 2).sum(), [x, u], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_create_graph_gives_higher_derivatives() -> None:
    # f = x^4: f' = 4x^3, f'' = 12x^2, f''' = 24x
    x = mg.tensor(2.0, dtype=np.float64, requires_grad=True)
    (g1,) = mg.grad(x**4, [x], create_graph=True)
    (g2,) = mg.grad(g1, [x], create_graph=True)
    (g3,) = mg.grad(g2, [x])
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)


def test_backward_create_graph_leaves_differentiable_grad() -> None:
    x = mg.tensor(3.0, dtype=np.float64, requires_grad=True)
    (x**3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and not g.is_leaf
    x.grad = None
    g.backward()
    assert x.grad.item() == 18.0


def test_retain_grad_on_intermediate() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.data, [4.0, 8.0])


def test_non_leaf_grad_is_not_kept_by_default() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    h = x * 2.0
    (h * h).sum().backward()
    assert h.grad is None


def test_hook_replaces_gradient_and_can_be_removed() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    handle = h.register_hook(lambda g: g * 10.0)
    (h * 1.0).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.data, [10.0, 10.0])
    handle.remove()
    x.grad = None
    (h * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_leaf_hook_sees_the_summed_gradient() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.item()))
    (x * 2.0 + x * 3.0).sum().backward()
    assert seen == [5.0]


def test_hook_returning_wrong_shape() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: mg.ones(3))
    with pytest.raises(
        ValueError, match=r"hook .* returned a gradient of shape \(3,\); expected \(2,\)"
    ):
        (x * 2).sum().backward()


def test_detach_cuts_the_graph() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    y = x.detach() * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0])


def test_zero_grad() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    x.zero_grad()
    assert x.grad is None


def test_no_grad_context_and_decorator() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not (x * 2).requires_grad
        with mg.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @mg.no_grad()
    def f(t: mg.Tensor) -> mg.Tensor:
        return t * 2

    assert not f(x).requires_grad
    assert mg.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_affect_another() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    entered, done = threading.Event(), threading.Event()
    seen = {}

    def other() -> None:
        entered.wait()
        seen["other"] = (x * 2).requires_grad
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with mg.no_grad():
        entered.set()
        done.wait()
        seen["here"] = (x * 2).requires_grad
    t.join()
    assert seen == {"other": True, "here": False}


def test_long_chain_backward_needs_no_recursion() -> None:
    x = mg.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_is_freed_by_reference_counting() -> None:
    gc.collect()
    gc.disable()
    try:
        x = mg.tensor(np.ones(4), requires_grad=True)
        h = x * 2.0
        node = weakref.ref(h._node)
        inter = weakref.ref(h)
        loss = (h * h).sum()
        del h
        loss.backward()
        del loss
        assert inter() is None, "intermediate tensor kept alive after backward"
        assert node() is None, "graph node kept alive after backward"
        # and without backward: dropping the result frees the graph
        y = mg.exp(x) * 3.0
        node = weakref.ref(y._node)
        del y
        assert node() is None
    finally:
        gc.enable()


def test_saved_arrays_are_freed_after_backward() -> None:
    x = mg.tensor(np.ones(3), requires_grad=True)
    y = x * x
    node = y._node
    y.sum().backward()
    assert node.freed
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        node.saved_tensors


def test_detect_anomaly_names_the_forward_op() -> None:
    x = mg.tensor([-1.0, 1.0], requires_grad=True)
    with (
        mg.detect_anomaly(),
        pytest.raises(FloatingPointError, match="op 'log' produced NaN/Inf in its forward"),
    ):
        mg.log(x)


def test_detect_anomaly_names_the_backward_op() -> None:
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with mg.detect_anomaly():
        y = mg.sqrt(x).sum()  # finite forward, infinite gradient at 0
        with pytest.raises(FloatingPointError, match="while computing the backward of op 'sqrt'"):
            y.backward()


# --- the Op contract -------------------------------------------------------------------------


class Swish(mg.Op):
    """x * sigmoid(beta * x), as in DESIGN.md's example (backward with minigrad ops)."""

    @staticmethod
    def forward(ctx, x, *, beta=1.0):
        s = 1.0 / (1.0 + np.exp(-beta * x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        beta = ctx.attrs["beta"]
        return grad * (s + beta * x * s * (1 - s))


class PlainSquare(mg.Op):
    """A backward that returns plain numpy arrays (first order only)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return grad.data * 2 * x


class WrongShape(mg.Op):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return np.ones(7, dtype=grad.dtype)


class WithBias(mg.Op):
    @staticmethod
    def forward(ctx, x, bias=None, *, scale=2.0):
        return x * scale if bias is None else x * scale + bias

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.attrs["scale"], (grad if ctx.needs_input_grad[1] else None)


def test_op_contract_attrs_include_defaults() -> None:
    x = mg.tensor([0.5, -1.0], dtype=np.float64, requires_grad=True)
    y = call_op(Swish, x)
    assert y._node.attrs == {"beta": 1.0}
    assert y._node.needs_input_grad == (True,)
    assert mg.testing.gradcheck(lambda t: call_op(Swish, t, beta=2.0), x)


def test_optional_tensor_input() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([0.5, 0.5], requires_grad=True)
    y = call_op(WithBias, x, bias=b, scale=3.0)
    np.testing.assert_array_equal(y.data, [3.5, 6.5])
    y.sum().backward()
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(call_op(WithBias, x).data, [2.0, 4.0])


def test_unknown_attribute_lists_valid_ones() -> None:
    with pytest.raises(
        TypeError,
        match=r"withbias: unexpected attribute\(s\) \['stride'\]; valid attributes are \['scale'\]",
    ):
        call_op(WithBias, mg.ones(2), stride=2)


def test_plain_array_backward_works_first_order() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    call_op(PlainSquare, x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_plain_array_backward_refuses_double_backward_naming_the_op() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.grad(call_op(PlainSquare, x).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="op 'plainsquare'.*plain numpy array"):
        g.sum().backward()


def test_engine_checks_gradient_shape_naming_the_op() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        ValueError,
        match=r"op 'wrongshape': backward returned a gradient of shape \(7,\) for input 0 of shape \(2,\)",
    ):
        call_op(WrongShape, x).sum().backward()


def test_attributes_may_follow_the_tensor_inputs_positionally() -> None:
    x = mg.tensor([1.0, 2.0])
    np.testing.assert_array_equal(call_op(WithBias, x, None, 5.0).data, [5.0, 10.0])
    with pytest.raises(TypeError, match="multiple values for attribute 'scale'"):
        call_op(WithBias, x, None, 5.0, scale=2.0)
    with pytest.raises(TypeError, match=r"takes 2 tensor input\(s\) .* and 1 attribute\(s\)"):
        call_op(WithBias, x, None, 5.0, 6.0)
