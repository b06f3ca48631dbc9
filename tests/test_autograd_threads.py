"""backward() from several threads at once: gradients reaching one tensor all add up.

Each thread builds its own graph on a shared weight and calls backward(); the engine adds each
contribution to ``.grad`` under a lock (a read-add-write, as PyTorch's AccumulateGrad), so none
is lost. A tiny GIL switch interval makes the threads interleave inside the engine: without
the lock about one trial in five lost a contribution."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import minigrad as mg

THREADS = 8
TRIALS = 100


@pytest.fixture
def interleaved() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _together(fn: Callable[[int], None]) -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            fn(i)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _inputs() -> list[np.ndarray]:
    return [np.full((3, 16), float(i + 1)) for i in range(THREADS)]


def test_concurrent_backward_into_a_shared_leaf_loses_nothing(interleaved) -> None:
    xs = _inputs()
    expected = np.repeat(sum(x.sum(axis=0) for x in xs)[:, None], 4, axis=1)
    wrong = 0
    for _ in range(TRIALS):
        w = mg.tensor(np.ones((16, 4)), requires_grad=True)
        _together(lambda i, w=w: (mg.tensor(xs[i]) @ w).sum().backward())
        wrong += not np.array_equal(w.grad.data, expected)
    assert wrong == 0, f"{wrong} of {TRIALS} trials lost a contribution"


def test_concurrent_backward_into_a_retained_shared_intermediate(interleaved) -> None:
    xs = _inputs()
    col = sum(x.sum(axis=0) for x in xs)[:, None]
    wrong = 0
    for _ in range(TRIALS // 4):
        w = mg.tensor(np.ones((16, 4)), requires_grad=True)
        h = w * 3.0
        h.retain_grad()
        _together(lambda i, h=h: (mg.tensor(xs[i]) @ h).sum().backward(retain_graph=True))
        wrong += not np.array_equal(h.grad.data, np.repeat(col, 4, axis=1))
        wrong += not np.array_equal(w.grad.data, np.repeat(3 * col, 4, axis=1))
    assert wrong == 0


def test_same_sum_as_pytorch_from_threads(interleaved) -> None:
    torch = pytest.importorskip("torch")
    xs = _inputs()
    w = mg.tensor(np.linspace(-1, 1, 64).reshape(16, 4), requires_grad=True)
    _together(lambda i: mg.ops.tanh(mg.tensor(xs[i]) @ w).sum().backward())
    tw = torch.tensor(np.linspace(-1, 1, 64).reshape(16, 4), requires_grad=True)
    for x in xs:
        torch.tanh(torch.tensor(x) @ tw).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12, atol=1e-15)
