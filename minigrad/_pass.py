"""The running state of one backward traversal (:func:`minigrad.autograd.traverse`).

Pending gradients per node and per leaf, the heap of nodes still to run, and how two
gradients reaching one tensor are summed. Part of the engine; kept apart so that
``autograd.py`` holds the traversal itself.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import numpy as np

from .tensor import Tensor

if TYPE_CHECKING:
    from .autograd import BackwardObserver
    from .op import Context

_new_tensor = Tensor._new


class _Pass:
    """The running state of one traversal: pending gradients per node and per leaf.

    Without ``create_graph`` (and outside anomaly mode) two gradients reaching one tensor are
    summed with numpy directly: that sum is never differentiated, so it needs no graph node.
    Then, unless an observer watches, gradients may also travel as bare numpy arrays
    (``arrays``): what ``_array_backward`` formulas return is passed on as it is and wrapped
    in a Tensor only where one is handed out (hooks, retained and returned gradients, leaves).
    """

    __slots__ = ("arrays", "heap", "leaves", "node_grads", "observer", "plain")

    def __init__(self, observer: BackwardObserver | None, plain: bool) -> None:
        self.node_grads: dict[Context, Any] = {}
        self.leaves: dict[int, tuple[Tensor, Any]] = {}
        self.heap: list[tuple[int, int, Context]] = []
        self.observer = observer
        self.plain = plain
        self.arrays = plain and observer is None

    def _sum(self, a: Any, b: Any) -> Any:
        if self.plain:  # both are fitted to one tensor's shape and dtype already
            total = _array(a) + _array(b)
            if type(total) is not np.ndarray:  # 0-d + 0-d gives a numpy scalar
                total = np.asarray(total)
            return total if self.arrays else _new_tensor(total, None, False)
        return a + b

    def send(self, t: Tensor, g: Tensor, index: int) -> None:
        node = t._node
        if node is None:
            prev = self.leaves.get(id(t))
            if prev is None:
                self.leaves[id(t)] = (t, g)
                return
            total = self._sum(prev[1], g)
            self.leaves[id(t)] = (t, total)
            if self.observer is not None:
                self.observer.accumulate(index, t, g, total)
        elif node in self.node_grads:
            total = self._sum(self.node_grads[node], g)
            self.node_grads[node] = total
            if self.observer is not None:
                self.observer.accumulate(index, node, g, total)
        else:
            self.node_grads[node] = g
            heapq.heappush(self.heap, (-node.generation, -node.seq, node))


def _array(g: Any) -> np.ndarray:
    return g if type(g) is np.ndarray else g.data


def _tensor(g: Any) -> Tensor:
    return _new_tensor(g, None, False) if type(g) is np.ndarray else g
