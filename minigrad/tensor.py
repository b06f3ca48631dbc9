"""Tensor: a numpy array, its gradient, and the node of the graph that made it.

Everything a user holds is a Tensor: ``data`` (the numpy array), ``grad``, ``requires_grad``,
``name``, and ``_node``, the :class:`~minigrad.op.Context` of the op call that produced it
(None for a leaf the user made; the engine reads it, inspectors ask
:func:`minigrad.graph.trace.producer`). Every operator and method is declared here, typed,
and is one call of a :mod:`minigrad.functional` op. This module also holds the dtype rules of
tensor data (numpy arrays keep their dtype, Python floats become float32, ints int64) and the
zero-byte placeholder that stands for values freed by ``backward()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

if TYPE_CHECKING:
    from .op import Context

__all__ = [
    "KINDS",
    "NUMBER_DTYPE",
    "RemovableHandle",
    "Tensor",
    "TensorLike",
    "as_tensor",
    "default_array",
    "freed_placeholder",
    "new_tensor",
    "scalar_array",
]

#: what an operator accepts besides a Tensor: arrays and Python numbers (become constants)
TensorLike: TypeAlias = "Tensor | np.ndarray | float | int | bool"
Axis: TypeAlias = "int | Sequence[int] | None"


# --------------------------------------------------------------------------- tensor data

#: the dtype a Python number gets when nothing else decides it
NUMBER_DTYPE: dict[type, np.dtype] = {
    float: np.dtype(np.float32),
    int: np.dtype(np.int64),
    bool: np.dtype(np.bool_),
}
KINDS = "tensors hold bool, integer, floating or complex numbers"
_SCALARS: dict[tuple, np.ndarray] = {}


def scalar_array(x: float, dtype: np.dtype) -> np.ndarray:
    """A read-only 0-d array of ``x``, shared between calls (``x * 2.0`` makes no new array).

    Zero is not cached: -0.0 == 0.0 as dict keys, but their signs differ.
    """
    key = (type(x), x, dtype)
    arr = _SCALARS.get(key) if x else None
    if arr is None:
        arr = np.array(x, dtype=dtype)
        arr.flags.writeable = False
        if x:
            if len(_SCALARS) >= 4096:
                _SCALARS.clear()
            _SCALARS[key] = arr
    return arr


def checked_array(data: Any, dtype: Any) -> np.ndarray:
    """``np.array(data, dtype)``, refusing non-numeric dtypes and ragged nesting clearly."""
    try:
        arr = np.array(data, dtype=dtype)
    except ValueError as e:
        if "inhomogeneous" in str(e) or "sequence" in str(e):
            raise ValueError(
                f"tensor: nested sequences of different lengths cannot make a tensor "
                f"(every row must have the same length): {data!r:.80}"
            ) from None
        raise
    except TypeError as e:
        raise TypeError(f"tensor: cannot make a tensor from {data!r:.80}: {e}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"tensor: cannot make a tensor of dtype {arr.dtype} (from {type(data).__name__} "
            f"{data!r:.60}); {KINDS}"
        )
    return arr


def default_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Apply minigrad's dtype rules: arrays keep theirs, Python floats -> float32, ints -> int64."""
    if dtype is not None or isinstance(data, (np.ndarray, np.generic)):
        return checked_array(data, dtype)
    arr = checked_array(data, None)
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype.kind == "i":
        return arr.astype(np.int64, copy=False)
    return arr


# the buffer behind every freed value: read-only zero bytes, wide enough for any dtype
FREED_BUFFER = bytes(32)


_PLACEHOLDERS: dict[tuple, np.ndarray] = {}


def freed_placeholder(arr: np.ndarray) -> np.ndarray:
    """A zero-byte stand-in for a freed array: same shape and dtype, all zeros, read-only.

    Placeholders are shared (they cannot be written), one per shape and dtype.
    """
    key = (arr.shape, arr.dtype)
    held = _PLACEHOLDERS.get(key)
    if held is None:
        held = np.ndarray(arr.shape, arr.dtype, buffer=FREED_BUFFER, strides=(0,) * arr.ndim)
        if len(_PLACEHOLDERS) >= 4096:
            _PLACEHOLDERS.clear()
        _PLACEHOLDERS[key] = held
    return held


