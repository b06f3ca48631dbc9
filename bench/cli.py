"""``python -m bench``: minigrad next to PyTorch CPU, one process per thread count.

Each thread count runs in a fresh process whose environment sets ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` (and ``OPENBLAS_CORETYPE`` when the CPU has
AVX-512) before numpy and PyTorch are imported. Results go to ``bench/results/latest.json`` and
``bench/results/latest.md``; see ``bench/README.md`` for how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .env import coretype_choice, worker_env
from .worker import SUITES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


def _csv(choices: tuple[str, ...], what: str):
    def parse(text: str) -> str:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(bad) or repr(text)}; choose from {', '.join(choices)}"
            )
        return ",".join(items)

    return parse


def _threads(text: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"--threads wants counts such as 1 or 1,2, got {text!r}")
    return values


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark minigrad against PyTorch CPU in one run; report ratios.",
    )
    p.add_argument("--threads", type=_threads, default=[1, 2], help="thread counts (default 1,2)")
    p.add_argument(
        "--dtype",
        type=_csv(("float32", "float64"), "dtype"),
        default="float32,float64",
        help="float32, float64 or both (default)",
    )
    p.add_argument(
        "--only",
        type=_csv(SUITES, "suite"),
        default=",".join(SUITES),
        help=f"comma-separated suites among {','.join(SUITES)} (default all)",
    )
    p.add_argument("--quick", action="store_true", help="short timings (0.2 s per workload)")
    p.add_argument(
        "--min-seconds",
        type=float,
        default=None,
        help="time spent per library and workload (default 1.0, 0.2 with --quick)",
    )
    p.add_argument("--no-torch", action="store_true", help="minigrad's numbers only")
    p.add_argument(
        "--no-coretype",
        action="store_true",
        help="leave OPENBLAS_CORETYPE as the environment has it, even on an AVX-512 CPU",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder (bench/results)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    min_seconds = args.min_seconds if args.min_seconds is not None else (0.2 if args.quick else 1.0)
    min_samples = 3 if args.quick else 5
    if args.no_coretype:
        current = os.environ.get("OPENBLAS_CORETYPE", "not set")
        coretype, why = None, f"OPENBLAS_CORETYPE {current} (--no-coretype: left as it is)"
    else:
        coretype, why = coretype_choice()
    print(f"bench: {why}", flush=True)

    runs = []
    started = time.time()
    for threads in args.threads:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            cmd = [
                sys.executable, "-m", "bench.worker",
                "--threads", str(threads),
                "--dtype", args.dtype,
                "--only", args.only,
                "--min-seconds", str(min_seconds),
                "--min-samples", str(min_samples),
                "--json", str(out),
            ]  # fmt: skip
            if args.no_torch:
                cmd.append("--no-torch")
            proc = subprocess.run(cmd, cwd=ROOT, env=worker_env(threads, coretype))
            if proc.returncode != 0 or not out.exists():
                print(f"bench: the {threads}-thread run failed (exit {proc.returncode})")
                return proc.returncode or 1
            runs.append(json.loads(out.read_text()))

    from .report import markdown, text_table

    records = [r for run in runs for r in run["records"]]
    meta = dict(runs[0]["meta"]) if runs else {}
    for key in ("threads", "thread variables", "load average at start", "load average at end"):
        meta.pop(key, None)
    meta["threads run"] = ",".join(str(t) for t in args.threads)
    meta["OPENBLAS_CORETYPE"] = why
    meta["load average"] = "; ".join(
        f"{r['meta']['threads']} thread(s): {r['meta'].get('load average at start')} -> "
        f"{r['meta'].get('load average at end')}"
        for r in runs
    )
    meta["seconds per library and workload"] = min_seconds
    meta["wall time"] = f"{time.time() - started:.0f} s"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps({"meta": meta, "records": records}, indent=1))
    (args.out / "latest.md").write_text(markdown(records, meta))
    print()
    print(text_table(records))
    missed = [r for r in records if r.get("met") is False]
    errors = [r for r in records if r.get("error")]
    print(
        f"\n{len(records)} rows, {len(missed)} above target, {len(errors)} errors; "
        f"written to {args.out / 'latest.json'} and {args.out / 'latest.md'}"
    )
    return 1 if errors else 0
