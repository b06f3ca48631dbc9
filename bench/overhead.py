"""Per-op overhead of the engine on tiny tensors, minigrad next to PyTorch CPU in one run.

    python bench/overhead.py            # or: python -m bench.overhead; also part of python -m bench

Times ``c = a * b + a; c.sum().backward()`` on (3, 3) float32 tensors (3 ops forward and
backward) and a chain of 1,000 multiplications forward + backward, then prints microseconds
per op and the ratio minigrad / PyTorch (below 1 means minigrad is faster).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __name__ == "__main__":  # run as a script: one thread, and the repository on the path
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import minigrad as mg

if TYPE_CHECKING:
    from bench.worker import Runner

CHAIN = 1000
# Iterations of ``c = c * b + a`` (two ops each) in the short chain.
SHORT = 50


def tiny_cases(torch: Any) -> dict[str, Callable[[], None]]:
    """``(a * b + a).sum().backward()`` on (3, 3) float32 leaves: 3 ops and their backward."""
    rng = np.random.default_rng(0)
    a_np, b_np = rng.random((2, 3, 3), dtype=np.float32)
    a = mg.tensor(a_np, requires_grad=True)
    b = mg.tensor(b_np, requires_grad=True)

    def ours() -> None:
        a.grad = b.grad = None
        (a * b + a).sum().backward()

    cases = {"minigrad": ours}
    if torch is not None:
        at = torch.tensor(a_np, requires_grad=True)
        bt = torch.tensor(b_np, requires_grad=True)

        def theirs() -> None:
            at.grad = bt.grad = None
            (at * bt + at).sum().backward()

        cases["torch"] = theirs
    return cases


def chain_cases(torch: Any, n: int = CHAIN) -> dict[str, Callable[[], None]]:
    """``n`` multiplications of a (3, 3) float32 tensor by a constant, summed, backward."""
    x = mg.tensor(np.ones((3, 3), dtype=np.float32), requires_grad=True)

    def ours() -> None:
        x.grad = None
        y = x
        for _ in range(n):
            y = y * 1.0001
        y.sum().backward()

    cases = {"minigrad": ours}
    if torch is not None:
        xt = torch.ones(3, 3, requires_grad=True)

        def theirs() -> None:
            xt.grad = None
            y = xt
            for _ in range(n):
                y = y * 1.0001
            y.sum().backward()

        cases["torch"] = theirs
    return cases


def short_chain_cases(torch: Any, n: int = SHORT) -> dict[str, Callable[[], None]]:
    """``c = c * b + a`` ``n`` times on (3, 3) float32 leaves (2n ops), then sum and backward."""
    rng = np.random.default_rng(1)
    a_np, b_np = rng.random((2, 3, 3), dtype=np.float32)
    a = mg.tensor(a_np, requires_grad=True)
    b = mg.tensor(b_np, requires_grad=True)

    def ours() -> None:
        a.grad = b.grad = None
        c = a
        for _ in range(n):
            c = c * b + a
        c.sum().backward()

    cases = {"minigrad": ours}
    if torch is not None:
        at = torch.tensor(a_np, requires_grad=True)
        bt = torch.tensor(b_np, requires_grad=True)

        def theirs() -> None:
            at.grad = bt.grad = None
            c = at
            for _ in range(n):
                c = c * bt + at
            c.sum().backward()

        cases["torch"] = theirs
    return cases


WORKLOADS = [
    ("tiny: a*b+a, sum, backward", 3, tiny_cases),
    (f"chain: {CHAIN:,} muls, sum, backward", CHAIN + 1, chain_cases),
    (f"100-op chain: c = c*b + a x{SHORT}, sum, backward", 2 * SHORT + 1, short_chain_cases),
]


def run_overhead(runner: Runner) -> None:
    """Every workload, float32; target: at most half of PyTorch's time per op."""
    for label, n_ops, factory in WORKLOADS:
        runner.time(
            "overhead",
            label,
            "float32",
            lambda factory=factory: factory(runner.torch),
            ops=n_ops,
            target=0.5,
        )


def main() -> None:
    """Print both workloads as a small table (one thread, 1 s per library and workload)."""
    from bench.timing import interleaved

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # the benchmark still reports minigrad's own numbers
        torch = None
    torch_version = getattr(torch, "__version__", "not installed")
    print(f"minigrad {mg.__version__}, numpy {np.__version__}, torch {torch_version}")
    print(f"{'workload':36} {'minigrad us/op':>15} {'torch us/op':>12} {'ratio':>7}")
    for label, n_ops, factory in WORKLOADS:
        t = interleaved(factory(torch), min_seconds=1.0)
        ours = t["minigrad"].min / n_ops * 1e6
        theirs = t["torch"].min / n_ops * 1e6 if "torch" in t else None
        pt = "-" if theirs is None else f"{theirs:.2f}"
        ratio = "-" if theirs is None else f"{ours / theirs:.2f}x"
        print(f"{label:36} {ours:>15.2f} {pt:>12} {ratio:>7}")


if __name__ == "__main__":
    main()
