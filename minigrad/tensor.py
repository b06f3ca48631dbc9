"""Tensor: a numpy array plus what autodiff needs (grad, requires_grad, the op that made it)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ._arrays import (
    FREED_BUFFER,
    KINDS,
    NUMBER_DTYPE,
    default_array,
    freed_placeholder,
    scalar_array,
)
from .op import RemovableHandle

if TYPE_CHECKING:
    from . import autograd as _engine
    from . import functional as F
    from .op import Context

__all__ = ["RemovableHandle", "Tensor", "TensorLike", "as_tensor", "freed_placeholder"]

#: what an operator accepts besides a Tensor: arrays and Python numbers (become constants)
TensorLike: TypeAlias = "Tensor | np.ndarray | float | int | bool"
Axis: TypeAlias = "int | Sequence[int] | None"


class _Lazy:
    """Stands for a module that imports this one (``functional``, ``autograd``) until first use.

    Tensor's operators call ``F.<name>``; the first lookup of a name imports the module and
    keeps the function here (later calls: one attribute lookup). So imports run one way
    while every operator is declared in the class body, visible to type checkers."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        value = getattr(importlib.import_module(self._module), name)
        setattr(self, name, value)
        return value


if not TYPE_CHECKING:
    F = _Lazy("minigrad.functional")
    _engine = _Lazy("minigrad.autograd")


def _unwrap(data: Any) -> Any:
    """Nested lists/tuples with Tensors inside (``[mg.tensor(1.), mg.tensor(2.)]``) -> arrays."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_unwrap(d) for d in data]
    return data


def _default_array(data: Any, dtype: Any = None) -> np.ndarray:  # Tensors inside lists too
    return default_array(_unwrap(data), dtype)


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
        _fill(self, _default_array(data, dtype), None, False)
        self.name = name
        if requires_grad:
            self.requires_grad = True

    # --- construction without copies (used by the engine) -------------------------------

    @classmethod
    def _new(cls, arr: np.ndarray, node: Context | None, requires_grad: bool) -> Tensor:
        """Wrap ``arr`` as it is (no copy, no checks); ``node`` is the op call that made it."""
        # the same fields as _fill, set inline: this runs for every op's output
        t = cls.__new__(cls)
        t.data = arr
        t.grad = t.name = t._hooks = None
        t._node = node
        t._retains_grad = False
        t._requires_grad = requires_grad
        return t

    @classmethod
    def _make_const(cls, arr: np.ndarray) -> Tensor:
        """Kept for older callers; public spelling: ``mg.as_tensor(array)``."""
        return cls._new(arr, None, False)

    @property
    def values_freed(self) -> bool:
        """True when backward() freed this intermediate's values (shape and dtype remain).

        After ``backward()`` without ``retain_graph``, intermediate tensors that only the graph
        refers to give their arrays back; drawings read this flag to say so.

        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> loss = ((x * 2) * x).sum()
        >>> loss._node.inputs[0].values_freed
        False
        >>> loss.backward(); loss._node.inputs[0].values_freed
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
        _engine.traverse(
            (self,), (grad,), retain_graph=retain_graph or create_graph, create_graph=create_graph
        )

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph.

        >>> import minigrad as mg
        >>> mg.tensor([1.0], requires_grad=True).detach().requires_grad
        False
        """
        return Tensor._new(self.data, None, False)

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
        if self._node is not None:
            if self._node.hooks is None:
                self._node.hooks = []
            hooks = self._node.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

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
    def __lt__(self, other: TensorLike) -> Tensor: return F.lt(self, other)
    def __le__(self, other: TensorLike) -> Tensor: return F.le(self, other)
    def __gt__(self, other: TensorLike) -> Tensor: return F.gt(self, other)
    def __ge__(self, other: TensorLike) -> Tensor: return F.ge(self, other)
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
    def squeeze(self, axis: Axis = None) -> Tensor: return F.squeeze(self, axis)
    def unsqueeze(self, axis: int) -> Tensor: return F.unsqueeze(self, axis)
    @property
    def T(self) -> Tensor: return F.transpose(self)
    # fmt: on


def _fill(t: Tensor, arr: np.ndarray, node: Context | None, requires_grad: bool) -> None:
    """Set every field of a new Tensor: the one place a Tensor's state is initialised."""
    t.data = arr
    t.grad = None
    t.name = None
    t._node = node
    t._hooks = None
    t._retains_grad = False
    t._requires_grad = requires_grad


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
            return Tensor._new(scalar_array(x, dt), None, False)
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            raise TypeError(f"as_tensor: cannot make a tensor of dtype {x.dtype}; {KINDS}")
        return Tensor._new(x, None, False)
    if type(x) in NUMBER_DTYPE:
        dtype = NUMBER_DTYPE[type(x)]
        if like is not None:
            kind = like.data.dtype.kind
            if kind in "fc" or (kind in "iu" and type(x) is not float):
                dtype = like.data.dtype
        return Tensor._new(scalar_array(x, dtype), None, False)
    return Tensor._new(_default_array(x), None, False)
