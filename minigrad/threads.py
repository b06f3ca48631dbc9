"""The intra-op thread count: ``mg.set_num_threads(n)`` and ``mg.get_num_threads()``.

A process-wide setting and nothing more. minigrad itself runs on one thread; the CNN kernels in
``layers_plugins/_kernels`` read this count and split their work over that many threads (their
thread pool, scratch memory and allocator tuning live there, next to the kernels). The default
is the cores this process may run on (``len(os.sched_getaffinity(0))``), as in PyTorch.

>>> import minigrad as mg
>>> previous = mg.get_num_threads(); mg.set_num_threads(2); mg.get_num_threads()
2
>>> mg.set_num_threads(previous)
"""

from __future__ import annotations

import numbers
import os

__all__ = ["default_num_threads", "get_num_threads", "set_num_threads"]

_num_threads: int | None = None


def default_num_threads() -> int:
    """The cores this process may run on (its CPU affinity), at least 1.

    >>> default_num_threads() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def get_num_threads() -> int:
    """The number of threads the CNN kernels split their work over.

    >>> import minigrad as mg
    >>> mg.get_num_threads() >= 1
    True
    """
    return _num_threads if _num_threads is not None else default_num_threads()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (``n >= 1``) in the CNN kernels from now on, process-wide.

    Results do not depend on it: a kernel split over the batch computes every sample the same
    way whatever the number of parts (sums across samples, such as a weight gradient, may
    differ in the last bits).

    >>> import minigrad as mg
    >>> previous = mg.get_num_threads(); mg.set_num_threads(1); mg.get_num_threads()
    1
    >>> mg.set_num_threads(previous)
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"set_num_threads: expected an int >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"set_num_threads: expected an int >= 1, got {n}")
    _num_threads = int(n)
