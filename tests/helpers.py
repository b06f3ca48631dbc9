"""Helpers shared by several test files.

- :func:`require_ops` skips a test until optional plugin ops are installed, but FAILS when an op
  that minigrad-cnn ships is missing or broken (a broken shipped plugin never becomes a skip).
- :func:`compare_with_torch` compares a minigrad function with a PyTorch one: values, first and
  second order gradients, in float32 and float64.
- The test plugins (op classes and their sources for entry-point packages) are defined once,
  here, and imported by every test that needs one.
- :func:`run_tutorial` runs a tutorial script the way the tutorial tests do.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad as mg

# --------------------------------------------------------------------------- skip guards


REPO = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def shipped_ops() -> dict[str, str]:
    """The ops this repository ships (its ``minigrad.ops`` entry points): name -> value.

    Read from ``pyproject.toml``, not from what happens to be installed, so an op that should
    be there but is missing or broken is noticed.
    """
    import tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    return dict(meta["project"]["entry-points"]["minigrad.ops"])


def require_ops(*names: str) -> None:
    """Make sure the plugin ops a test needs can be used.

    An op that minigrad-cnn ships (see :func:`shipped_ops`) must work: if it cannot be loaded
    the test FAILS with the plugin's error. Any other op (an optional, third-party one) that
    is not installed skips the test.
    """
    for name in names:
        try:
            getattr(mg.ops, name)
        except Exception as e:
            if name in shipped_ops():
                pytest.fail(
                    f"mg.ops.{name} ships with minigrad-cnn ({shipped_ops()[name]}) but cannot be "
                    f"used: {type(e).__name__}: {e}",
                    pytrace=False,
                )
            if not isinstance(e, (AttributeError, ImportError)):
                raise
            pytest.skip(f"plugin op mg.ops.{name} is not available ({type(e).__name__}: {e})")


# --------------------------------------------------------------------------- PyTorch parity

#: default (rtol, atol) per dtype for :func:`compare_with_torch`
TORCH_TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-10)}


def _tolerance(value: float | dict[str, float] | None, dtype: str, which: int) -> float:
    if value is None:
        return TORCH_TOLERANCES[dtype][which]
    return value[dtype] if isinstance(value, dict) else value


def _as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare_with_torch(
    mg_fn: Callable[..., Any],
    torch_fn: Callable[..., Any],
    *arrays: Any,
    dtypes: Sequence[str] = ("float32", "float64"),
    order: int = 2,
    atol: float | dict[str, float] | None = None,
    rtol: float | dict[str, float] | None = None,
    seed: int = 0,
    constants: Sequence[int] = (),
) -> None:
    """Assert that ``mg_fn`` computes what ``torch_fn`` computes, up to ``order`` derivatives.

    ``arrays`` are numpy arrays (or numbers). Floating ones are cast to each dtype of
    ``dtypes`` and differentiated; the others (integer targets, boolean masks) are passed
    unchanged as constants. ``mg_fn`` gets minigrad Tensors, ``torch_fn`` torch tensors, in
    the same order; both return one tensor or a tuple of them.

    - order 0: output values and dtypes;
    - order 1: the gradients of ``L = sum(c1 * y + c2 * y * y)`` (fixed random ``c1``, ``c2``)
      with respect to every floating input, and their dtypes;
    - order 2: the Hessian-vector products ``grad(sum(v * dL/dx))``: the squared term makes
      the cotangent depend on the inputs, so the op's backward must be differentiable in both
      its inputs and its incoming gradient (double backward).

    ``constants``: positions of floating arrays to cast but not differentiate (a float target
    of a loss, for instance). ``atol`` / ``rtol`` are numbers or ``{"float32": ...,
    "float64": ...}``; defaults in :data:`TORCH_TOLERANCES`. Skips when torch is not installed.

    >>> compare_with_torch(lambda x: mg.exp(x) * x, lambda x: x.exp() * x, [0.5, -1.0])
    """
    torch = pytest.importorskip("torch")
    for dtype in dtypes:
        tol = {"rtol": _tolerance(rtol, dtype, 0), "atol": _tolerance(atol, dtype, 1)}
        args = (torch, mg_fn, torch_fn, arrays, np.dtype(dtype), order, tol, seed, constants)
        _compare_one_dtype(*args)


def _compare_one_dtype(torch, mg_fn, torch_fn, arrays, dtype, order, tol, seed, constants):
    rng = np.random.default_rng(seed)
    cast = [np.asarray(a) for a in arrays]
    is_float = [a.dtype.kind == "f" for a in cast]
    cast = [a.astype(dtype) if f else a for a, f in zip(cast, is_float)]
    floating = [f and i not in constants for i, f in enumerate(is_float)]
    xs = [mg.tensor(a, requires_grad=f) for a, f in zip(cast, floating)]
    ts = [torch.tensor(a, requires_grad=bool(f)) for a, f in zip(cast, floating)]
    ys, tys = _as_list(mg_fn(*xs)), _as_list(torch_fn(*ts))
    where = f"({dtype.name})"
    assert len(ys) == len(tys), f"{where} {len(ys)} outputs, torch gives {len(tys)}"
    for k, (y, ty) in enumerate(zip(ys, tys)):
        assert y.shape == tuple(ty.shape), f"{where} output {k}: shape {y.shape} vs {ty.shape}"
        assert y.dtype == dtype or y.dtype.kind != "f", f"{where} output {k}: dtype {y.dtype}"
        expected = ty.detach().numpy()
        np.testing.assert_allclose(y.data, expected, **tol, err_msg=f"{where} output {k} value")
    diff = [i for i, f in enumerate(floating) if f]
    if order < 1 or not diff:
        return
    live = [(y, ty) for y, ty in zip(ys, tys) if y.requires_grad]
    cs = [
        (rng.standard_normal(y.shape).astype(dtype), rng.standard_normal(y.shape).astype(dtype))
        for y, _ in live
    ]
    loss = sum((mg.tensor(a) * y + mg.tensor(b) * y * y).sum() for (y, _), (a, b) in zip(live, cs))
    tloss = sum(
        (torch.tensor(a) * ty + torch.tensor(b) * ty * ty).sum()
        for (_, ty), (a, b) in zip(live, cs)
    )
    inputs, tinputs = [xs[i] for i in diff], [ts[i] for i in diff]
    grads = mg.grad(loss, inputs, create_graph=order >= 2, allow_unused=True)
    tgrads = torch.autograd.grad(tloss, tinputs, create_graph=order >= 2, allow_unused=True)
    _assert_grads_close(grads, tgrads, [cast[i] for i in diff], diff, tol, f"{where} first order")
    if order < 2:
        return
    vs = [rng.standard_normal(cast[i].shape).astype(dtype) for i in diff]
    linked = [k for k, tg in enumerate(tgrads) if tg is not None and tg.requires_grad]
    cut = [diff[k] for k in linked if grads[k] is None or not grads[k].requires_grad]
    assert not cut, (
        f"{where} second order: the gradient of input(s) {cut} is a constant in minigrad but "
        "depends on the inputs in torch (is a backward computed outside the graph, in numpy?)"
    )
    if not linked:
        return
    pairs = [(grads[k], vs[k]) for k in linked]
    tpairs = [(tgrads[k], vs[k]) for k in linked]
    try:
        hvp = mg.grad(sum((g * mg.tensor(v)).sum() for g, v in pairs), inputs, allow_unused=True)
    except Exception as e:
        raise AssertionError(f"{where} second order (double backward) failed: {e}") from e
    thvp = torch.autograd.grad(
        sum((g * torch.tensor(v)).sum() for g, v in tpairs), tinputs, allow_unused=True
    )
    _assert_grads_close(hvp, thvp, [cast[i] for i in diff], diff, tol, f"{where} second order")


def _assert_grads_close(grads, tgrads, arrays, positions, tol, what: str) -> None:
    for k, g, tg, a in zip(positions, grads, tgrads, arrays):
        ours = np.zeros(a.shape, a.dtype) if g is None else g.data
        theirs = np.zeros(a.shape, a.dtype) if tg is None else tg.detach().numpy()
        if g is not None:
            assert g.shape == a.shape, f"{what}: gradient of input {k} has shape {g.shape}"
            assert g.dtype == a.dtype, f"{what}: gradient of input {k} has dtype {g.dtype}"
        np.testing.assert_allclose(ours, theirs, **tol, err_msg=f"{what}: gradient of input {k}")


# --------------------------------------------------------------------------- test plugins
# Each test plugin is defined once, here. Tests call the classes directly, or write them into
# a module (entry-point tests) with plugin_source(), which copies these very definitions.

PLUGIN_HEADER = "import numpy as np\nimport minigrad as mg\n"


class Cube(mg.Op):
    """x ** power, elementwise (a test op)."""

    formula = "dx = dy * power * x ** (power - 1)"

    @staticmethod
    def forward(ctx, x, *, power=3):
        ctx.save_for_backward(x)
        return x**power

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.attrs["power"]
        return grad * p * x ** (p - 1)

    @staticmethod
    def sample_inputs():
        return [((np.array([0.5, -1.5, 2.0]),), {}), ((np.array([[1.0, 2.0]]),), {"power": 2})]


class Half(mg.Op):
    """x / 2."""

    @staticmethod
    def forward(ctx, x):
        return x / 2

    @staticmethod
    def backward(ctx, grad):
        return grad / 2


class Double(mg.Op):
    """2 x."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class WrongGrad(mg.Op):
    """x * x with a wrong gradient (x instead of 2 x): every check must report it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 x

    @staticmethod
    def sample_inputs():
        return [((np.array([1.0, 2.0]),), {})]


class NumpyGradCube(mg.Op):
    """x ** 3 whose backward is computed in numpy: right to first order, not differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.data * 3.0 * x.data * x.data  # plain arrays: the graph ends here

    @staticmethod
    def sample_inputs():
        return [((np.array([0.5, -1.5, 2.0]),), {})]


