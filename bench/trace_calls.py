"""How many Python calls, files and switches between files one small computation goes through.

``python bench/trace_calls.py`` traces, with ``sys.setprofile``, two workloads after a warm-up run
of each (lazy imports and plugin loading are not counted):

* ``mul``: ``y = x * w; y.sum().backward()`` on 3x3 tensors;
* ``conv2d``: ``mg.ops.conv2d(x, w).sum().backward()`` on a LeNet-sized first layer.

It counts the Python-level calls made inside minigrad and layers_plugins (C functions are never
counted; numpy's Python layer and the standard library only in the ``all`` line), the distinct
files those calls run in, and how often consecutive calls switch file. These are readability
numbers: how many files a newcomer opens to follow one multiplication. ``--files`` lists the
files with their call counts.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

import minigrad as mg

ROOT = Path(__file__).resolve().parents[1]
OURS = (str(ROOT / "minigrad"), str(ROOT / "layers_plugins"))


def trace(fn: Callable[[], object], everything: bool = False) -> list[str]:
    """The file of every Python call made while ``fn`` runs, in order: inside the project only,
    or with ``everything`` in any Python file (numpy's Python layer, the standard library)."""
    seen: list[str] = []

    def profile(frame, event, arg):
        if event == "call":
            name = frame.f_code.co_filename
            if name != __file__ and (everything or name.startswith(OURS)):
                seen.append(name)

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return seen


def mul_workload() -> Callable[[], object]:
    x = mg.tensor(np.ones((3, 3), np.float32), requires_grad=True)
    w = mg.tensor(np.ones((3, 3), np.float32), requires_grad=True)

    def run() -> None:
        y = x * w
        y.sum().backward()

    return run


def conv_workload() -> Callable[[], object]:
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 1, 28, 28), dtype=np.float32), requires_grad=True)
    w = mg.tensor(rng.standard_normal((6, 1, 5, 5), dtype=np.float32), requires_grad=True)

    def run() -> None:
        mg.ops.conv2d(x, w).sum().backward()

    return run


WORKLOADS = {"mul": mul_workload, "conv2d": conv_workload}


def summary(calls: list[str]) -> dict[str, int]:
    switches = sum(1 for a, b in itertools.pairwise(calls) if a != b)
    return {"files": len(set(calls)), "calls": len(calls), "switches": switches}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", action="store_true", help="list the files and their call counts")
    args = p.parse_args(argv)
    for name, make in WORKLOADS.items():
        run = make()
        run()  # warm: imports, plugin loading, scratch buffers
        calls = trace(run)
        for scope, seen in (("project", calls), ("all", trace(run, everything=True))):
            s = summary(seen)
            print(
                f"{name:8s} {scope:8s} files {s['files']:3d}  calls {s['calls']:4d}"
                f"  switches {s['switches']:4d}"
            )
        if args.files:
            for file, n in Counter(calls).most_common():
                print(f"    {n:4d}  {Path(file).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
