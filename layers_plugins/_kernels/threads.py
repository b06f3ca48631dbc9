"""The kernels' thread pool: contiguous parts of a batch run side by side.

The CNN kernels split their work into independent parts, such as the samples of a batch, and
call :func:`parallel_for`; numpy releases the GIL inside matrix products, copies and most ufunc
loops, so the parts really run at the same time. How many threads: ``mg.get_num_threads()``
(set with ``mg.set_num_threads(n)``; default: the usable cores). The pool starts its threads on
first need and stops those beyond the count when the count is lowered.

While parts run side by side, the BLAS library (OpenBLAS or MKL behind numpy) is limited to
one thread per part, so that the threads of a split and those of BLAS do not fight over the
cores. Work too small for two parts (``n < 2 * min_per_part``) is too small for BLAS's threads
as well and runs with one; otherwise, with one part, BLAS is never given more threads than
``get_num_threads()`` (and never more than it had). This uses ``threadpoolctl`` (a dependency
of minigrad); where it cannot see the BLAS library, BLAS keeps its own setting.

The first :func:`parallel_for` call also applies the allocator tuning of :mod:`.malloc`
(freed large blocks stay in the process for reuse), so it happens when a program first runs a
heavy kernel, never at ``import minigrad``. Set ``MINIGRAD_NO_MALLOC_TUNING=1`` to keep the C
library's defaults.

>>> from layers_plugins._kernels.threads import parallel_for, split
>>> split(7, 3)
[(0, 3), (3, 5), (5, 7)]
>>> parallel_for(lambda start, stop: sum(range(start, stop)), 10)[0] >= 0
True
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy  # noqa: F401  (loads numpy's BLAS so that threadpoolctl can see it)

from minigrad.threads import get_num_threads

from . import malloc

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # without it, BLAS keeps its own thread setting
    ThreadpoolController = None  # type: ignore[assignment,misc]

__all__ = ["blas_threads_here", "parallel_for", "split"]

T = TypeVar("T")

_lock = threading.Lock()
_workers: list[_Worker] = []  # the pool's threads, started when a split first needs them
_local = threading.local()  # .inside: this thread is running a part (nested calls run inline)
_blas: list[_BlasLib] | None = None  # the loaded BLAS libraries, found on first use
_tuned = False


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """``range(n)`` cut into ``parts`` contiguous ranges whose sizes differ by at most one.

    The larger ranges come first; empty ranges are left out.

    >>> split(5, 2), split(2, 4)
    ([(0, 3), (3, 5)], [(0, 1), (1, 2)])
    """
    parts = max(1, min(int(parts), int(n)))
    size, extra = divmod(int(n), parts)
    bounds, start = [], 0
    for k in range(parts):
        stop = start + size + (1 if k < extra else 0)
        if stop > start:
            bounds.append((start, stop))
        start = stop
    return bounds


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's pool threads: start new ones when needed."""
    global _workers, _lock
    _workers = []
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


class _Worker:
    """One pool thread: takes ``(index, context, fn, start, stop, limit, done)`` jobs from its
    inbox, runs them and puts ``(index, result)`` on ``done``; ``None`` stops it.

    A bare thread and two ``queue.SimpleQueue`` hand-overs: a round trip costs about half of a
    ``concurrent.futures`` submit and result, which matters for kernels of a millisecond.
    """

    def __init__(self, number: int) -> None:
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        thread = threading.Thread(target=self._loop, name=f"minigrad-{number}", daemon=True)
        thread.start()

    def _loop(self) -> None:
        get = self.inbox.get
        while True:
            job = get()
            if job is None:
                return
            index, context, fn, start, stop, limit, done = job
            try:
                result = context.run(_run_part, fn, start, stop, limit)
            except BaseException as e:  # raised by the caller, in part order
                result = _Failure(e)
            done.put((index, result))
            job = result = None  # hold nothing between jobs


def _pool_of(size: int) -> list[_Worker]:
    """At least ``size`` pool threads (started on first use, kept for later calls)."""
    with _lock:
        while len(_workers) < size:
            _workers.append(_Worker(len(_workers) + 1))
        return _workers[:size]


def _stop_beyond(threads: int) -> None:
    """Stop the pool threads a count of ``threads`` does not use (the caller is one of them)."""
    with _lock:
        extra = _workers[threads - 1 :]
        del _workers[threads - 1 :]
    for worker in extra:
        worker.inbox.put(None)


class _BlasLib:
    """One BLAS library: its threadpoolctl controller, and OpenBLAS's per-thread setter.

    OpenBLAS (0.3.27 and later) exports ``openblas_set_num_threads_local``, which limits the
    calling thread only and costs a thread-local write; the global setter wakes or parks the
    library's threads and costs tens of microseconds per call, too much to pay around every
    kernel. The global one is used only where the per-thread one is missing (e.g. MKL).
    """

    def __init__(self, controller: Any) -> None:
        self.controller = controller
        self.local: Callable[[int], int] | None = None
        if getattr(controller, "internal_api", None) == "openblas":
            try:
                # PyDLL: the call keeps the interpreter lock. It is a thread-local write;
                # releasing the lock around it would hand the lock to a running part and wait
                # for it back, at every part's start and end
                setter = ctypes.PyDLL(controller.filepath).openblas_set_num_threads_local
            except (OSError, AttributeError, TypeError):
                return
            setter.argtypes = (ctypes.c_int,)
            setter.restype = ctypes.c_int
            self.local = setter

    def threads_here(self) -> int | None:
        """The number of threads this library uses for calls from the current thread."""
        if self.local is not None:
            current = self.local(1)  # the setter returns the previous value
            self.local(current)
            return current
        return self.controller.get_num_threads()


