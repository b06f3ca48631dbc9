"""MNIST-format IDX files the user already has (never downloaded)."""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path

import numpy as np

__all__ = ["load_mnist", "read_idx"]


_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzip-compressed.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a big-endian
    uint32; the data follows, big-endian, in row-major order. A gzip file (recognised by its
    own magic bytes, whatever its name) is decompressed in memory first.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    numpy.ndarray
        An array with the header's shape and the type code's dtype, in native byte order,
        e.g. uint8 of shape (60000, 28, 28) for MNIST training images.

    Raises
    ------
    ValueError
        When the magic number is wrong or the file size does not match its header (the message
        gives the path, the expected and the actual number of bytes).

    Examples
    --------
    >>> images = read_idx("train-images-idx3-ubyte.gz")   # doctest: +SKIP
    >>> images.shape, images.dtype                          # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    # over 60 lines only because of its docstring; the code is 39 lines
    path = Path(path)
    raw = path.read_bytes()
    compressed = raw[:2] == b"\x1f\x8b"
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(
                f"read_idx: {path} looks gzip-compressed but cannot be decompressed: {err}"
            ) from err
    what = "decompressed size" if compressed else "size"

    if len(raw) < 4:
        raise ValueError(
            f"read_idx: {path} is too short for an IDX header: {what} {len(raw)} bytes, "
            "expected at least 4"
        )
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: {path} has a bad magic number 0x{raw[:4].hex()}; an IDX file starts with "
            "two zero bytes, a type code (08, 09, 0b, 0c, 0d or 0e) and the number of dimensions"
        )
    dtype = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    header_bytes = 4 + 4 * ndim
    if len(raw) < header_bytes:
        raise ValueError(
            f"read_idx: {path} is truncated inside its header: expected at least {header_bytes} "
            f"bytes for {ndim} dimensions, got {len(raw)} ({what})"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header_bytes + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"read_idx: {path} does not match its header (shape {shape}, dtype {dtype.name}): "
            f"expected {expected} bytes, got {len(raw)} ({what})"
        )
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header_bytes)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


_MNIST_STEMS = {
    "train": ("train-images", "train-labels"),
    "test": ("t10k-images", "t10k-labels"),
}


def _mnist_candidates(stem: str, ndim: int) -> list[str]:
    names = []
    for sep in (
        "-",
        ".",
    ):  # "train-images-idx3-ubyte" and the also common "train-images.idx3-ubyte"
        base = f"{stem}{sep}idx{ndim}-ubyte"
        names += [base, base + ".gz"]
    return names


def load_mnist(
    directory: str | os.PathLike[str], kind: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST (or Fashion-MNIST) from IDX files already in a directory. Never downloads.

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``kind="train"``) or
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (``kind="test"``), each also with
    a ``.gz`` suffix or with a dot before ``idx``.

    Parameters
    ----------
    directory : str or os.PathLike
        Directory holding the files.
    kind : {"train", "test"}
        Which split to load.

    Returns
    -------
    images : numpy.ndarray
        float32, shape (N, 1, 28, 28), values in [0, 1] (uint8 pixels divided by 255).
    labels : numpy.ndarray
        int64, shape (N,).

    Raises
    ------
    FileNotFoundError
        When a file is missing; the message lists every name that was looked for.

    Examples
    --------
    >>> images, labels = load_mnist("~/data/mnist", kind="test")   # doctest: +SKIP
    >>> images.shape, labels.shape                                  # doctest: +SKIP
    ((10000, 1, 28, 28), (10000,))
    """
    # over 60 lines only because of its docstring; the code is 29 lines
    if kind not in _MNIST_STEMS:
        raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    directory = Path(directory).expanduser()
    found = []
    for stem, ndim in zip(_MNIST_STEMS[kind], (3, 1), strict=True):
        candidates = _mnist_candidates(stem, ndim)
        match = next((directory / n for n in candidates if (directory / n).is_file()), None)
        if match is None:
            raise FileNotFoundError(
                f"load_mnist: no {stem} file for kind={kind!r} in {directory}; looked for "
                + ", ".join(candidates)
                + ". minigrad never downloads data: put the MNIST IDX files there first."
            )
        found.append(match)

    images, labels = read_idx(found[0]), read_idx(found[1])
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(
            f"load_mnist: expected images of shape (N, H, W) and labels of shape (N,), got "
            f"{images.shape} from {found[0]} and {labels.shape} from {found[1]}"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"load_mnist: {found[0]} holds {images.shape[0]} images but {found[1]} holds "
            f"{labels.shape[0]} labels"
        )
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    x = (images.astype(np.float32) / np.float32(scale))[:, None, :, :]  # (N,H,W) -> (N,1,H,W)
    return x, labels.astype(np.int64)