class DetachedCube(mg.Op):
    """x ** 3 with the right first derivative computed from a saved copy (a constant)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x.copy())
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors  # a copy, so a constant: the graph is cut here
        return grad * 3.0 * x * x


def fresh(cls: type) -> type:
    """A new subclass of a test plugin: registering it never changes the shared definition.

    (The registry names a nameless class after its op and records where it came from.)
    """
    return type(cls.__name__, (cls,), {"__doc__": cls.__doc__})


def plugin_source(*classes: type) -> str:
    """Module source defining ``classes`` exactly as above (for entry-point test packages)."""
    import inspect

    return PLUGIN_HEADER + "\n\n" + "\n\n".join(inspect.getsource(c) for c in classes)


#: Cube and Half: a plugin module with a working op (with an attribute) and a plain one
CUBE_SOURCE = plugin_source(Cube, Half)
#: Cube and Double
GOOD_SOURCE = plugin_source(Cube, Double)
#: WrongGrad only: `plugins check` must report it
WRONG_GRAD_SOURCE = plugin_source(WrongGrad)


class FakeDist:
    """Stands in for importlib.metadata.Distribution: a name and a version."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version


def entry(name: str, value: str, dist: str = "fake-layers", version: str = "1.0") -> tuple:
    """An ``(EntryPoint, dist)`` pair for ``Registry(entry_points_fn=...)``."""
    from importlib.metadata import EntryPoint

    return (EntryPoint(name, value, "minigrad.ops"), FakeDist(dist, version))


