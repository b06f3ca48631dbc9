"""Per-op overhead of the engine on tiny tensors, minigrad next to PyTorch CPU in one run.

    python bench/overhead.py            # or: python -m bench.overhead

Times ``c = a * b + a; c.sum().backward()`` on (3, 3) float32 tensors (3 ops forward and
backward) and a chain of 1,000 multiplications forward + backward, then prints microseconds
per op and the ratio minigrad / PyTorch (below 1 means minigrad is faster).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import minigrad as mg

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the benchmark still reports minigrad's own numbers
    torch = None


def best_time(fn: Callable[[], object], min_seconds: float = 1.0, rounds: int = 7) -> float:
    """Best per-call time over ``rounds`` rounds, each lasting about min_seconds/rounds."""
    fn()
    n, t = 1, 0.0
    while t < min_seconds / rounds / 4:
        n *= 2
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
    per_round = max(1, int(n * (min_seconds / rounds) / t))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            fn()
        best = min(best, (time.perf_counter() - start) / per_round)
    return best


def tiny_minigrad() -> Callable[[], None]:
    a = mg.tensor(np.random.rand(3, 3).astype(np.float32), requires_grad=True)
    b = mg.tensor(np.random.rand(3, 3).astype(np.float32), requires_grad=True)

    def step() -> None:
        c = a * b + a
        c.sum().backward()

    return step


def tiny_torch() -> Callable[[], None]:
    a = torch.rand(3, 3, requires_grad=True)
    b = torch.rand(3, 3, requires_grad=True)

    def step() -> None:
        c = a * b + a
        c.sum().backward()

    return step


def chain_minigrad(n: int) -> Callable[[], None]:
    x = mg.tensor(np.ones((3, 3), dtype=np.float32), requires_grad=True)

    def step() -> None:
        y = x
        for _ in range(n):
            y = y * 1.0001
        y.sum().backward()

    return step


def chain_torch(n: int) -> Callable[[], None]:
    x = torch.ones(3, 3, requires_grad=True)

    def step() -> None:
        y = x
        for _ in range(n):
            y = y * 1.0001
        y.sum().backward()

    return step


def run() -> list[dict]:
    """Measure both workloads; returns one record per workload."""
    rows = []
    cases = [
        ("tiny: a*b+a, sum, backward", 3, tiny_minigrad, tiny_torch),
        (
            "chain: 1,000 muls, sum, backward",
            1001,
            lambda: chain_minigrad(1000),
            lambda: chain_torch(1000),
        ),
    ]
    for label, n_ops, ours, theirs in cases:
        t_mg = best_time(ours())
        t_pt = best_time(theirs()) if torch is not None else None
        rows.append(
            {
                "workload": label,
                "ops": n_ops,
                "minigrad_us_per_op": t_mg / n_ops * 1e6,
                "torch_us_per_op": None if t_pt is None else t_pt / n_ops * 1e6,
                "ratio": None if t_pt is None else t_mg / t_pt,
            }
        )
    return rows


def main() -> None:
    torch_version = getattr(torch, "__version__", "not installed")
    print(f"minigrad {mg.__version__}, numpy {np.__version__}, torch {torch_version}")
    print(f"{'workload':36} {'minigrad us/op':>15} {'torch us/op':>12} {'ratio':>7}")
    for r in run():
        pt = "-" if r["torch_us_per_op"] is None else f"{r['torch_us_per_op']:.2f}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        print(f"{r['workload']:36} {r['minigrad_us_per_op']:>15.2f} {pt:>12} {ratio:>7}")


if __name__ == "__main__":
    main()
