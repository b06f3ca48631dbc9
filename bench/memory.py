"""Peak memory of a LeNet-5 training step, each library in a fresh process.

    python -m bench.memory --lib minigrad --dtype float32     # prints one JSON object

The probe builds the model and the batch, runs one step on a batch of 2 (so that lazy imports
and one-time set-up are done), then records its resident memory, resets the kernel's
high-water mark (``/proc/self/clear_refs``) and runs a few full steps. ``step_peak_mib`` is the
high-water mark minus the memory before the steps: what training needs on top of the model,
data and libraries, including buffers kept between steps. For minigrad, ``tracemalloc_mib`` is
the peak of numpy's own allocations during one step (numpy reports them to tracemalloc;
PyTorch does not, so it has no such number).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .worker import Runner

STEPS = 3


def _status_kib(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_kib() -> float:
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm
    import resource

    scale = 1 / 1024 if sys.platform == "darwin" else 1  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def probe(lib: str, dtype: str, steps: int = STEPS) -> dict[str, Any]:
    """Measure one library in this process (call it in a fresh process)."""
    import numpy as np

    from . import lenet

    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    if lib == "minigrad":
        import minigrad as mg

        mg.set_num_threads(threads)  # as the timing processes do: per-thread scratch counts
        step, model = lenet.minigrad_step(dtype)
    else:
        import torch

        torch.set_num_threads(threads)
        weights = dict(lenet.minigrad_model(dtype).state_dict())
        step = lenet.torch_step(torch, weights, dtype)

    # One-time set-up on a batch of 2: imports, registries, first-call caches.
    small_images, small_labels = lenet.batch(dtype, 2)
    if lib == "minigrad":
        loss = model(mg.tensor(small_images))
        mg.nn.CrossEntropyLoss()(loss, mg.tensor(small_labels)).backward()
        model.zero_grad()
    else:
        m = lenet.torch_model(torch, weights)
        torch.nn.functional.cross_entropy(
            m(torch.tensor(small_images)), torch.tensor(small_labels)
        ).backward()
        del m

    before = _status_kib("VmRSS") or _peak_kib()
    reset = _reset_peak()
    for _ in range(steps):
        step()
    peak = _peak_kib()
    result: dict[str, Any] = {
        "lib": lib,
        "dtype": dtype,
        "baseline_mib": before / 1024,
        "peak_mib": peak / 1024,
        "step_peak_mib": (peak - before) / 1024,
        "hwm_reset": reset,
        "numpy": np.__version__,
    }
    if lib == "minigrad":
        import tracemalloc

        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        step()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_mib"] = (top - start) / 2**20
    return result


def run_memory(runner: Runner) -> None:
    """One fresh process per library and dtype; a record per dtype."""
    from .report import memory_record

    libs = ["minigrad"] + (["torch"] if runner.torch is not None else [])
    for dtype in runner.dtypes:
        results: dict[str, Any] = {}
        error = None
        for lib in libs:
            cmd = [sys.executable, "-m", "bench.memory", "--lib", lib, "--dtype", dtype]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=runner.root)
            if proc.returncode != 0:
                error = f"{lib} probe failed: {proc.stderr.strip().splitlines()[-1:]}"
                break
            results[lib] = json.loads(proc.stdout.strip().splitlines()[-1])
        rec = memory_record(
            "LeNet-5 training step, peak memory above baseline",
            runner.threads,
            dtype,
            results.get("minigrad"),
            results.get("torch"),
            error=error,
        )
        runner.add(rec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--lib", choices=["minigrad", "torch"], required=True)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.lib, args.dtype, args.steps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
