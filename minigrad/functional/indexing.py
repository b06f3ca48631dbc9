"""Indexing: ``x[index]`` (basic and integer-array) and its adjoint, a scatter-add."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import apply
from ..op import Context, Op
from ..tensor import Tensor, as_tensor
from ._common import _x

__all__ = ["getitem"]


def _norm_index(index: Any, shape: tuple[int, ...]) -> Any:
    """Turn Tensors inside an index into arrays and bool masks into integer arrays.

    A mask must have the shape of the axes it indexes (as in numpy and PyTorch): a mask of
    another length would otherwise select silently from the wrong positions.
    """
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(it.data if isinstance(it, Tensor) else it for it in items)
    items = tuple(np.asarray(it) if isinstance(it, list) else it for it in items)
    out: list[Any] = []
    dim = 0  # the axis of x the current item starts at
    for k, it in enumerate(items):
        if isinstance(it, np.ndarray) and it.dtype == np.bool_ and it.ndim:
            _check_mask(it, shape, dim, index)
            out.extend(np.nonzero(it))
            dim += it.ndim
            continue
        out.append(it)
        if it is Ellipsis:
            dim = len(shape) - sum(_axes_used(i) for i in items[k + 1 :])
        else:
            dim += _axes_used(it)
    return tuple(out)


def _axes_used(item: Any) -> int:
    """How many axes of the indexed array one index item consumes."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        return item.ndim
    return 1


def _check_mask(mask: np.ndarray, shape: tuple[int, ...], dim: int, index: Any) -> None:
    axes = shape[dim : dim + mask.ndim]
    if mask.shape != axes:
        where = f"axis {dim}" if mask.ndim == 1 else f"axes {dim}..{dim + mask.ndim - 1}"
        raise IndexError(
            f"getitem: a bool mask of shape {mask.shape} indexes {where} of a tensor of shape "
            f"{shape}, which {'has' if len(axes) == 1 else 'have'} shape {axes}; a mask must "
            "have the shape of the axes it selects from"
        )


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
    x = as_tensor(x)
    return apply(GetItem, (x,), {"index": _norm_index(index, x.shape)})
