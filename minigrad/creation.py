"""Tensor factories and the seeded random generator shared with parameter initialisation."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, new_tensor

__all__ = [
    "arange",
    "tensor",
    "full",
    "manual_seed",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "zeros",
    "zeros_like",
]

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed ``randn``/``rand`` and parameter initialisation.

    >>> import minigrad as mg
    >>> mg.manual_seed(0); a = mg.randn(2).data
    >>> mg.manual_seed(0); bool((a == mg.randn(2).data).all())
    True
    """
    global _rng
    _rng = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The generator that ``manual_seed`` seeds (used by ``mg.nn`` initialisers)."""
    return _rng


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _leaf(arr: np.ndarray, requires_grad: bool, name: str | None) -> Tensor:
    t = new_tensor(arr)
    t.name = name
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(
    *shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A tensor of zeros. ``mg.zeros(2, 3)`` or ``mg.zeros((2, 3))``"""
    return _leaf(np.zeros(_shape(shape), dtype=dtype), requires_grad, name)


def ones(
    *shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A tensor of ones. ``mg.ones(2, 3)``"""
    return _leaf(np.ones(_shape(shape), dtype=dtype), requires_grad, name)


def full(
    shape: Any,
    value: float,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """A tensor filled with ``value``. ``mg.full((2, 2), 0.5)``"""
    return _leaf(np.full(_shape((shape,)), value, dtype=dtype), requires_grad, name)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype."""
    return _leaf(np.zeros_like(t.data), requires_grad, None)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype."""
    return _leaf(np.ones_like(t.data), requires_grad, None)


def randn(
    *shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """Standard normal samples from the generator ``mg.manual_seed`` seeds. ``mg.randn(2, 3)``"""
    return _leaf(_rng.standard_normal(_shape(shape)).astype(dtype, copy=False), requires_grad, name)


def rand(
    *shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """Uniform samples in [0, 1). ``mg.rand(2, 3)``"""
    return _leaf(_rng.random(_shape(shape)).astype(dtype, copy=False), requires_grad, name)


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values, as numpy's arange (ints give int64, floats float32).

    >>> import minigrad as mg
    >>> mg.arange(3).data
    array([0, 1, 2])
    """
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, stop, step))
        dtype = np.float32 if is_float else np.int64
    return _leaf(np.arange(start, stop, step, dtype=dtype), requires_grad, None)


def tensor(
    data: Any,
    requires_grad: bool = False,
    name: str | None = None,
    dtype: Any = None,
) -> Tensor:
    """Make a leaf tensor from data (copied).

    numpy arrays keep their dtype, Python floats become float32, Python ints int64;
    ``dtype=`` overrides. Integer tensors cannot require grad.

    >>> import minigrad as mg
    >>> mg.tensor([1.0, 2.0]).dtype, mg.tensor([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)
