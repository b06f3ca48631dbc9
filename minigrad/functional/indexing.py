"""Indexing: ``x[index]`` (basic and integer-array) and its adjoint, a scatter-add."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import apply
from ..op import Context, Op
from ..tensor import Tensor, as_tensor
from ._common import _x

__all__ = ["getitem"]


def _norm_index(index: Any) -> Any:
    """Turn Tensors inside an index into arrays and bool masks into integer arrays."""
    items = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for it in items:
        if isinstance(it, Tensor):
            it = it.data
        if isinstance(it, list):
            it = np.asarray(it)
        if isinstance(it, np.ndarray) and it.dtype == np.bool_:
            out.extend(np.nonzero(it))
            continue
        out.append(it)
    return tuple(out)


def _is_basic(index: tuple) -> bool:
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in index)


class GetItem(Op):
    """``x[index]``: basic slicing and integer-array indexing."""

    name = "getitem"
    _core = True
    formula = "dx = index_add(zeros(x.shape), index, dy)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, index: Any) -> np.ndarray:
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(
                f"getitem: index {index!r} is invalid for shape {x.shape}: {e}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return apply(IndexAdd, (grad,), {"index": ctx.attrs["index"], "shape": _x(ctx).shape})


class IndexAdd(Op):
    """Scatter ``grad`` into zeros of ``shape`` at ``index``, summing repeated positions."""

    name = "index_add"
    _core = True
    formula = "dg = dy[index]"

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, *, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        out = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g  # a basic index selects each position at most once
        else:
            np.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return apply(GetItem, (grad,), {"index": ctx.attrs["index"]})


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with basic slices and integer (or bool) arrays."""
    return apply(GetItem, (as_tensor(x),), {"index": _norm_index(index)})
