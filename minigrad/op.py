"""The Op contract shared by core and plugin ops, and the Context each call records.

An op is a class with two static methods::

    class Square(mg.Op):
        formula = "dx = dy * 2 * x"
        @staticmethod
        def forward(ctx, x):              # numpy arrays in, one numpy array out
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):          # Tensors in, one gradient per input out
            (x,) = ctx.saved_tensors
            return grad * 2 * x

Positional parameters of ``forward`` are tensor inputs (a parameter with a default of ``None``
is an optional tensor input, such as conv2d's ``bias``); keyword-only parameters are attributes
and land in ``ctx.attrs``, defaults included (:class:`OpSpec` binds a user's call).

The :class:`Context` an op call gets is also the node of the graph. Its public face is
read-only (properties over private slots, each written once, in ``Context.__init__``, the one
constructor, which the engine's ``apply`` calls): ``op``, ``name``, ``inputs``, ``attrs``,
``saved``, ``output``, ``scope``, ``needs_input_grad``, ``generation``, ``seq`` and ``hooks``.
Inspectors (``mg.graph``, ``mg.onnx``, ``mg.testing``) find a tensor's node with
:func:`minigrad.graph.trace.producer` and read only this face. A hook on the output's gradient
is added with :meth:`Context.add_hook` (what ``Tensor.register_hook`` does for a non-leaf). The
engine (:mod:`minigrad.autograd`) reads and writes the private slots (saved values, freeing);
the rules it applies to what an op returns live in :mod:`minigrad.gradients`.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Context", "Op", "OpSpec", "forget_spec", "op_spec"]


class Op:
    """Base class of every operation.

    Subclasses define static ``forward(ctx, *arrays, **attrs)`` and ``backward(ctx, grad)``.
    Optional class attributes: ``name`` (shown in graphs and errors; defaults to the class
    name in lower case), ``formula`` (the derivative card shown by inspectors, e.g.
    ``"dx = dy * (x > 0)"``) and ``sample_inputs()`` (a staticmethod returning a list of
    ``(args, attrs)`` pairs used by ``python -m minigrad plugins check``) and ``mutates`` (the
    names of inputs that forward updates in place, such as batch norm's running statistics:
    forward gets those arrays writable, every other input as a read-only view).

    Example
    -------
    >>> import minigrad as mg
    >>> class Double(mg.Op):
    ...     formula = "dx = 2 * dy"
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return 2 * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return grad * 2
    >>> mg.register_op("double", Double)
    >>> mg.ops.double(mg.tensor([1.0, 2.0])).data
    array([2., 4.], dtype=float32)
    """

    name: ClassVar[str | None] = None
    #: the derivative card, e.g. ``"dx = dy * (x > 0)"`` (None: not written down)
    formula: ClassVar[str | None] = None
    #: distribution that provided the op (set by the plugin registry; None for core ops)
    plugin: ClassVar[str | None] = None
    #: the entry-point value it was loaded from, or "mg.register_op" (set by the plugin registry)
    entry_point: ClassVar[str | None] = None
    #: names of the inputs forward may write in place (buffers such as running statistics);
    #: the others reach a plugin's forward as read-only views
    mutates: ClassVar[tuple[str, ...]] = ()
    #: True for minigrad's own ops: they get the input arrays themselves, not read-only views
    _core: ClassVar[bool] = False
    #: a few core ops (the arithmetic of every training step) also write their gradient on
    #: numpy arrays: ``_array_backward(ctx, grad_array)`` returns one array (or None) per
    #: input. The engine calls it instead of ``backward`` in a first-order pass, where nothing
    #: is differentiated again, saving the recorded op calls (tests check both agree bit for
    #: bit; bench/ measures what it saves)
    _array_backward: ClassVar[Callable[..., tuple] | None] = None

    @staticmethod
    def forward(ctx: Context, *args: Any, **attrs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class OpSpec:
    """What the signature of an op's ``forward`` says: its inputs and attributes."""

    name: str
    inputs: tuple[str, ...]  # positional tensor inputs, in order
    optional: frozenset[str]  # inputs that default to None
    variadic: bool  # forward(ctx, *arrays)
    attrs: dict[str, Any]  # keyword-only attributes with their defaults (inspect.Parameter.empty)

    def bind(
        self, args: tuple, kwargs: dict[str, Any]
    ) -> tuple[tuple[Tensor | None, ...], dict[str, Any]]:
        """Split a user's call into tensor inputs and attributes (defaults filled in)."""
        n_in = len(self.inputs)
        if self.variadic:
            tensors: list[Any] = [as_tensor(a) for a in args]
            if not tensors:
                raise TypeError(f"{self.name}: expected at least one tensor input")
        else:
            tensors = self._bind_inputs(args, kwargs, n_in)
        unknown = set(kwargs) - set(self.attrs)
        if unknown:
            raise TypeError(
                f"{self.name}: unexpected attribute(s) {sorted(unknown)}; "
                f"valid attributes are {sorted(self.attrs)}"
            )
        attrs = dict(self.attrs)
        attrs.update(kwargs)
        missing = [k for k, v in attrs.items() if v is inspect.Parameter.empty]
        if missing:
            raise TypeError(f"{self.name}: missing required attribute(s) {missing}")
        return tuple(tensors), attrs

    def _bind_inputs(self, args: tuple, kwargs: dict[str, Any], n_in: int) -> list[Any]:
        if len(args) > n_in:
            extra, args = args[n_in:], args[:n_in]
            names = tuple(self.attrs)
            if len(extra) > len(names):
                raise TypeError(
                    f"{self.name}: takes {n_in} tensor input(s) {self.inputs} and "
                    f"{len(names)} attribute(s) {names}, got {n_in + len(extra)} "
                    "positional arguments"
                )
            for name, value in zip(names, extra):
                if name in kwargs:
                    raise TypeError(f"{self.name}: got multiple values for attribute '{name}'")
                kwargs[name] = value
        tensors = list(args) + [None] * (n_in - len(args))
        for i, name in enumerate(self.inputs[len(args) :], start=len(args)):
            if name in kwargs:
                tensors[i] = kwargs.pop(name)
        ref = next((t for t in tensors if hasattr(t, "_requires_grad")), None)
        for i, (name, t) in enumerate(zip(self.inputs, tensors, strict=True)):
            if t is None:
                if name not in self.optional:
                    raise TypeError(f"{self.name}: missing required tensor input '{name}'")
            else:
                tensors[i] = as_tensor(t, like=ref)
        return tensors