def _unwrap(data: Any) -> Any:
    """Nested lists/tuples with Tensors inside (``[mg.tensor(1.), mg.tensor(2.)]``) -> arrays."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_unwrap(d) for d in data]
    return data


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    __slots__ = ("_fn", "_hooks")

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks = hooks
        self._fn = fn

    def remove(self) -> None:
        """Remove the hook (doing it twice is harmless)."""
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


# --------------------------------------------------------------------------- Tensor


class Tensor:
    """An n-dimensional array that records the ops applied to it for reverse-mode autodiff.

    Create tensors with :func:`minigrad.tensor` (or zeros, ones, randn, arange).

    >>> import minigrad as mg
    >>> x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
    >>> y = (x * x + 1).sum()
    >>> y.backward()
    >>> x.grad.data
    array([[2., 4.],
           [6., 8.]], dtype=float32)
    """

    __slots__ = (
        "__weakref__",
        "_hooks",
        "_node",
        "_origin",
        "_requires_grad",
        "_retains_grad",
        "data",
        "grad",
        "name",
    )
    # let numpy defer to our reflected operators: ndarray * Tensor -> Tensor.__rmul__
    __array_ufunc__ = None

    data: np.ndarray
    grad: Tensor | None
    name: str | None
    _node: Context | None
    _hooks: list[Callable[[Tensor], Tensor | None]] | None
    _retains_grad: bool
    _requires_grad: bool
    # the forward-only call that made this tensor (set only then, read with getattr): what
    # explain() and explore() read when no input required grad; autograd never looks at it
    _origin: Context

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        self._set(default_array(_unwrap(data), dtype), None, False, name)
        if requires_grad:
            self.requires_grad = True  # checked: floating point data only

    def _set(
        self, data: np.ndarray, node: Context | None, requires_grad: bool, name: str | None
    ) -> None:
        """Every field of a new Tensor: the one place they are written."""
        self.data = data
        self.grad = None
        self.name = name
        self._node = node  # the op call that made it (None: a leaf)
        self._hooks = None  # a leaf's gradient hooks (a non-leaf's live on its node)
        self._retains_grad = False
        self._requires_grad = requires_grad

    @property
    def values_freed(self) -> bool:
        """True when backward() freed this intermediate's values (shape and dtype remain).

        After ``backward()`` without ``retain_graph``, intermediate tensors that only the graph
        refers to give their arrays back; drawings read this flag to say so.

        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> loss = ((x * 2) * x).sum()
        >>> from minigrad.graph.trace import producer
        >>> producer(loss).inputs[0].values_freed
        False
        >>> loss.backward(); producer(loss).inputs[0].values_freed
        True
        """
        return self.data.base is FREED_BUFFER

    # --- autodiff state ------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to (and, for a leaf, accumulate in) this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._node is not None:
            raise RuntimeError(
                f"requires_grad can only be changed on a leaf tensor; {self._label()} was made "
                f"by op '{self._node.name}' (use .detach() to get a leaf)"
            )
        if value and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating point tensors can require gradients; {self._label()} has dtype "
                f"{self.data.dtype} (create it with dtype=np.float32 or from float values)"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, value: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = value
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (not produced by a recorded op)."""
        return self._node is None

    @property
    def op(self) -> str | None:
        """Name of the op that produced this tensor, or None for a leaf."""
        return None if self._node is None else self._node.name

    def backward(
        self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` is required when self is not a scalar. The graph's saved values are freed
        afterwards unless ``retain_graph=True``; ``create_graph=True`` records the backward
        pass itself so it can be differentiated again.
        """
        autograd.traverse(
            (self,), (grad,), retain_graph=retain_graph or create_graph, create_graph=create_graph
        )

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph.

        >>> import minigrad as mg
        >>> mg.tensor([1.0], requires_grad=True).detach().requires_grad
        False
        """
        return new_tensor(self.data)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self._node is not None:
            self._retains_grad = True

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a handle whose ``remove()`` takes the hook off.

        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 2)
        >>> (x * 3).sum().backward(); x.grad.data
        array([6., 6.], dtype=float32)
        >>> h.remove(); x.zero_grad(); (x * 3).sum().backward(); x.grad.data
        array([3., 3.], dtype=float32)
        """
        if not self._requires_grad:
            raise RuntimeError(
                f"cannot register a hook on {self._label()}: it does not require grad"
            )
        if self._node is not None:  # a non-leaf's hooks live on the node that made it
            return self._node.add_hook(fn)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    # --- array facts ---------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying numpy array (shared, not copied)."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use (t).all() or .any() on t.data"
            )
        return bool(self.data)

    __hash__ = object.__hash__

    def _label(self) -> str:
        return f"'{self.name}'" if self.name else f"tensor of shape {self.shape}"

    def __repr__(self) -> str:
        if self.values_freed:
            body = f"<values freed by backward()>, shape={self.shape}"
        else:
            body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extra = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extra.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extra.append(f"op={self._node.name}")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # --- operators and methods: each is one op of minigrad.functional -------------------
    # fmt: off
    def __add__(self, other: TensorLike) -> Tensor: return F.add(self, other)
    def __radd__(self, other: TensorLike) -> Tensor: return F.add(other, self)
    def __sub__(self, other: TensorLike) -> Tensor: return F.sub(self, other)
    def __rsub__(self, other: TensorLike) -> Tensor: return F.sub(other, self)
    def __mul__(self, other: TensorLike) -> Tensor: return F.mul(self, other)
    def __rmul__(self, other: TensorLike) -> Tensor: return F.mul(other, self)
    def __truediv__(self, other: TensorLike) -> Tensor: return F.div(self, other)
    def __rtruediv__(self, other: TensorLike) -> Tensor: return F.div(other, self)
    def __matmul__(self, other: TensorLike) -> Tensor: return F.matmul(self, other)
    def __rmatmul__(self, other: TensorLike) -> Tensor: return F.matmul(other, self)
    def __pow__(self, other: TensorLike) -> Tensor: return F.pow(self, other)
    def __rpow__(self, other: TensorLike) -> Tensor: return F.pow(other, self)
    def __neg__(self) -> Tensor: return F.neg(self)
    def __pos__(self) -> Tensor: return self
    def __lt__(self, other: TensorLike) -> Tensor: return F.lt(self, other)  # type: ignore[misc]
    def __le__(self, other: TensorLike) -> Tensor: return F.le(self, other)  # type: ignore[misc]
    def __gt__(self, other: TensorLike) -> Tensor: return F.gt(self, other)  # type: ignore[misc]
    def __ge__(self, other: TensorLike) -> Tensor: return F.ge(self, other)  # type: ignore[misc]
    def __eq__(self, other: object) -> Tensor: return F.eq(self, other)  # type: ignore[override]
    def __ne__(self, other: object) -> Tensor: return F.ne(self, other)  # type: ignore[override]
    def __getitem__(self, index: Any) -> Tensor: return F.getitem(self, index)
    def exp(self) -> Tensor: return F.exp(self)
    def log(self) -> Tensor: return F.log(self)
    def sqrt(self) -> Tensor: return F.sqrt(self)
    def abs(self) -> Tensor: return F.abs(self)
    def clip(self, min: float | None = None, max: float | None = None) -> Tensor: return F.clip(self, min, max)  # noqa: E501
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor: return F.sum(self, axis, keepdims)  # noqa: E501
    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor: return F.mean(self, axis, keepdims)  # noqa: E501
    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor: return F.max(self, axis, keepdims)  # noqa: E501
    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor: return F.min(self, axis, keepdims)  # noqa: E501
    def reshape(self, *shape: Any) -> Tensor: return F.reshape(self, *shape)
    def transpose(self, *axes: Any) -> Tensor: return F.transpose(self, *axes)
    def permute(self, *axes: Any) -> Tensor: return F.transpose(self, *axes)
    def expand(self, *shape: Any) -> Tensor: return F.expand(self, *shape)
    def broadcast_to(self, *shape: Any) -> Tensor: return F.expand(self, *shape)
    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor: return F.flatten(self, start_dim, end_dim)  # noqa: E501
    def astype(self, dtype: Any) -> Tensor: return F.astype(self, dtype)
    def sum_to(self, shape: Sequence[int]) -> Tensor: return F.sum_to(self, tuple(shape))
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor: return F.argmax(self, axis, keepdims)  # noqa: E501
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor: return F.argmin(self, axis, keepdims)  # noqa: E501
    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Tensor: return F.squeeze(self, axis)  # noqa: E501
    def unsqueeze(self, axis: int) -> Tensor: return F.unsqueeze(self, axis)
    @property
    def T(self) -> Tensor: return F.transpose(self)
    # fmt: on


_alloc = object.__new__


def new_tensor(
    data: np.ndarray, node: Context | None = None, requires_grad: bool = False
) -> Tensor:
    """The engine's constructor: wraps ``data`` as it is (no copy, no checks).

    >>> import numpy as np
    >>> a = np.ones(2, np.float32)
    >>> new_tensor(a).data is a
    True
    """
    t = _alloc(Tensor)
    t._set(data, node, requires_grad, None)
    return t


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """Return ``x`` as a Tensor without copying; Python numbers take ``like``'s float dtype.

    This is how an op's backward makes a constant from a numpy array (no copy, no gradient):
    ``mask = mg.as_tensor((x.data > 0).astype(grad.dtype))``.

    >>> import minigrad as mg
    >>> mg.as_tensor(2.0, like=mg.tensor([1.0], dtype="float64")).dtype
    dtype('float64')
    """
    if type(x) is float and like is not None:  # ``y * 1.5``: the commonest constant
        dt = like.data.dtype
        if dt.kind in "fc":
            return new_tensor(scalar_array(x, dt))
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            raise TypeError(f"as_tensor: cannot make a tensor of dtype {x.dtype}; {KINDS}")
        return new_tensor(x)
    if type(x) in NUMBER_DTYPE:
        dtype: np.dtype = NUMBER_DTYPE[type(x)]
        if like is not None:
            kind = like.data.dtype.kind
            if kind in "fc" or (kind in "iu" and type(x) is not float):
                dtype = like.data.dtype
        return new_tensor(scalar_array(x, dtype))
    return new_tensor(default_array(_unwrap(x)))


# Tensor's operators call the functional ops and backward() calls the engine, and both are built
# on Tensor: the one import that runs the other way, placed after the class and the functions
# above so that they exist when those modules import them (functions are looked up at call
# time). minigrad/__init__.py imports the functional ops first; op.py, which the plugin loader
# may import first, imports this module last.
from . import autograd  # noqa: E402
from . import functional as F  # noqa: E402
