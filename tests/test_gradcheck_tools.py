"""minigrad.testing must catch wrong gradients and contract breaks, with useful messages."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import Cube, DetachedCube, NumpyGradCube, WrongGrad

import minigrad as mg
from minigrad.autograd import call_op
from minigrad.op import op_spec
from minigrad.plugins import Registry
from minigrad.testing import (
    GradcheckError,
    OpcheckWarning,
    gradcheck,
    gradgradcheck,
    opcheck,
)


class Mutating(mg.Op):
    @staticmethod
    def forward(ctx, x):
        x *= 1.0
        x[...] = x + 1
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class GradOfDtype(mg.Op):
    """Identity whose backward returns its gradient in ``ctx.attrs['dtype']``."""

    @staticmethod
    def forward(ctx, x, *, dtype="float64"):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.data.astype(ctx.attrs["dtype"])


def x64(*shape: int) -> mg.Tensor:
    return mg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, shape), requires_grad=True)


def test_gradcheck_accepts_a_correct_op() -> None:
    assert gradcheck(lambda t: call_op(Cube, t), x64(3, 2))
    assert gradgradcheck(lambda t: call_op(Cube, t), x64(3, 2))


def test_gradcheck_reports_input_element_and_values() -> None:
    with pytest.raises(
        GradcheckError, match=r"gradient of input 0 \(shape \(3,\)\) .* analytic .* numeric"
    ):
        gradcheck(lambda t: call_op(WrongGrad, t), x64(3))
    assert gradcheck(lambda t: call_op(WrongGrad, t), x64(3), raise_exception=False) is False


def test_gradcheck_random_direction_for_large_inputs() -> None:
    with pytest.raises(GradcheckError, match="along a random direction"):
        gradcheck(lambda t: call_op(WrongGrad, t), x64(30, 30), max_full_size=100)
    assert gradcheck(lambda t: call_op(Cube, t), x64(30, 30), max_full_size=100)


def test_gradgradcheck_catches_a_cut_backward_graph() -> None:
    assert gradcheck(lambda t: call_op(DetachedCube, t), x64(3))
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda t: call_op(DetachedCube, t), x64(3))


def test_gradcheck_requires_float64() -> None:
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, mg.tensor([1.0], requires_grad=True))


def test_opcheck_accepts_a_correct_op() -> None:
    assert opcheck(Cube, np.array([0.5, 1.5], dtype=np.float32))


def test_opcheck_catches_mutation() -> None:
    with pytest.raises(GradcheckError, match="forward modified .*in place"):
        opcheck(Mutating, np.array([1.0, 2.0]))


def _runtime_backward(op, x: np.ndarray, **attrs) -> mg.Tensor:
    t = mg.tensor(x, requires_grad=True)
    call_op(op, t, **attrs).sum().backward()
    return t.grad


@pytest.mark.parametrize(("x_dtype", "g_dtype"), [("float32", "float64"), ("float64", "float32")])
def test_opcheck_and_the_engine_both_fit_another_float_precision(x_dtype, g_dtype) -> None:
    x = np.array([1.0, 2.0], dtype=x_dtype)
    assert _runtime_backward(GradOfDtype, x, dtype=g_dtype).dtype == x_dtype  # fitted by a cast
    with pytest.warns(OpcheckWarning, match="first order only"):  # numpy gradients
        result = opcheck(GradOfDtype, x, dtype=g_dtype)
    assert result.orders == (1,)
    assert any(f"dtype {g_dtype} for an input of dtype {x_dtype}" in n for n in result.notes)


@pytest.mark.parametrize(
    ("x_dtype", "g_dtype"), [("float32", "complex64"), ("float64", "int64"), ("float32", "bool")]
)
def test_opcheck_and_the_engine_both_refuse_a_lossy_gradient_cast(x_dtype, g_dtype) -> None:
    x = np.array([1.0, 2.0], dtype=x_dtype)
    with pytest.raises(TypeError) as runtime:
        _runtime_backward(GradOfDtype, x, dtype=g_dtype)
    with pytest.raises(GradcheckError) as check:
        opcheck(GradOfDtype, x, dtype=g_dtype)
    # one rule, one wording: the engine's message is the check's message
    engine_message = str(runtime.value).split(": backward returned", 1)[1]
    assert engine_message in str(check.value)
    assert f"dtype {g_dtype} for input 0 of dtype {x_dtype}" in str(check.value)


def test_gradgradcheck_names_the_order_the_cause_and_the_fix() -> None:
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda t: call_op(DetachedCube, t), x64(3))
    message = str(info.value)
    assert info.value.order == 2
    assert "second order (double backward)" in message
    assert "with respect to input 0" in message
    assert "confirmed: the recorded first-order gradients do not depend on input 0" in message
    assert "backward leaves the graph" in message
    assert "ctx.saved_tensors" in message and "minigrad operations" in message


def test_gradcheck_failures_say_first_order() -> None:
    with pytest.raises(GradcheckError, match=r"^gradcheck: first order: gradient of input 0") as e:
        gradcheck(lambda t: call_op(WrongGrad, t), x64(3))
    assert e.value.order == 1


def test_gradgradcheck_of_a_numpy_backward_names_the_order_and_the_op() -> None:
    x = x64(3)
    assert gradcheck(lambda t: call_op(NumpyGradCube, t), x)
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda t: call_op(NumpyGradCube, t), x)
    message = str(info.value)
    assert "second order (double backward)" in message
    assert f"op '{op_spec(NumpyGradCube).name}'" in message and "plain numpy array" in message


def test_opcheck_second_order_failure_names_the_order() -> None:
    with pytest.raises(GradcheckError, match=r"opcheck\(detachedcube\): .*second order \(double"):
        opcheck(DetachedCube, np.array([0.5, 1.5]))


def test_opcheck_checks_a_numpy_backward_to_first_order_and_says_why() -> None:
    with pytest.warns(OpcheckWarning, match="checked first order only: backward returns numpy"):
        result = opcheck(NumpyGradCube, np.array([0.5, -1.5, 2.0]))
    assert result and result.orders == (1,)
    assert any("double backward" in n and "ctx.saved_tensors" in n for n in result.notes)
    # first order is still checked: a wrong numpy gradient fails
    assert opcheck(Cube, np.array([0.5, 1.5])).orders == (1, 2)


def test_opcheck_catches_wrong_gradient_values() -> None:
    with pytest.raises(GradcheckError, match="does not match finite differences"):
        opcheck(WrongGrad, np.array([0.5, 1.5]))


def test_opcheck_takes_the_op_function_as_well_as_the_class() -> None:
    x = np.random.default_rng(1).standard_normal((3, 4))
    x[np.abs(x) < 0.1] = 0.5  # away from relu's kink at 0
    assert opcheck(mg.ops.relu, x).op == "relu"
    assert opcheck(mg.ops.relu, x).orders == opcheck(mg.ops.relu.op, x).orders == (1, 2)
    # attributes go to the op, as in mg.ops.softmax(x, axis=0)
    assert opcheck(mg.ops.softmax, x, axis=0).orders == (1, 2)


def test_opcheck_with_a_function_of_a_wrong_op_still_fails() -> None:
    reg = Registry(entry_points_fn=list)
    reg.register_op("wrong_grad_fn", WrongGrad)
    with pytest.raises(GradcheckError, match="first order"):
        opcheck(reg.ops.wrong_grad_fn, np.array([0.5, 1.5]))


def test_opcheck_says_what_to_pass_for_anything_else() -> None:
    with pytest.raises(TypeError, match=r"Op subclass .* or an op function such as mg\.ops\.relu"):
        opcheck(lambda t: t * 2, np.ones(3))
    with pytest.raises(TypeError, match="class int"):
        opcheck(int, np.ones(3))


def test_gradcheck_and_gradgradcheck_take_an_op_function_or_class() -> None:
    x = x64(2, 3)
    assert gradcheck(mg.ops.tanh, x) and gradcheck(mg.ops.tanh.op, x)
    assert gradgradcheck(mg.ops.tanh, x) and gradgradcheck(mg.ops.tanh.op, x)
    with pytest.raises(GradcheckError, match="first order"):
        gradcheck(WrongGrad, x64(3))
    with pytest.raises(TypeError, match="function of Tensors"):
        gradcheck("relu", x)
