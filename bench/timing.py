"""Interleaved timing: every library runs the same workload in turn, in one process.

The machine may be busy with other work, and its load changes from second to second. Timing
minigrad for a second and then PyTorch for a second would compare two different machines;
alternating short samples of each lets both see the same load, so their ratio is steadier than
either time. Each sample times a batch of calls (enough to last ``SAMPLE_SECONDS``) with the
garbage collector paused, as ``timeit`` does (it catches up between samples); the minimum over
samples estimates the cost without interference, the median what a user typically sees.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# A sample lasts at least this long, so that the timer's resolution does not matter.
SAMPLE_SECONDS = 2e-3


@dataclass
class Timing:
    """Per-call times (seconds) of one workload, one entry per sample."""

    samples: list[float] = field(default_factory=list)
    calls: int = 0

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def as_dict(self) -> dict:
        return {
            "min_s": self.min,
            "median_s": self.median,
            "samples": len(self.samples),
            "calls": self.calls,
        }


def _sample(fn: Callable[[], object], number: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - start) / number
    finally:
        if enabled:
            gc.enable()


def interleaved(
    cases: Mapping[str, Callable[[], object]],
    min_seconds: float = 1.0,
    min_samples: int = 5,
    warmup: int = 2,
) -> dict[str, Timing]:
    """Time every case, alternating between them, until each ran ``min_seconds`` in total.

    Each case is first called ``warmup`` times (caches, lazy imports, allocator pools), then
    timed in rounds; a round takes one sample of every case, in an order that rotates from
    round to round. Returns one :class:`Timing` per case.

    >>> t = interleaved({"a": lambda: None, "b": lambda: None}, min_seconds=0.01)
    >>> sorted(t), t["a"].min <= t["a"].median
    (['a', 'b'], True)
    """
    names = list(cases)
    number = {}
    for name in names:
        fn = cases[name]
        for _ in range(warmup):
            fn()
        # Calls per sample: enough for the sample to last SAMPLE_SECONDS.
        n, t = 1, _sample(fn, 1)
        while t * n < SAMPLE_SECONDS and n < 1_000_000:
            n *= 2 if t * n * 10 > SAMPLE_SECONDS else 10
        number[name] = n
    result = {name: Timing() for name in names}
    spent = dict.fromkeys(names, 0.0)
    # Collected once here; between samples the collector runs as usual (outside the timings).
    gc.collect()
    rnd = 0
    while any(spent[n] < min_seconds or len(result[n].samples) < min_samples for n in names):
        order = names[rnd % len(names) :] + names[: rnd % len(names)]
        for name in order:
            # Finished cases keep sampling too, so that every sample has a neighbour.
            per_call = _sample(cases[name], number[name])
            result[name].samples.append(per_call)
            result[name].calls += number[name]
            spent[name] += per_call * number[name]
        rnd += 1
    return result
