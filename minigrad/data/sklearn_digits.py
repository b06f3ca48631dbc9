"""The 8x8 handwritten digits that ship inside scikit-learn (the optional extra ``digits``)."""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits"]


_DIGITS_EXTRA_HINT = 'pip install "minigrad-cnn[digits]"'


def load_digits(
    test_fraction: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits that ship inside scikit-learn, split into train and test sets.

    1797 grey-level images of the digits 0-9, read from scikit-learn's own files (nothing is
    downloaded). Pixels are scaled from 0..16 to [0, 1]. The split is stratified: every digit
    keeps the same share in both parts. Each part is shuffled.

    Needs scikit-learn, the optional extra ``digits``: ``pip install "minigrad-cnn[digits]"``.

    Parameters
    ----------
    test_fraction : float
        Share of each digit's images that go to the test set, strictly between 0 and 1.
    seed : int or None
        Seed of ``numpy.random.default_rng`` for the split and the shuffles.

    Returns
    -------
    x_train : numpy.ndarray
        float32, shape (N_train, 1, 8, 8), values in [0, 1].
    y_train : numpy.ndarray
        int64, shape (N_train,), digits 0-9.
    x_test : numpy.ndarray
        float32, shape (N_test, 1, 8, 8), values in [0, 1].
    y_test : numpy.ndarray
        int64, shape (N_test,).

    Raises
    ------
    ImportError
        When scikit-learn is not installed; the message names the extra to install.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = load_digits(test_fraction=0.2)  # doctest: +SKIP
    >>> x_train.shape, x_test.shape                                         # doctest: +SKIP
    ((1438, 1, 8, 8), (359, 1, 8, 8))
    """
    # over 60 lines only because of its docstring; the code is 26 lines
    if not (0.0 < float(test_fraction) < 1.0):
        raise ValueError(
            f"load_digits: test_fraction must be strictly between 0 and 1, got {test_fraction}"
        )
    try:
        from sklearn import datasets as sk_datasets
    except ImportError as err:
        raise ImportError(
            "load_digits needs scikit-learn, which is the optional extra 'digits' of minigrad: "
            f"{_DIGITS_EXTRA_HINT}"
        ) from err

    bunch = sk_datasets.load_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / 16.0)[:, None, :, :]  # (N,1,8,8)
    targets = np.asarray(bunch.target, dtype=np.int64)

    rng = np.random.default_rng(seed)
    test_parts, train_parts = [], []
    for digit in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == digit))
        n_test = round(float(test_fraction) * members.size)
        test_parts.append(members[:n_test])
        train_parts.append(members[n_test:])
    train_idx = rng.permutation(np.concatenate(train_parts))
    test_idx = rng.permutation(np.concatenate(test_parts))
    return images[train_idx], targets[train_idx], images[test_idx], targets[test_idx]
