"""Second derivatives through 0-d and size-1 intermediates, for every core op, against PyTorch.

A reduction feeds each op (``s = (x * x).sum() + 0.5``, 0-d, or with ``keepdims`` of shape
(1, 1)); the op's output goes into ``(y * y).sum()``. numpy returns *scalars* for ufuncs on
0-d arrays; an engine that lost the link between a saved scalar and the op's output Tensor got
these second derivatives wrong (or disconnected) without any error.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

torch = pytest.importorskip("torch")


def _cases(lib: str):
    """name -> f(s, o) for the library ``lib`` ("mg" or "torch"); s, o > 0, same shape."""
    if lib == "mg":
        m = mg
        cat = lambda ts: mg.concatenate([t.reshape(1) for t in ts])  # noqa: E731
        stk = lambda ts: mg.stack(ts)  # noqa: E731
        pad = lambda s: mg.pad(s.reshape(1), [(1, 1)])  # noqa: E731
        mx, mn = mg.maximum, mg.minimum
        clip = lambda s: mg.clip(s, 0.6, 50.0)  # noqa: E731
        red = {
            "sum": lambda t: t.sum(),
            "mean": lambda t: t.mean(),
            "max": lambda t: t.max(),
            "min": lambda t: t.min(),
        }
        expand = lambda s: s.expand((3, *s.shape))  # noqa: E731
        where = lambda s, o: mg.where(s > o, s * s, o * s)  # noqa: E731
    else:
        m = torch
        cat = lambda ts: torch.cat([t.reshape(1) for t in ts])  # noqa: E731
        stk = lambda ts: torch.stack(ts)  # noqa: E731
        pad = lambda s: torch.nn.functional.pad(s.reshape(1), (1, 1))  # noqa: E731
        mx, mn = torch.maximum, torch.minimum
        clip = lambda s: torch.clamp(s, 0.6, 50.0)  # noqa: E731
        red = {
            "sum": lambda t: t.sum(),
            "mean": lambda t: t.mean(),
            "max": lambda t: t.amax(),
            "min": lambda t: t.amin(),
        }
        expand = lambda s: s.expand((3, *s.shape))  # noqa: E731
        where = lambda s, o: torch.where(s > o, s * s, o * s)  # noqa: E731
    cases = {
        "exp": lambda s, o: m.exp(s),
        "log": lambda s, o: m.log(s),
        "sqrt": lambda s, o: m.sqrt(s),
        "abs": lambda s, o: m.abs(s - 1.7),
        "neg": lambda s, o: -(s * s),
        "pow_scalar": lambda s, o: s**3.0,
        "pow_tensor": lambda s, o: s**o,
        "rpow": lambda s, o: 2.0**s,
        "add": lambda s, o: s + o,
        "sub": lambda s, o: s - o * o,
        "mul": lambda s, o: s * o,
        "div": lambda s, o: s / o,
        "maximum": lambda s, o: mx(s * s, o),
        "minimum": lambda s, o: mn(s * s, o),
        "clip": lambda s, o: clip(s) * s,
        "where": where,
        "reshape": lambda s, o: (s * o).reshape(1, 1, 1),
        "transpose": lambda s, o: (s * o).reshape(1, 1).T,
        "expand": lambda s, o: expand(s * o),
        "getitem": lambda s, o: (s * o).reshape(1)[0],
        "concatenate": lambda s, o: cat([s, o]),
        "stack": lambda s, o: stk([s, o]),
        "pad": lambda s, o: pad(s * o),
    }
    for name, fn in red.items():
        cases[name] = lambda s, o, fn=fn: fn((s * o).reshape(1, 1) * s)
    return cases


NAMES = sorted(_cases("mg"))
MATMUL_SHAPED = ["matmul"]


def _second_order(lib: str, name: str, xs: np.ndarray, os_: np.ndarray, keep: bool):
    """x -> s (reduction) -> op -> (y*y).sum(); returns (value, grad x, grad o, hvp x, hvp o)."""
    if lib == "mg":
        x = mg.tensor(xs, requires_grad=True)
        o = mg.tensor(os_.reshape((1, 1) if keep else ()), requires_grad=True)
        s = (x * x).sum(axis=(0, 1), keepdims=True) + 0.5 if keep else (x * x).sum() + 0.5
    else:
        x = torch.tensor(xs, requires_grad=True)
        o = torch.tensor(os_.reshape((1, 1) if keep else ()), requires_grad=True)
        s = (x * x).sum(dim=(0, 1), keepdim=True) + 0.5 if keep else (x * x).sum() + 0.5
    y = s @ o if name == "matmul" else _cases(lib)[name](s, o)
    loss = (y * y).sum()
    grad = mg.grad if lib == "mg" else torch.autograd.grad
    gx, go = grad(loss, [x, o], create_graph=True, allow_unused=True)
    v = np.linspace(0.5, -1.0, xs.size).reshape(xs.shape)
    second = (gx * (mg.tensor(v) if lib == "mg" else torch.tensor(v))).sum()
    if go is not None:
        second = second + go.sum() * 0.7
    hx, ho = grad(second, [x, o], allow_unused=True)
    return [_numpy(a) for a in (loss, gx, go, hx, ho)]


def _numpy(a: object) -> np.ndarray:
    if a is None:
        return np.zeros(())
    if isinstance(a, mg.Tensor):
        return np.asarray(a.data)
    return a.detach().numpy()  # type: ignore[attr-defined]


values = st.lists(
    st.floats(-1.5, 1.5, allow_nan=False).filter(lambda v: abs(v) > 0.05), min_size=4, max_size=4
)


# matmul needs at least 1-D operands, so it goes through a size-1 intermediate only
CASES = [(n, k) for n in NAMES + MATMUL_SHAPED for k in (False, True) if k or n != "matmul"]


@pytest.mark.parametrize(
    ("name", "keep"), CASES, ids=[f"{n}-{'size-1' if k else '0-d'}" for n, k in CASES]
)
@settings(max_examples=8, deadline=None)
@given(xs=values, o=st.floats(0.3, 2.0))
def test_second_derivative_through_small_intermediate_matches_torch(
    name: str, keep: bool, xs: list[float], o: float
) -> None:
    x = np.array(xs).reshape(2, 2)
    with np.errstate(all="ignore"):
        got = _second_order("mg", name, x, np.array(o), keep)
    want = _second_order("torch", name, x, np.array(o), keep)
    labels = ["value", "grad x", "grad o", "second x", "second o"]
    for label, g, w in zip(labels, got, want):
        np.testing.assert_allclose(
            np.broadcast_to(g, np.shape(w)), w, rtol=1e-7, atol=1e-9, err_msg=f"{name}: {label}"
        )


def test_second_derivative_of_sqrt_of_a_sum_matches_torch() -> None:
    x = mg.tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    (g,) = mg.grad(mg.sqrt((x * x).sum()), [x], create_graph=True)
    (h,) = mg.grad((g * mg.tensor(np.array([1.0, 0, 0]))).sum(), [x])
    v = x.data
    r = np.sqrt((v * v).sum())
    hessian_row0 = (np.eye(3)[0] - v[0] * v / r**2) / r  # d2|x| / dx0 dx  (torch: .710 .088 -.138)
    np.testing.assert_allclose(h.data, hessian_row0, rtol=1e-12)
    assert mg.grad(mg.exp(x.sum()), [x], create_graph=True)[0].requires_grad
