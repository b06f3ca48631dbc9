"""What the engine's array fast path saves: first-order backward with and without it.

``python bench/array_backward.py`` times the overhead workloads (``(a*b + a).sum().backward()``
on 3x3 tensors, and 50 rounds of ``c = c * b + a`` then ``sum().backward()``) and a LeNet-5
training step (batch 64), each with the arithmetic ops' ``_array_backward`` (the engine's
default) and with it switched off, so that their Tensor ``backward`` runs as unrecorded op
calls. Runs alternate in one process; the minimum over many samples is reported, per op for
the overhead workloads. A ratio above 1 is what the fast path saves.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":  # run as a script: one thread, and the repository on the path
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import minigrad as mg
from bench.lenet import minigrad_step
from minigrad.functional import CORE_OPS

FAST = {op: op._array_backward for op in CORE_OPS if op._array_backward is not None}


def _switch(on: bool) -> None:
    for op, fn in FAST.items():
        op._array_backward = fn if on else None


def workloads() -> dict[str, tuple[Callable[[], object], int]]:
    """name -> (one call, ops per call)."""
    rng = np.random.default_rng(0)
    a = mg.tensor(rng.random((3, 3), dtype=np.float32), requires_grad=True)
    b = mg.tensor(rng.random((3, 3), dtype=np.float32), requires_grad=True)

    def tiny() -> None:
        a.grad = b.grad = None
        (a * b + a).sum().backward()

    def chain() -> None:
        a.grad = b.grad = None
        c = a
        for _ in range(50):
            c = c * b + a
        c.sum().backward()

    step, _ = minigrad_step("float32")
    return {
        "tiny (us/op)": (tiny, 3),
        "100-op chain (us/op)": (chain, 101),
        "LeNet step (ms)": (step, -1),
    }


def best(fn: Callable[[], object], seconds: float) -> float:
    fn()
    out = float("inf")
    end = time.perf_counter() + seconds
    gc.disable()
    try:
        while time.perf_counter() < end:
            t = time.perf_counter()
            fn()
            out = min(out, time.perf_counter() - t)
    finally:
        gc.enable()
    return out


def main(seconds: float = 1.0, rounds: int = 3) -> int:
    mg.set_num_threads(1)
    print(f"{'workload':24s} {'with':>9s} {'without':>9s} {'saves':>6s}")
    for name, (fn, ops) in workloads().items():
        times = {True: float("inf"), False: float("inf")}
        for _ in range(rounds):
            for on in (True, False):
                _switch(on)
                times[on] = min(times[on], best(fn, seconds / rounds))
        _switch(True)
        scale = 1e6 / ops if ops > 0 else 1e3
        print(
            f"{name:24s} {times[True] * scale:9.2f} {times[False] * scale:9.2f}"
            f" {times[False] / times[True]:5.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
