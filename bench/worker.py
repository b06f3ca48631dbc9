"""One benchmark process: one thread count, every selected suite, results as JSON.

``python -m bench`` starts one of these per thread count, with the thread variables (and
``OPENBLAS_CORETYPE``) already in its environment, so that numpy and PyTorch load their
libraries configured. Run by hand only for debugging:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        python -m bench.worker --threads 1 --json /tmp/out.json --only conv
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .env import THREAD_VARS, cpu_flags, cpu_model

SUITES = (
    "conv", "pool", "lenet", "overhead", "graph", "memory", "demo", "playground", "forward"
)  # fmt: skip


class Runner:
    """Options shared by the suites, and the records they produce."""

    def __init__(
        self,
        threads: int,
        dtypes: list[str],
        min_seconds: float,
        torch: Any,
        min_samples: int = 5,
        echo: bool = True,
    ) -> None:
        self.threads = threads
        self.dtypes = dtypes
        self.min_seconds = min_seconds
        self.min_samples = min_samples
        self.torch = torch
        self.echo = echo
        self.records: list[dict] = []
        self.root = str(Path(__file__).resolve().parents[1])

    def add(self, rec: dict) -> None:
        from .report import line

        self.records.append(rec)
        if self.echo:
            print(line(rec), flush=True)

    def _measure(self, cases: Mapping[str, Callable[[], Any]]) -> dict:
        from .timing import interleaved

        timings = interleaved(cases, self.min_seconds, self.min_samples)
        return {name: t.as_dict() for name, t in timings.items()}

    def time(
        self,
        suite: str,
        name: str,
        dtype: str,
        factory: Callable[[], Mapping[str, Callable[[], Any]]],
        **fields: Any,
    ) -> None:
        """Time the cases ``factory()`` builds ("minigrad" and maybe "torch"); add a record."""
        from .report import time_record

        try:
            t = self._measure(factory())
        except Exception as exc:  # one broken workload must not hide the others
            traceback.print_exc()
            rec = time_record(suite, name, self.threads, dtype, None, None, error=repr(exc))
        else:
            rec = time_record(
                suite, name, self.threads, dtype, t["minigrad"], t.get("torch"), **fields
            )
        self.add(rec)

    def time_relative(
        self,
        suite: str,
        dtype: str,
        cases: Mapping[str, Callable[[], Any]],
        reference: str,
        labels: Mapping[str, str],
        targets: Mapping[str, float] | None = None,
    ) -> None:
        """Time minigrad-only cases, reporting each as a ratio to the ``reference`` case."""
        from .report import time_record

        targets = targets or {}
        try:
            t = self._measure(cases)
        except Exception as exc:
            traceback.print_exc()
            self.add(time_record(suite, labels[reference], self.threads, dtype, None, None,
                                 error=repr(exc)))  # fmt: skip
            return
        self.add(time_record(suite, labels[reference], self.threads, dtype, t[reference], None))
        for key in cases:
            if key != reference:
                self.add(
                    time_record(
                        suite,
                        labels[key],
                        self.threads,
                        dtype,
                        t[key],
                        None,
                        target=targets.get(key),
                        reference=(reference, t[reference]),
                    )
                )


def blas_libraries() -> list[dict[str, Any]]:
    """Every BLAS library loaded in this process, as threadpoolctl reports it (or [])."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]


def blas_info() -> str:
    """numpy's BLAS library, version and the kernels it picked (when it says)."""
    import numpy as np

    for lib in blas_libraries():
        arch = lib.get("architecture") or "?"
        return f"{lib.get('internal_api')} {lib.get('version')} ({arch} kernels)"
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        return "unknown"


# OpenBLAS kernel families that use AVX-512, the fastest on a CPU that has it.
AVX512_KERNELS = {"skylakex", "cooperlake", "sapphirerapids"}


def blas_warning(libraries: list[dict[str, Any]], flags: set[str]) -> str | None:
    """A warning when an OpenBLAS runs kernels slower than the CPU allows, else None.

    >>> blas_warning([{"internal_api": "openblas", "architecture": "Haswell"}], {"avx512f"})[:50]
    'warning: OpenBLAS runs its Haswell kernels on a CP'
    >>> blas_warning([{"internal_api": "openblas", "architecture": "SkylakeX"}], {"avx512f"})
    """
    for lib in libraries:
        arch = str(lib.get("architecture") or "")
        if lib.get("internal_api") != "openblas" or not arch:
            continue
        if "avx512f" in flags and arch.lower() not in AVX512_KERNELS:
            return (
                f"warning: OpenBLAS runs its {arch} kernels on a CPU with AVX-512; set "
                "OPENBLAS_CORETYPE=SkylakeX before numpy loads (bench/README.md)"
            )
    return None


def metadata(threads: int, torch: Any) -> dict[str, Any]:
    import numpy as np

    import minigrad as mg

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy BLAS": blas_info(),
        "BLAS libraries": "; ".join(
            f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture')} "
            f"({lib.get('num_threads')} threads, {Path(lib.get('filepath', '?')).name})"
            for lib in blas_libraries()
        )
        or "none found (threadpoolctl missing?)",
        "minigrad threads": mg.get_num_threads(),
        "torch": getattr(torch, "__version__", "not installed"),
        "minigrad": getattr(mg, "__version__", "?"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "thread variables": ", ".join(f"{v}={os.environ.get(v, '-')}" for v in THREAD_VARS),
        "load average at start": None if load is None else [round(x, 2) for x in load],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    import minigrad as mg

    mg.set_num_threads(args.threads)  # the CNN kernels' own threads, as torch.set_num_threads
    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            torch = None
    dtypes = args.dtype.split(",")
    runner = Runner(args.threads, dtypes, args.min_seconds, torch, args.min_samples)
    meta = metadata(args.threads, torch)
    only = args.only.split(",")
    print(f"-- {args.threads} thread(s): numpy BLAS {meta['numpy BLAS']}, torch {meta['torch']}, "
          f"load average {meta['load average at start']}", flush=True)  # fmt: skip
    print(f"   BLAS: {meta['BLAS libraries']}", flush=True)
    warning = blas_warning(blas_libraries(), cpu_flags())
    if warning:
        print(f"   {warning}", flush=True)
        meta["BLAS warning"] = warning
    from . import demo, forward_only, kernels, lenet, memory, overhead, playground

    suites = {
        "conv": kernels.run_conv,
        "pool": kernels.run_pool,
        "lenet": lenet.run_lenet,
        "overhead": overhead.run_overhead,
        "graph": lenet.run_graph,
        "memory": memory.run_memory,
        "demo": demo.run_demo,
        "playground": playground.run_playground,
        "forward": forward_only.run_forward,
    }
    for name in SUITES:
        if name in only:
            suites[name](runner)
    if hasattr(os, "getloadavg"):
        meta["load average at end"] = [round(x, 2) for x in os.getloadavg()]
    return {"meta": meta, "records": runner.records}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--dtype", default="float32,float64")
    parser.add_argument("--only", default=",".join(SUITES))
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--min-samples", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", required=True, help="where to write the results")
    args = parser.parse_args(argv)
    result = run(args)
    Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