def _blas_libraries() -> list[_BlasLib]:
    """The BLAS libraries loaded in this process (empty without threadpoolctl)."""
    global _blas
    if _blas is None:
        if ThreadpoolController is None:
            _blas = []
        else:
            blas = ThreadpoolController().select(user_api="blas").lib_controllers
            _blas = [_BlasLib(c) for c in blas]
    return _blas


def blas_threads_here() -> list[int | None]:
    """Thread counts of the loaded BLAS libraries for calls made from the current thread.

    Inside a part of :func:`parallel_for` that runs beside others, each is 1.
    """
    return [lib.threads_here() for lib in _blas_libraries()]


def _lower_here(limit: int) -> list[tuple[Callable[[int], int], int]]:
    """Lower this thread's count of every BLAS with a per-thread setter to ``limit`` (never
    raise it); returns the ``(setter, previous)`` pairs to restore. One call per library
    when the count is already at most ``limit``.
    """
    changed = []
    for setter in _local_setters or _find_local_setters():
        previous = setter(limit)  # the setter returns the count it replaces
        if previous < limit:
            setter(previous)
        elif previous > limit:
            changed.append((setter, previous))
    return changed


_local_setters: list[Callable[[int], int]] = []


def _find_local_setters() -> list[Callable[[int], int]]:
    _local_setters[:] = [lib.local for lib in _blas_libraries() if lib.local is not None]
    return _local_setters


def _restore(changed: list[tuple[Callable[[int], int], int]]) -> None:
    for setter, previous in reversed(changed):
        setter(previous)


@contextlib.contextmanager
def _lower_process_wide(limit: int) -> Iterator[None]:
    """Lower the BLAS libraries without a per-thread setter (MKL) to ``limit``, process-wide,
    while inside (never raise them); call it from the thread that owns the region."""
    changed = []
    for lib in _blas_libraries():
        if lib.local is not None:
            continue
        current = lib.controller.get_num_threads()
        if current is not None and current > limit:
            lib.controller.set_num_threads(limit)
            changed.append((lib.controller.set_num_threads, current))
    try:
        yield
    finally:
        _restore(changed)


def _process_wide(limit: int) -> contextlib.AbstractContextManager:
    global _all_local
    if _all_local is None:
        _all_local = all(lib.local is not None for lib in _blas_libraries())
    if _all_local:
        return _NOTHING  # every library is limited per thread (OpenBLAS): nothing to do
    return _lower_process_wide(limit)


_NOTHING = contextlib.nullcontext()
_all_local: bool | None = None  # whether every BLAS library has a per-thread setter


def _first_use() -> None:
    global _tuned
    malloc.tune_malloc()
    _tuned = True


def parallel_for(fn: Callable[[int, int], T], n: int, *, min_per_part: int = 1) -> list[T]:
    """Run ``fn(start, stop)`` over contiguous parts of ``range(n)``, one part per thread.

    At most ``get_num_threads()`` parts, each at least ``min_per_part`` items long (so that
    small jobs do not pay for the hand-over between threads); the first part runs in the
    calling thread. Returns the parts' results in order. If parts raise, the first one's
    exception (in part order) is raised once every part has finished. A call made from inside
    a part runs inline, as one part. Parts see the caller's context variables (numpy's
    ``errstate``, for one).

    ``fn`` must only write to memory that belongs to its own part.
    """
    if not _tuned:
        _first_use()
    threads = get_num_threads()
    if len(_workers) >= threads:  # the count was lowered since the pool grew
        _stop_beyond(threads)
    parts = 1 if getattr(_local, "inside", False) else min(threads, n // max(1, min_per_part))
    bounds = split(n, parts) if parts > 1 else [(0, n)] if n > 0 else []
    if len(bounds) <= 1:
        # too little work for two parts: too little for BLAS's threads as well (a single
        # large sample, min_per_part 1, keeps them)
        small = min_per_part > 1 and n < 2 * min_per_part
        limit = 1 if small else threads
        with _process_wide(limit):
            changed = _lower_here(limit)
            try:
                return [fn(*b) for b in bounds]
            finally:
                _restore(changed)
    limit = max(1, threads // len(bounds))
    with _process_wide(limit):
        done: queue.SimpleQueue = queue.SimpleQueue()
        # Each part runs in a copy of the caller's context: numpy's errstate and other context
        # variables apply in the pool's threads as they do here.
        for k, (worker, (start, stop)) in enumerate(zip(_pool_of(len(bounds) - 1), bounds[1:])):
            job = (k + 1, contextvars.copy_context(), fn, start, stop, limit, done)
            worker.inbox.put(job)
        results: list[Any] = [None] * len(bounds)
        try:
            results[0] = _run_part(fn, *bounds[0], limit)
        except BaseException as e:  # raised below, once every part is done
            results[0] = _Failure(e)
        for _ in bounds[1:]:
            k, result = done.get()
            results[k] = result
    for r in results:
        if isinstance(r, _Failure):
            raise r.error
    return results


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _run_part(fn: Callable[[int, int], T], start: int, stop: int, blas_limit: int) -> T:
    _local.inside = True
    changed = _lower_here(blas_limit)
    try:
        return fn(start, stop)
    finally:
        _restore(changed)
        _local.inside = False
