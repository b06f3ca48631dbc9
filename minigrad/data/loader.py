"""Batching: mini-batches of numpy arrays, reshuffled every epoch with a seeded generator."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ._ascii_art import _check_positive_int

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over (x, y) in mini-batches, reshuffled every epoch.

    Shuffling draws from a ``numpy.random.default_rng(seed)`` created once with the loader, so
    each epoch (each ``iter(loader)``) has a new order, and two loaders with the same seed go
    through the same sequence of orders. ``seed=None`` gives an unpredictable sequence.

    Parameters
    ----------
    x : numpy.ndarray
        Inputs, shape (N, ...).
    y : numpy.ndarray
        Targets, shape (N, ...): the same N as ``x``.
    batch_size : int
        Samples per batch; the last batch may be smaller unless ``drop_last``.
    shuffle : bool
        Whether to visit the samples in a new random order each epoch.
    seed : int or None
        Seed of the shuffling generator.
    drop_last : bool
        Whether to skip a final batch smaller than ``batch_size``.

    Yields
    ------
    x_batch : numpy.ndarray
        Shape (B, ...), B <= batch_size.
    y_batch : numpy.ndarray
        Shape (B, ...). Without shuffling, batches are views of ``x`` and ``y``.

    Examples
    --------
    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> loader = DataLoader(x, y, batch_size=2, shuffle=False)
    >>> len(loader), [yb.tolist() for _, yb in loader]
    (3, [[0, 1], [2, 3], [4]])
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        x = np.asarray(x)
        y = np.asarray(y)
        if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"DataLoader: x and y must have the same first dimension (number of samples), "
                f"got x.shape={x.shape} and y.shape={y.shape}"
            )
        self.x = x
        self.y = y
        self.batch_size = _check_positive_int("DataLoader", "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = self.x.shape[0]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # draw the epoch's order now, not at the first next(), so epochs follow iter() calls
        order = self._rng.permutation(self.x.shape[0]) if self.shuffle else None
        return self._batches(order)

    def _batches(self, order: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = self.x.shape[0]
        for b in range(len(self)):
            start, stop = b * self.batch_size, min((b + 1) * self.batch_size, n)
            if order is None:
                yield self.x[start:stop], self.y[start:stop]
            else:
                idx = order[start:stop]
                yield self.x[idx], self.y[idx]

    def __repr__(self) -> str:
        return (
            f"DataLoader(samples={self.x.shape[0]}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
