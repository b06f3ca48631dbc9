"""The thread count (minigrad.threads) and the CNN kernels' thread pool (_kernels/threads.py):
the batch split, the pool, and BLAS kept to one thread per part while parts run side by side."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import minigrad as mg
from layers_plugins._kernels import threads as pool
from minigrad.threads import default_num_threads


@pytest.fixture
def threads():
    """Restore the thread count after the test."""
    before = mg.get_num_threads()
    yield mg.set_num_threads
    mg.set_num_threads(before)


def test_default_is_the_usable_cores():
    assert default_num_threads() == len(os.sched_getaffinity(0))


def test_set_and_get(threads):
    threads(3)
    assert mg.get_num_threads() == 3
    threads(1)
    assert mg.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -2])
def test_counts_below_one_are_rejected(threads, bad):
    with pytest.raises(ValueError, match=rf"^set_num_threads: expected an int >= 1, got {bad}$"):
        threads(bad)


@pytest.mark.parametrize("bad", [1.5, True, "2", None])
def test_non_integers_are_rejected(threads, bad):
    with pytest.raises(TypeError, match=r"^set_num_threads: expected an int >= 1"):
        threads(bad)


@pytest.mark.parametrize("n, parts", [(7, 3), (5, 2), (2, 4), (0, 3), (6, 1), (64, 3)])
def test_split_covers_the_range_in_near_equal_contiguous_parts(n, parts):
    bounds = pool.split(n, parts)
    assert [i for a, b in bounds for i in range(a, b)] == list(range(n))
    sizes = [b - a for a, b in bounds]
    assert all(s > 0 for s in sizes) and len(bounds) == min(n, parts)
    assert not sizes or max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("count", [1, 2, 3])
def test_parallel_for_runs_each_part_once_and_returns_in_order(threads, count):
    threads(count)
    seen = []
    lock = threading.Lock()
    together = threading.Barrier(count, timeout=30)  # every part waits for all the others

    def fn(a, b):
        with lock:
            seen.append((a, b, threading.get_ident()))
        together.wait()
        return (a, b)

    results = pool.parallel_for(fn, 7)
    assert results == pool.split(7, count)
    assert sorted((a, b) for a, b, _ in seen) == results
    assert [t for a, _, t in seen if a == 0] == [threading.get_ident()]  # the first part: here
    assert len({t for *_, t in seen}) == count  # the parts ran at the same time


def test_min_per_part_limits_the_number_of_parts(threads):
    threads(3)
    assert len(pool.parallel_for(lambda a, b: (a, b), 10, min_per_part=4)) == 2
    assert len(pool.parallel_for(lambda a, b: (a, b), 10, min_per_part=20)) == 1


def test_the_first_failing_part_is_raised_after_all_parts_ran(threads):
    threads(3)
    ran = []

    def fn(a, b):
        ran.append(a)
        if a > 0:
            raise KeyError(f"part {a}")
        return a

    with pytest.raises(KeyError, match="part 3"):  # parts (0, 3), (3, 6), (6, 9)
        pool.parallel_for(fn, 9)
    assert sorted(ran) == [0, 3, 6]


def test_nested_calls_run_inline(threads):
    threads(2)
    outer = threading.get_ident()

    def inner(a, b):
        return threading.get_ident()

    def fn(a, b):
        return pool.parallel_for(inner, 4)

    results = pool.parallel_for(fn, 2)
    assert len(results[0]) == 1 and results[0][0] == outer  # the inner call did not split
    assert len(results[1]) == 1 and results[1][0] != outer


def test_blas_runs_one_thread_per_part_and_is_restored(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS is loaded
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("no BLAS library found by threadpoolctl")
    with blas.limit(limits=2):
        before = pool.blas_threads_here()  # the libraries numpy's kernels call
        process_wide = [lib.get_num_threads() for lib in blas.lib_controllers]
        assert all(b == 2 for b in before)
        threads(2)
        inside = pool.parallel_for(lambda a, b: pool.blas_threads_here(), 2)
        assert inside == [[1] * len(before)] * 2
        threads(1)
        alone = pool.parallel_for(lambda a, b: pool.blas_threads_here(), 2)
        assert alone == [[1] * len(before)]  # one thread asked for: BLAS too
        threads(3)
        many = pool.parallel_for(lambda a, b: pool.blas_threads_here(), 1)
        assert many == [before]  # one part: BLAS keeps its own (lower) count
        threads(2)  # too little work for two parts (each needs 3 items): BLAS gets one thread
        small = pool.parallel_for(lambda a, b: pool.blas_threads_here(), 5, min_per_part=3)
        assert small == [[1] * len(before)]
        assert pool.blas_threads_here() == before
        assert [lib.get_num_threads() for lib in blas.lib_controllers] == process_wide


def test_parts_see_the_callers_numpy_errstate(threads):
    threads(2)
    with np.errstate(divide="raise"):
        seen = pool.parallel_for(lambda a, b: np.geterr()["divide"], 2)
    assert seen == ["raise", "raise"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_pool_of_its_own(threads):
    threads(2)
    pool.parallel_for(lambda a, b: None, 2)  # the parent's pool exists
    pid = os.fork()
    if pid == 0:  # the child: would hang on the parent's (absent) threads
        code = 0 if pool.parallel_for(lambda a, b: a, 2) == [0, 1] else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_lowering_the_count_stops_the_extra_pool_threads(threads):
    def pool_threads():
        return [t for t in threading.enumerate() if t.name.startswith("minigrad-")]

    threads(3)
    pool.parallel_for(lambda a, b: a, 3)
    assert len(pool_threads()) >= 2
    threads(1)
    pool.parallel_for(lambda a, b: a, 3)
    for t in pool_threads():
        t.join(timeout=10)
    assert pool_threads() == []