def counting(items: list) -> Callable[[], list]:
    """An entry-point source that counts how often it is read."""
    calls = []

    def fn():
        calls.append(1)
        return list(items)

    fn.calls = calls
    return fn


# --------------------------------------------------------------------------- tutorials


def run_tutorial(
    name: str,
    tmp_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    args: Sequence[str] | None = None,
) -> tuple[subprocess.CompletedProcess, Path]:
    """Run ``tutorials/<name>`` in ``tmp_path`` in fast mode; return the process and its out dir.

    The tutorial writes under ``tmp_path / "out"`` (``MINIGRAD_TUTORIAL_OUT``); no other
    ``MINIGRAD_*`` variable of this environment reaches it, and ``env`` adds or overrides
    variables. ``args`` replaces the interpreter's arguments (the script's path by default),
    e.g. ``["-c", code]`` to run the tutorial from a wrapper.
    """
    out = tmp_path / "out"
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    run_env.update(MINIGRAD_FAST="1", MINIGRAD_TUTORIAL_OUT=str(out), PYTHONDONTWRITEBYTECODE="1")
    run_env.update(env or {})
    argv = [sys.executable, *(args if args is not None else [str(REPO / "tutorials" / name)])]
    proc = subprocess.run(
        argv, cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=timeout
    )
    return proc, out


def count_walks_and_passes(monkeypatch) -> dict[str, int]:
    """Count calls of the graph walk and of the engine's backward loop, wherever the graph
    modules bound them."""
    from minigrad.graph import trace

    calls = {"walk": 0, "traverse": 0}
    real_walk, real_traverse = trace.walk, trace.traverse

    def walk(root):
        calls["walk"] += 1
        return real_walk(root)

    def traverse(*args, **kwargs):
        calls["traverse"] += 1
        return real_traverse(*args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("minigrad.graph"):
            if getattr(module, "walk", None) is real_walk:
                monkeypatch.setattr(module, "walk", walk)
            if getattr(module, "traverse", None) is real_traverse:
                monkeypatch.setattr(module, "traverse", traverse)
    return calls