_SPECS: dict[type, OpSpec] = {}


def op_spec(cls: type[Op]) -> OpSpec:
    """Return (and cache) the input/attribute layout of ``cls.forward``.

    >>> import minigrad as mg
    >>> from minigrad.op import op_spec
    >>> class Scale(mg.Op):
    ...     @staticmethod
    ...     def forward(ctx, x, *, factor=2.0): return x * factor
    >>> op_spec(Scale).inputs, op_spec(Scale).attrs
    (('x',), {'factor': 2.0})
    """
    spec = _SPECS.get(cls)
    if spec is not None:
        return spec
    name = cls.__dict__.get("name") or cls.name or cls.__name__.lower()
    params = list(inspect.signature(cls.forward).parameters.values())[1:]  # drop ctx
    inputs, optional, attrs, variadic = [], set(), {}, False
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            inputs.append(p.name)
            if p.default is None:
                optional.add(p.name)
            elif p.default is not p.empty:
                raise TypeError(
                    f"op '{name}': tensor input '{p.name}' may only default to None, "
                    f"got {p.default!r}; make it keyword-only to use it as an attribute"
                )
        elif p.kind is p.VAR_POSITIONAL:
            variadic = True
        elif p.kind is p.KEYWORD_ONLY:
            attrs[p.name] = p.default
    spec = OpSpec(name, tuple(inputs), frozenset(optional), variadic, attrs)
    _SPECS[cls] = spec
    return spec


def forget_spec(cls: type[Op]) -> None:
    """Drop the cached :func:`op_spec` of ``cls`` (e.g. after giving a nameless class a name).

    >>> import minigrad as mg
    >>> from minigrad.op import forget_spec, op_spec
    >>> class Nameless(mg.Op):
    ...     @staticmethod
    ...     def forward(ctx, x): return x
    >>> op_spec(Nameless).name
    'nameless'
    >>> Nameless.name = "renamed"; forget_spec(Nameless); op_spec(Nameless).name
    'renamed'
    """
    _SPECS.pop(cls, None)


