"""One dtype rule for every shipped CNN op: float16/32/64 in, the same dtype out; integer, bool
and complex data inputs raise a TypeError naming the op, the argument and the dtype. sigmoid and
tanh, like torch.sigmoid and torch.tanh, take integer and bool inputs and give float32."""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

import numpy as np
import pytest

import minigrad as mg

SHIPPED = sorted(
    (ep.name, ep.load())
    for ep in entry_points(group="minigrad.ops")
    if ep.value.startswith("layers_plugins.")
)
NAMES = [name for name, _ in SHIPPED]
# Arguments that are labels, not data: log_loss takes integer and bool labels too.
LABELS = {("log_loss", 1)}
# Elementwise functions that PyTorch also offers for integer tensors: int and bool give float32.
PROMOTING = {"sigmoid", "tanh"}
BAD = {
    "int64": lambda a: np.round(a * 4).astype(np.int64),
    "int32": lambda a: np.round(a * 4).astype(np.int32),
    "bool": lambda a: a > 0,
    "complex128": lambda a: a + 0.5j,
    "complex64": lambda a: (a + 0.5j).astype(np.complex64),
}


def test_every_shipped_op_is_covered():
    assert len(SHIPPED) == 31 and {"conv2d", "max_pool2d", "softmax", "log_loss"} <= set(NAMES)


def _float_positions(args) -> list[int]:
    return [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _cases():
    for name, cls in SHIPPED:
        args, attrs = cls.sample_inputs()[0]
        for pos in _float_positions(args):
            for dtype in BAD:
                yield pytest.param(name, args, attrs, pos, dtype, id=f"{name}-arg{pos}-{dtype}")


def _call(name, args, attrs):
    return getattr(mg.ops, name)(*[mg.as_tensor(np.asarray(a)) for a in args], **attrs)


@pytest.mark.parametrize("name, args, attrs, pos, dtype", list(_cases()))
def test_integer_bool_and_complex_inputs_are_rejected_by_name(name, args, attrs, pos, dtype):
    args = list(args)
    if (name, pos) in LABELS and not dtype.startswith("complex"):
        args[pos] = (args[pos] > 0.5).astype(dtype)  # 0/1 labels may be integers or bools
        _call(name, args, attrs)
        return
    args[pos] = BAD[dtype](args[pos])
    if name in PROMOTING and not dtype.startswith("complex"):
        assert _call(name, args, attrs).dtype == np.float32
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: nothing is cast on the way
        with pytest.raises(TypeError) as info:
            _call(name, args, attrs)
    message = str(info.value)
    assert message.startswith(f"{name}: "), message
    assert f"has dtype {dtype}" in message
    if (name, pos) not in LABELS:
        assert "float16, float32 or float64" in message


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_each_float_dtype_is_kept_forward_and_backward(name, dtype):
    cls = dict(SHIPPED)[name]
    args, attrs = cls.sample_inputs()[0]
    floats = set(_float_positions(args))
    inputs = [
        mg.tensor(a.astype(dtype), requires_grad=True) if i in floats else mg.as_tensor(a)
        for i, a in enumerate(args)
    ]
    with np.errstate(all="ignore"):  # float16 overflows in the finite-difference-free path
        y = getattr(mg.ops, name)(*inputs, **attrs)
        assert y.dtype == dtype
        grads = mg.grad(y.sum(), [inputs[i] for i in sorted(floats)])
    assert all(g.dtype == dtype for g in grads)


@pytest.mark.parametrize("name", sorted(PROMOTING))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_inputs_of_sigmoid_and_tanh_give_float32_as_in_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    x = np.array([[-3, -1, 0], [1, 2, 7]]).astype(dtype)
    y = getattr(mg.ops, name)(mg.tensor(x))
    ref = getattr(torch, name)(torch.from_numpy(x))
    assert y.dtype == np.float32 and ref.dtype == torch.float32
    np.testing.assert_allclose(y.data, ref.numpy(), rtol=2e-7, atol=0)


def test_float16_conv_and_pool_values_match_float64():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6))
    w = rng.standard_normal((4, 3, 3, 3))

    def run(dtype):
        y = mg.ops.conv2d(mg.tensor(x.astype(dtype)), mg.tensor(w.astype(dtype)), padding=1)
        return y, mg.ops.max_pool2d(y, kernel_size=2)

    (y16, p16), (y64, p64) = run(np.float16), run(np.float64)
    assert y16.dtype == p16.dtype == np.float16
    np.testing.assert_allclose(y16.data, y64.data, rtol=0.02, atol=0.05)
    np.testing.assert_allclose(p16.data, p64.data, rtol=0.02, atol=0.05)


def test_mixed_float_widths_follow_numpy_promotion():
    x = mg.tensor(np.ones((1, 1, 3, 3), dtype=np.float32))
    w = mg.tensor(np.ones((1, 1, 2, 2), dtype=np.float64), requires_grad=True)
    y = mg.ops.conv2d(x, w)
    assert y.dtype == np.float64
    (gw,) = mg.grad(y.sum(), [w])
    assert gw.dtype == np.float64


def test_dtype_rule_is_documented_on_every_op():
    import layers_plugins

    assert "float16" in layers_plugins.__doc__ and "complex" in layers_plugins.__doc__
    for name, cls in SHIPPED:
        assert "float16, float32 or float64" in (cls.__doc__ or "") + (
            __import__(cls.__module__, fromlist=["_"]).__doc__ or ""
        ), name
