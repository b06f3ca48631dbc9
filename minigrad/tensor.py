"""Tensor: a numpy array plus what autodiff needs (grad, requires_grad, the op that made it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .op import Context

__all__ = ["RemovableHandle", "Tensor", "as_tensor", "freed_placeholder", "tensor"]

# the buffer behind every freed value: read-only zero bytes, wide enough for any dtype
_FREED = bytes(32)


def freed_placeholder(arr: np.ndarray) -> np.ndarray:
    """A zero-byte stand-in for a freed array: same shape and dtype, all zeros, read-only."""
    return np.ndarray(arr.shape, arr.dtype, buffer=_FREED, strides=(0,) * arr.ndim)


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

    def __call__(self) -> None:  # handles used to be plain functions: keep that spelling
        self.remove()


def _unwrap(data: Any) -> Any:
    """Nested lists/tuples with Tensors inside (``[mg.tensor(1.), mg.tensor(2.)]``) -> arrays."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_unwrap(d) for d in data]
    return data


def _checked_array(data: Any, dtype: Any) -> np.ndarray:
    try:
        arr = np.array(_unwrap(data), dtype=dtype)
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
            f"{data!r:.60}); tensors hold bool, integer, floating or complex numbers"
        )
    return arr


def _default_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Apply minigrad's dtype rules: arrays keep theirs, Python floats -> float32, ints -> int64."""
    if dtype is not None or isinstance(data, (np.ndarray, np.generic)):
        return _checked_array(data, dtype)
    arr = _checked_array(data, None)
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype.kind == "i":
        return arr.astype(np.int64, copy=False)
    return arr


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

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        self.data = _default_array(data, dtype)
        self.grad = None
        self.name = name
        self._node = None
        self._hooks = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # --- construction without copies (used by the engine) -------------------------------

    @classmethod
    def _new(cls, arr: np.ndarray, node: Context | None, requires_grad: bool) -> Tensor:
        """The one construction path besides ``__init__``: wrap ``arr`` as it is (no copy)."""
        t = cls.__new__(cls)
        t.data = arr
        t.grad = None
        t.name = None
        t._node = node
        t._hooks = None
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
        return self.data.base is _FREED

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
        from .autograd import traverse

        traverse(
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

    # --- operators (defined in core_ops, attached below) --------------------------------
    # arithmetic, comparisons, indexing, reductions and shape methods are installed by
    # core_ops._install_methods() so the op definitions and their Tensor spellings live together.


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """Return ``x`` as a Tensor without copying; Python numbers take ``like``'s float dtype.

    >>> import minigrad as mg
    >>> mg.as_tensor(2.0, like=mg.tensor([1.0], dtype="float64")).dtype
    dtype('float64')
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            raise TypeError(
                f"as_tensor: cannot make a tensor of dtype {x.dtype}; tensors hold bool, "
                "integer, floating or complex numbers"
            )
        return Tensor._new(x, None, False)
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        if like is not None:
            kind = like.data.dtype.kind
            if kind in "fc" or (kind in "iu" and not isinstance(x, float)):
                return Tensor._make_const(np.array(x, dtype=like.data.dtype))
        return Tensor._make_const(_default_array(x))
    return Tensor._make_const(_default_array(x))


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
