"""leaky_relu, elu, gelu, silu, hardswish, hardsigmoid and softplus: hand-checked values, PyTorch
sweeps (values, gradients, second derivatives), finite-difference gradient and double-backward
checks in float64, the op contract, attribute errors and the nn modules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers_plugins.activations_piecewise import ELU, Hardsigmoid, Hardswish, LeakyReLU
from layers_plugins.activations_smooth import GELU, NormalCDF, SiLU, Softplus
from minigrad.testing import gradcheck, gradgradcheck, opcheck

OPS = {
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "silu": SiLU,
    "hardswish": Hardswish,
    "hardsigmoid": Hardsigmoid,
    "softplus": Softplus,
}
#: the points where each op's derivative jumps (finite differences are meaningless there)
KINKS = {"leaky_relu": (0.0,), "elu": (0.0,), "hardswish": (-3.0, 3.0), "hardsigmoid": (-3.0, 3.0)}


def f64(values, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def away_from_kinks(name: str, x: np.ndarray, attrs: dict, margin: float = 0.05) -> np.ndarray:
    kinks = list(KINKS.get(name, ()))
    if name == "softplus":
        kinks.append(attrs.get("threshold", 20.0) / attrs.get("beta", 1.0))
    for k in kinks:
        near = np.abs(x - k) < margin
        x = np.where(near, np.where(x >= k, k + margin, k - margin), x).astype(x.dtype)
    return x


def attr_strategy(name: str):
    if name == "leaky_relu":
        return st.fixed_dictionaries({"negative_slope": st.floats(-0.5, 2.0)})
    if name == "elu":
        return st.fixed_dictionaries({"alpha": st.floats(0.1, 3.0)})
    if name == "gelu":
        return st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})
    if name == "softplus":
        return st.fixed_dictionaries(
            {"beta": st.sampled_from([0.5, 1.0, 2.0]), "threshold": st.sampled_from([2.0, 20.0])}
        )
    return st.just({})


@st.composite
def cases(draw, dtype=np.float64, lo=-6.0, hi=6.0, name=None):
    name = name or draw(st.sampled_from(sorted(OPS)))
    attrs = draw(attr_strategy(name))
    width = 32 if dtype == np.float32 else 64
    x = draw(
        hnp.arrays(
            dtype,
            hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
            elements=st.floats(lo, hi, width=width),
        )
    )
    return name, attrs, away_from_kinks(name, x, attrs)


def torch_fn(name: str, attrs: dict, order: int = 1):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    if name == "hardsigmoid" and order == 2:
        # torch has no double backward for hardsigmoid: the same function spelled with clamp
        return lambda t: torch.clamp(t + 3, 0, 6) / 6
    return {
        "leaky_relu": lambda t: F.leaky_relu(t, attrs.get("negative_slope", 0.01)),
        "elu": lambda t: F.elu(t, attrs.get("alpha", 1.0)),
        "gelu": lambda t: F.gelu(t, approximate=attrs.get("approximate", "none")),
        "silu": F.silu,
        "hardswish": F.hardswish,
        "hardsigmoid": F.hardsigmoid,
        "softplus": lambda t: F.softplus(t, attrs.get("beta", 1.0), attrs.get("threshold", 20.0)),
    }[name]


# --------------------------------------------------------------------------- by hand


def test_values_by_hand():
    x = f64([-4.0, -1.0, 0.0, 1.0, 4.0])
    np.testing.assert_allclose(mg.ops.leaky_relu(x, negative_slope=0.1).data, [-0.4, -0.1, 0, 1, 4])
    e = math.e
    np.testing.assert_allclose(
        mg.ops.elu(x, alpha=2.0).data, [2 * (e**-4 - 1), 2 * (1 / e - 1), 0, 1, 4]
    )
    np.testing.assert_allclose(mg.ops.hardsigmoid(x).data, [0, 1 / 3, 0.5, 2 / 3, 1])
    np.testing.assert_allclose(mg.ops.hardswish(x).data, [0, -1 / 3, 0, 2 / 3, 4])
    phi1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))  # Phi(1)
    np.testing.assert_allclose(mg.ops.gelu(x).data[1:4], [-(1 - phi1), 0, phi1], rtol=1e-15)
    np.testing.assert_allclose(mg.ops.silu(x).data[3], 1 / (1 + 1 / e))
    np.testing.assert_allclose(mg.ops.softplus(x).data[2], math.log(2))


def test_derivatives_at_the_kinks_are_pytorchs():
    x = f64([-3.0, 0.0, 3.0])
    (g,) = mg.grad(mg.ops.hardswish(x).sum(), [x])
    np.testing.assert_allclose(g.data, [-0.5, 0.5, 1.5])
    (g,) = mg.grad(mg.ops.hardsigmoid(x).sum(), [x])
    np.testing.assert_allclose(g.data, [0.0, 1 / 6, 0.0])
    (g,) = mg.grad(mg.ops.leaky_relu(x, negative_slope=0.2).sum(), [x])
    np.testing.assert_allclose(g.data, [0.2, 0.2, 1.0])
    (g,) = mg.grad(mg.ops.elu(x, alpha=0.5).sum(), [x])
    np.testing.assert_allclose(g.data, [0.5 * math.exp(-3), 0.5, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_inputs_stay_finite_without_warnings(dtype):
    x = mg.tensor(np.array([-1e4, -50.0, 50.0, 1e4], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for name in OPS:
            y = getattr(mg.ops, name)(x)
            (g,) = mg.grad(y.sum(), [x])
            assert np.isfinite(y.data).all() and np.isfinite(g.data).all(), name
    np.testing.assert_array_equal(mg.ops.softplus(x).data[[0, 3]], [0.0, 1e4])
    np.testing.assert_array_equal(mg.ops.silu(x).data[[0, 3]], [0.0, 1e4])


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_output_dtype_is_input_dtype(name, dtype):
    x = mg.tensor(np.array([[-0.5, 1.5]], dtype=dtype), requires_grad=True)
    y = getattr(mg.ops, name)(x)
    assert y.dtype == dtype and y.shape == (1, 2)
    y.sum().backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("name", sorted(OPS))
def test_integer_input_is_refused_naming_the_op(name):
    with pytest.raises(TypeError, match=f"^{name}: x has dtype int64"):
        getattr(mg.ops, name)(mg.tensor([1, 2]))


@pytest.mark.parametrize(
    ("name", "attrs", "error", "message"),
    [
        (
            "leaky_relu",
            {"negative_slope": "0.1"},
            TypeError,
            "leaky_relu: negative_slope must be a real",
        ),
        (
            "leaky_relu",
            {"negative_slope": True},
            TypeError,
            "leaky_relu: negative_slope must be a real",
        ),
        ("elu", {"alpha": math.inf}, ValueError, "elu: alpha must be finite"),
        ("gelu", {"approximate": "erf"}, ValueError, "gelu: approximate must be 'none' or 'tanh'"),
        ("softplus", {"beta": 0}, ValueError, "softplus: beta must be non-zero"),
        ("softplus", {"threshold": None}, TypeError, "softplus: threshold must be a real"),
    ],
)
def test_bad_attributes_raise_naming_the_op(name, attrs, error, message):
    with pytest.raises(error, match=message):
        getattr(mg.ops, name)(mg.tensor([1.0]), **attrs)


def test_gelu_normal_cdf_companion_by_hand():
    x = f64([0.0, 1.0])
    y = mg.ops.normal_cdf(x)
    np.testing.assert_allclose(y.data, [0.5, 0.5 * (1 + math.erf(1 / math.sqrt(2)))])
    (g,) = mg.grad(y.sum(), [x])
    np.testing.assert_allclose(g.data, np.exp(-0.5 * x.data**2) / math.sqrt(2 * math.pi))
    assert gradgradcheck(mg.ops.normal_cdf, f64([-1.2, 0.3]))
    assert opcheck(NormalCDF, *NormalCDF.sample_inputs()[0][0])


# --------------------------------------------------------------------------- gradients


PER_OP = settings(max_examples=15, deadline=None)


@pytest.mark.parametrize("op", sorted(OPS))
@PER_OP
@given(data=st.data())
def test_gradcheck_and_gradgradcheck_float64(op, data):
    name, attrs, x = data.draw(cases(lo=-5.0, hi=5.0, name=op))

    def fn(t):
        return getattr(mg.ops, name)(t, **attrs)

    assert gradcheck(fn, f64(x))
    assert gradgradcheck(fn, f64(x))


@pytest.mark.parametrize("name", sorted(OPS))
def test_opcheck_on_sample_inputs(name):
    cls = OPS[name]
    for args, attrs in cls.sample_inputs():
        assert all(a.dtype == np.float64 for a in args)
        assert opcheck(cls, *args, **attrs)


# --------------------------------------------------------------------------- vs PyTorch

TOL = {"float32": 2e-5, "float64": 1e-10}
SECOND = {"float32": 1e-3, "float64": 1e-8}


def _check(name, attrs, x):
    dtype = x.dtype.name
    ours = lambda t: getattr(mg.ops, name)(t, **attrs)  # noqa: E731
    theirs = torch_fn(name, attrs)
    tol = TOL[dtype]
    if name == "hardsigmoid" and dtype == "float64":
        tol = 1e-7  # torch's backward multiplies by the float32 constant 1.0f / 6.0f
    compare_with_torch(ours, theirs, x, dtypes=(dtype,), order=1, rtol=tol, atol=tol)
    theirs = torch_fn(name, attrs, order=2)
    compare_with_torch(
        ours, theirs, x, dtypes=(dtype,), order=2, rtol=SECOND[dtype], atol=SECOND[dtype]
    )


@pytest.mark.parametrize("op", sorted(OPS))
@PER_OP
@given(data=st.data())
def test_matches_torch_float64(op, data):
    _check(*data.draw(cases(np.float64, -30.0, 30.0, name=op)))


@pytest.mark.parametrize("op", sorted(OPS))
@PER_OP
@given(data=st.data())
def test_matches_torch_float32(op, data):
    _check(*data.draw(cases(np.float32, -30.0, 30.0, name=op)))


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_matches_torch_on_a_grid(name):
    x = away_from_kinks(name, np.linspace(-8, 8, 41), {})
    _check(name, {}, x)


# --------------------------------------------------------------------------- modules

MODULES = [
    (mg.nn.LeakyReLU(0.2), "leaky_relu", {"negative_slope": 0.2}),
    (mg.nn.ELU(0.5), "elu", {"alpha": 0.5}),
    (mg.nn.GELU("tanh"), "gelu", {"approximate": "tanh"}),
    (mg.nn.SiLU(), "silu", {}),
    (mg.nn.Hardswish(), "hardswish", {}),
    (mg.nn.Hardsigmoid(), "hardsigmoid", {}),
    (mg.nn.Softplus(2.0, 10.0), "softplus", {"beta": 2.0, "threshold": 10.0}),
]


@pytest.mark.parametrize(("module", "name", "attrs"), MODULES, ids=[m[1] for m in MODULES])
def test_modules_call_their_op(module, name, attrs):
    x = mg.randn(2, 3, 4, 4).requires_grad_()
    y = module(x)
    assert y.op == name
    np.testing.assert_array_equal(y.data, getattr(mg.ops, name)(x, **attrs).data)
    assert not list(module.parameters())


def test_module_reprs_and_labels():
    assert repr(mg.nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(mg.nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    model = mg.nn.Sequential(mg.nn.Linear(2, 2), mg.nn.GELU(), mg.nn.Linear(2, 2), mg.nn.GELU())
    assert [m.label for m in model] == ["fc1", "gelu1", "fc2", "gelu2"]


def test_module_bad_arguments():
    with pytest.raises(ValueError, match="GELU: approximate must be"):
        mg.nn.GELU("fast")
    with pytest.raises(TypeError, match="LeakyReLU: negative_slope must be a real number"):
        mg.nn.LeakyReLU("0.1")
    with pytest.raises(ValueError, match="Softplus: beta must be non-zero"):
        mg.nn.Softplus(beta=0)
