"""conv2d and max_pool2d, forward + backward through ``mg.ops``, next to PyTorch on the same data.

Every workload computes all gradients (input, weight, bias) from a fixed upstream gradient and
clears the gradients before the next call, in both libraries, so neither accumulates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import minigrad as mg

if TYPE_CHECKING:
    from .worker import Runner

# (x shape, weight shape, padding); the first two are LeNet-5's layers.
CONV_SHAPES = [
    ((64, 1, 28, 28), (6, 1, 5, 5), 0),
    ((64, 6, 12, 12), (16, 6, 5, 5), 0),
    ((32, 32, 32, 32), (64, 32, 3, 3), 1),
    ((16, 64, 56, 56), (64, 64, 3, 3), 1),
]
POOL_SHAPES = [(64, 16, 24, 24), (16, 64, 56, 56)]


def conv_flop(x_shape: tuple, w_shape: tuple, padding: int) -> float:
    """Floating-point operations of one conv2d forward + backward (input and weight gradients).

    Each of the three products (output, input gradient, weight gradient) is a matrix product of
    ``2 * N * O * C * kh * kw * OH * OW`` operations.

    >>> conv_flop((1, 1, 3, 3), (1, 1, 2, 2), 0)   # 3 products of 2*4*4
    96.0
    """
    n, c, h, w = x_shape
    o, _, kh, kw = w_shape
    oh, ow = h + 2 * padding - kh + 1, w + 2 * padding - kw + 1
    return 3.0 * 2 * n * o * c * kh * kw * oh * ow


def _shape_text(shape: tuple) -> str:
    return "(" + ",".join(str(s) for s in shape) + ")"


def _conv_cases(x_shape, w_shape, padding, dtype, torch) -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    out_hw = (x_shape[2] + 2 * padding - w_shape[2] + 1, x_shape[3] + 2 * padding - w_shape[3] + 1)
    g = rng.standard_normal((x_shape[0], w_shape[0], *out_hw)).astype(dtype)

    xm, wm, bm = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    gm = mg.tensor(g)

    def minigrad_step() -> None:
        xm.grad = wm.grad = bm.grad = None
        mg.ops.conv2d(xm, wm, bm, padding=padding).backward(gm)

    cases = {"minigrad": minigrad_step}
    if torch is not None:
        F = torch.nn.functional
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        gt = torch.tensor(g)

        def torch_step() -> None:
            xt.grad = wt.grad = bt.grad = None
            F.conv2d(xt, wt, bt, padding=padding).backward(gt)

        cases["torch"] = torch_step
    return cases


def _pool_cases(shape, dtype, torch) -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(dtype)
    xm, gm = mg.tensor(x, requires_grad=True), mg.tensor(g)

    def minigrad_step() -> None:
        xm.grad = None
        mg.ops.max_pool2d(xm, kernel_size=2, stride=2).backward(gm)

    cases = {"minigrad": minigrad_step}
    if torch is not None:
        xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g)

        def torch_step() -> None:
            xt.grad = None
            torch.nn.functional.max_pool2d(xt, 2, 2).backward(gt)

        cases["torch"] = torch_step
    return cases


# Ratio targets (1 thread, 2 threads) for float32 rows, by workload index.
CONV_TARGETS = {1: (1.3, 1.5), 2: (1.1, 1.2)}  # LeNet layer 2, the mid-sized layer
POOL_TARGETS = {0: (0.5, 0.5)}


def _target(targets: dict, index: int, dtype: str, threads: int) -> float | None:
    pair = targets.get(index)
    if pair is None or dtype != "float32" or threads not in (1, 2):
        return None
    return pair[threads - 1]


GEMM = 512  # the square matrix product that shows each library's BLAS speed


def _gemm_cases(dtype: str, torch: Any) -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((GEMM, GEMM)).astype(dtype) for _ in range(2))
    out = np.empty_like(a)
    cases = {"minigrad": lambda: np.matmul(a, b, out=out)}
    if torch is not None:
        at, bt = torch.tensor(a), torch.tensor(b)
        cases["torch"] = lambda: at @ bt
    return cases


def run_conv(runner: Runner) -> None:
    """The BLAS reference (numpy's GEMM next to PyTorch's), then conv2d forward + backward for
    every shape in ``CONV_SHAPES`` and every dtype."""
    for dtype in runner.dtypes:
        runner.time(
            "conv",
            f"GEMM {GEMM}x{GEMM}x{GEMM}: numpy @ (minigrad's BLAS) vs torch @",
            dtype,
            lambda dtype=dtype: _gemm_cases(dtype, runner.torch),
            flop=2.0 * GEMM**3,
        )
        for i, (x_shape, w_shape, padding) in enumerate(CONV_SHAPES):
            name = f"conv2d fwd+bwd {_shape_text(x_shape)}x{_shape_text(w_shape)}"
            if padding:
                name += f" pad {padding}"
            runner.time(
                "conv",
                name,
                dtype,
                lambda x_shape=x_shape, w_shape=w_shape, padding=padding, dtype=dtype: _conv_cases(
                    x_shape, w_shape, padding, dtype, runner.torch
                ),
                flop=conv_flop(x_shape, w_shape, padding),
                target=_target(CONV_TARGETS, i, dtype, runner.threads),
            )


def run_pool(runner: Runner) -> None:
    """max_pool2d 2x2 stride 2, forward + backward, for every shape in ``POOL_SHAPES``."""
    for dtype in runner.dtypes:
        for i, shape in enumerate(POOL_SHAPES):
            runner.time(
                "pool",
                f"max_pool2d 2x2/2 fwd+bwd {_shape_text(shape)}",
                dtype,
                lambda shape=shape, dtype=dtype: _pool_cases(shape, dtype, runner.torch),
                target=_target(POOL_TARGETS, i, dtype, runner.threads),
            )