def _readonly(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


class Context:
    """One op call: what its backward needs, and the node of the graph it belongs to.

    What an op's ``forward`` and ``backward`` use:

    - ``attrs``: the call's keyword attributes, defaults included;
    - ``needs_input_grad``: one bool per input, True where a gradient is wanted;
    - ``save_for_backward(*arrays)``, then ``saved_tensors``: the saved values as Tensors. A
      saved array that *is* an input or the output comes back as that Tensor, so the backward
      pass stays connected to the graph (which makes double backward work); other saved
      arrays come back as constant Tensors. ``saved_arrays`` gives them as read-only arrays.

    What inspectors read (the node's public face, read-only: setting any of it raises
    AttributeError): ``op`` (the Op class) and ``name``, ``inputs`` (a tuple of Tensors, None
    for an absent optional input; ``x * x`` has two), ``attrs``, ``saved`` (the saved values
    as the op saved them, None once ``backward()`` freed them), ``output`` (the Tensor it
    made, while someone holds it), ``scope`` (the ``name_scope`` it ran in),
    ``needs_input_grad``, ``generation`` and ``seq`` (the engine's order) and ``hooks``.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> y = x * x
    >>> from minigrad.graph.trace import producer
    >>> node = producer(y)
    >>> node.name, [t.name for t in node.inputs], len(node.saved), node.output is y
    ('mul', ['x', 'x'], 2, True)
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_attrs",
        "_checks",
        "_generation",
        "_hooks",
        "_inputs",
        "_needs_input_grad",
        "_op",
        "_out",
        "_saved",
        "_scope",
        "_seq",
        "_uses",
    )

    def __init__(
        self,
        op: type[Op],
        attrs: dict[str, Any],
        inputs: tuple[Tensor | None, ...],
        needs_input_grad: tuple[bool, ...],
        generation: int = 0,
        seq: int = 0,
        scope: str | None = None,
    ) -> None:
        """The one constructor (the engine's ``apply``): every field is written here.

        A call that is not recorded (``no_grad``, the ops of a first-order backward) keeps
        the defaults: no generation, no place in the creation order.
        """
        self._op = op
        self._attrs = attrs
        self._inputs = inputs
        self._needs_input_grad = needs_input_grad
        self._generation = generation  # one more than the deepest input's node
        self._seq = seq  # creation order: newest first among nodes of one generation
        self._scope = scope
        self._saved: tuple[Any, ...] | None = ()  # None once backward() freed it
        self._checks: Any = None  # what detects in-place changes of saved inputs (gradients)
        self._out: weakref.ref | None = None
        self._hooks: list[Callable[[Tensor], Tensor | None]] | None = None  # see add_hook
        self._uses = 0  # input slots of consumers that ran in a backward pass (freeing)

    @property
    def op(self) -> type[Op]:
        """The Op class that was called."""
        return self._op

    @property
    def inputs(self) -> tuple[Tensor | None, ...]:
        """The input Tensors in order, None for an absent optional input (``x * x``: x twice)."""
        return self._inputs

    @property
    def attrs(self) -> dict[str, Any]:
        """The call's keyword attributes, defaults included."""
        return self._attrs

    @property
    def name(self) -> str:
        """The op's name as graphs and errors show it."""
        return op_spec(self._op).name

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """One bool per input, True where a gradient is wanted."""
        return self._needs_input_grad

    @property
    def generation(self) -> int:
        """One more than the deepest input's node (0 for a call that was not recorded)."""
        return self._generation

    @property
    def seq(self) -> int:
        """The creation order (0 for a call that was not recorded): among nodes of one
        generation, the backward pass runs the newest first."""
        return self._seq

    @property
    def scope(self) -> str | None:
        """The ``name_scope`` the call ran in, such as ``"features/conv1"`` (None: none)."""
        return self._scope

    @property
    def hooks(self) -> tuple[Callable[[Tensor], Tensor | None], ...]:
        """The hooks on the output's gradient, in the order they run (see :meth:`add_hook`)."""
        return () if self._hooks is None else tuple(self._hooks)

    def add_hook(self, fn: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``fn(grad)`` when the output's gradient is computed (``Tensor.register_hook``
        of a non-leaf lands here); a returned Tensor replaces the gradient.

        >>> import minigrad as mg
        >>> from minigrad.graph.trace import producer
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * 3
        >>> handle = producer(y).add_hook(lambda g: g * 10)
        >>> y.sum().backward(); x.grad.data
        array([30., 30.], dtype=float32)
        >>> handle.remove(); producer(y).hooks
        ()
        """
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    @property
    def saved(self) -> tuple[Any, ...] | None:
        """The values the op saved, as it saved them; None once ``backward()`` freed them."""
        return self._saved

    @property
    def output(self) -> Tensor | None:
        """The Tensor this call produced (None once it has been garbage collected)."""
        return None if self._out is None else self._out()

    @property
    def freed(self) -> bool:
        """True once a ``backward()`` without ``retain_graph`` freed the saved values."""
        return self._saved is None

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (or None) for ``backward``; read them back with ``saved_tensors``."""
        self._saved = arrays

    @property
    def saved_arrays(self) -> tuple[Any, ...]:
        """The saved values as read-only numpy arrays (a write raises instead of corrupting)."""
        if self._saved is None:
            raise RuntimeError(self._freed_message())
        return tuple(_readonly(a) if isinstance(a, np.ndarray) else a for a in self._saved)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values as Tensors (inputs and the output keep their graph identity)."""
        if self._saved is None:
            raise RuntimeError(self._freed_message())
        output = self.output
        out: list[Any] = []
        for a in self._saved:
            if not isinstance(a, np.ndarray):
                out.append(new_tensor(np.asarray(a)) if isinstance(a, np.generic) else a)
                continue
            for t in self._inputs:
                if t is not None and t.data is a:
                    out.append(t)
                    break
            else:
                if output is not None and output.data is a:
                    out.append(output)
                else:
                    out.append(new_tensor(_readonly(a)))
        return tuple(out)

    def _freed_message(self) -> str:
        return (
            f"Trying to backward through the graph a second time (op '{self.name}'): its saved "
            "values were freed by the first backward(). Pass retain_graph=True to the first "
            "backward() (or mg.grad) if you need to backward through the graph again."
        )

    def __repr__(self) -> str:
        return f"<{self.name} node #{self.seq}>"


# Imported last, as the classes above exist: tensor.py reaches the engine (autograd, functional),
# which builds on them, so this module may be the first one of the core that is imported.
from .tensor import RemovableHandle, as_tensor, new_tensor  # noqa: E402
