"""``python -m minigrad plugins check``: what it reports for ops that are only partly right."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import Cube, DetachedCube, NumpyGradCube, entry, fresh

import minigrad as mg
from minigrad.cli.plugins import check_op, run_check
from minigrad.plugins import Registry


class DetachedCubeWithSamples(DetachedCube):
    @staticmethod
    def sample_inputs():
        return [((np.array([0.5, 1.5]),), {})]


def _registry(**ops) -> Registry:
    reg = Registry(entry_points_fn=list)
    for name, cls in ops.items():
        reg.register_op(name, fresh(cls))
    return reg


def test_check_passes_a_numpy_backward_to_first_order_and_says_so() -> None:
    reg = _registry(np_cube=NumpyGradCube)
    status, detail = check_op(reg.ops.np_cube)
    assert status == "PASS"
    assert "first order only" in detail and "numpy arrays" in detail
    assert "ctx.saved_tensors" in detail


def test_check_names_second_order_when_double_backward_is_wrong() -> None:
    reg = _registry(detached_cube=DetachedCubeWithSamples)
    out = io.StringIO()
    assert run_check(registry=reg, out=out) == 1
    line = next(x for x in out.getvalue().splitlines() if "detached_cube" in x)
    assert line.startswith("FAIL")
    assert "second order (double backward)" in line
    assert "backward leaves the graph" in line and "ctx.saved_tensors" in line
    # --first-order skips exactly that check
    assert check_op(reg.ops.detached_cube, check_double_backward=False)[0] == "PASS"


def test_check_reports_both_orders_for_a_correct_op(make_module) -> None:
    from helpers import CUBE_SOURCE

    mod = make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry("cube", f"{mod}:Cube")])
    status, detail = check_op(reg.ops.cube)
    assert (status, detail) == ("PASS", f"{len(Cube.sample_inputs())} sample(s)")


# --------------------------------------------------------------------------- derivative cards


def test_op_functions_expose_the_formula_of_their_op() -> None:
    reg = _registry(cube=Cube, np_cube=NumpyGradCube)
    assert reg.ops.cube.formula == Cube.formula == "dx = dy * power * x ** (power - 1)"
    assert "Derivative: dx = dy * power" in reg.ops.cube.__doc__
    assert reg.ops.np_cube.formula is None
    rows = {r.name: r.formula for r in reg.available()}
    assert rows == {"cube": Cube.formula, "np_cube": None}


def test_shipped_ops_have_formulas_behind_mg_ops() -> None:
    from helpers import require_ops, shipped_ops

    import minigrad as mg

    require_ops("relu")
    assert mg.ops.relu.formula == "dx = dy * (x > 0)"
    missing = [name for name in shipped_ops() if not mg.ops.get(name).formula]
    assert missing == []


def test_check_warns_about_a_missing_formula_without_failing() -> None:
    reg = _registry(cube=Cube, np_cube=NumpyGradCube)
    out = io.StringIO()
    assert run_check(registry=reg, out=out) == 0
    lines = out.getvalue().splitlines()
    warnings = [line for line in lines if line.startswith("warning")]
    assert len(warnings) == 1 and warnings[0].split()[1] == "np_cube"
    assert "no formula" in warnings[0] and "formula = " in warnings[0]
    assert lines[-1] == "2 passed, 0 failed, 0 without samples, 1 without a formula (warning)"


def test_list_formulas_shows_each_loaded_op_s_card() -> None:
    from minigrad.cli.plugins import run_list

    reg = _registry(cube=Cube, np_cube=NumpyGradCube)
    out = io.StringIO()
    assert run_list(registry=reg, out=out, formulas=True) == 0
    section = out.getvalue().split("Formulas (derivative cards):\n", 1)[1].splitlines()
    assert section == [
        f"  cube     {Cube.formula}",
        "  np_cube  (none: the op declares no formula)",
    ]


# --------------------------------------------------------------------------- gradient dtypes


class ComplexGrad(mg.Op):
    """Identity whose backward returns a complex gradient for a real input (lossy)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.data.astype(np.complex64)

    @staticmethod
    def sample_inputs():
        return [((np.array([1.0, 2.0], dtype=np.float32),), {})]


def test_check_and_the_engine_refuse_the_same_lossy_gradient() -> None:
    reg = _registry(complex_grad=ComplexGrad)
    x = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="complex64 for input 0 of dtype float32") as runtime:
        reg.ops.complex_grad(x).sum().backward()
    status, detail = check_op(reg.ops.complex_grad)
    assert status == "FAIL"
    assert str(runtime.value).split(": backward returned", 1)[1] in detail
