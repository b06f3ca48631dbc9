"""``python -m minigrad plugins check``: what it reports for ops that are only partly right."""

from __future__ import annotations

import io

import numpy as np
from helpers import Cube, DetachedCube, NumpyGradCube, entry

from minigrad.cli.plugins import check_op, run_check
from minigrad.plugins import Registry


class DetachedCubeWithSamples(DetachedCube):
    @staticmethod
    def sample_inputs():
        return [((np.array([0.5, 1.5]),), {})]


def _registry(**ops) -> Registry:
    reg = Registry(entry_points_fn=list)
    for name, cls in ops.items():
        reg.register_op(name, cls)
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
