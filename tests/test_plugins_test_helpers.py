"""The shared test helpers must catch what they promise to catch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import NumpyGradCube, WrongGrad, compare_with_torch, entry, require_ops, shipped_ops

import minigrad as mg
import minigrad.plugins


def _x() -> np.ndarray:
    return np.random.default_rng(0).uniform(0.5, 1.5, (2, 3))


def test_compare_with_torch_accepts_matching_functions() -> None:
    torch = pytest.importorskip("torch")
    mask = np.array([[True, False, True], [False, True, True]])
    compare_with_torch(
        lambda x, w, m: mg.where(m, mg.exp(x) * w, x * x).sum(axis=0),
        lambda x, w, m: torch.where(m, torch.exp(x) * w, x * x).sum(dim=0),
        _x(),
        _x()[::-1].copy(),
        mask,  # a constant: passed unchanged, never differentiated
    )


def test_compare_with_torch_catches_a_wrong_first_derivative() -> None:
    from minigrad.autograd import call_op

    with pytest.raises(AssertionError, match=r"first order: gradient of input 0"):
        compare_with_torch(lambda x: call_op(WrongGrad, x), lambda x: x * x, _x())


def test_compare_with_torch_catches_a_backward_outside_the_graph() -> None:
    from minigrad.autograd import call_op

    ours = lambda x: call_op(NumpyGradCube, x)  # noqa: E731
    compare_with_torch(ours, lambda x: x**3, _x(), order=1)  # first order is right
    with pytest.raises(AssertionError, match="second order"):
        compare_with_torch(ours, lambda x: x**3, _x(), order=2)


def test_compare_with_torch_checks_every_dtype_asked_for() -> None:
    with pytest.raises(AssertionError, match=r"\(float32\) output 0: dtype float64"):
        compare_with_torch(
            lambda x: mg.tensor(x.data.astype(np.float64)) * 2, lambda x: x * 2, _x()
        )
    compare_with_torch(lambda x: x * 2, lambda x: x * 2, _x(), dtypes=("float64",))


# --------------------------------------------------------------------------- require_ops


@pytest.fixture
def default_registry_with():
    """Point mg.ops at the given entry points for one test, then restore the installed ones."""

    def swap(*items):
        mg.plugins.reset(entry_points_fn=lambda: list(items))

    yield swap
    mg.plugins.reset()


def test_require_ops_fails_when_a_shipped_op_is_broken(default_registry_with) -> None:
    assert "relu" in shipped_ops()
    default_registry_with(entry("relu", "layers_plugins_gone.activations:ReLU", "minigrad-cnn"))
    with pytest.raises(pytest.fail.Exception, match=r"ships with minigrad-cnn .* PluginLoadError"):
        require_ops("relu")


def test_require_ops_fails_when_a_shipped_op_is_missing(default_registry_with) -> None:
    default_registry_with()  # nothing installed
    with pytest.raises(pytest.fail.Exception, match=r"mg.ops.conv2d ships with minigrad-cnn"):
        require_ops("conv2d")


def test_require_ops_skips_for_an_optional_op_that_is_not_installed(default_registry_with) -> None:
    default_registry_with(entry("swish", "swish_layers_not_installed:Swish", "swish-layers"))
    with pytest.raises(pytest.skip.Exception, match="mg.ops.swish is not available"):
        require_ops("swish")
    with pytest.raises(pytest.skip.Exception, match="mg.ops.no_such_op is not available"):
        require_ops("no_such_op")


def test_every_shipped_op_loads_from_minigrad_cnn() -> None:
    names = sorted(shipped_ops())
    require_ops(*names)  # fails (never skips) if one of them is broken
    rows = {r.name: r for r in mg.plugins.available() if r.name in names}
    assert sorted(rows) == names
    for name, row in rows.items():
        assert (row.distribution, row.status) == ("minigrad-cnn", "loaded"), (name, row)
        assert row.entry_point == shipped_ops()[name]


def test_compare_with_torch_keeps_constants_out_of_the_gradients() -> None:
    torch = pytest.importorskip("torch")
    require_ops("log_loss")
    p = np.array([0.2, 0.7, 0.9])
    y = np.array([0.0, 1.0, 1.0])  # a float target: cast to each dtype, never differentiated
    compare_with_torch(
        lambda p, y: mg.ops.log_loss(p, y),
        lambda p, y: torch.nn.functional.binary_cross_entropy(p, y),
        p,
        y,
        constants=(1,),
    )
