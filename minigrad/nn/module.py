"""Module, Parameter and Sequential: the containers models are built from.

A :class:`Module` registers every :class:`Parameter` and sub-module assigned to one of its
attributes, in assignment order, so ``named_parameters()`` is the same in every run::

    class LeNet(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = mg.nn.Conv2d(1, 6, 5)      # registered as "conv1"
            self.fc = mg.nn.Linear(6 * 12 * 12, 10)  # registered as "fc"

        def forward(self, x):
            x = mg.ops.max_pool2d(mg.ops.relu(self.conv1(x)), kernel_size=2)
            return self.fc(x.flatten(1))

Calling a module runs ``forward`` inside ``mg.name_scope(<its attribute name>)``, so every op
it records carries ``ctx.scope`` such as ``"conv1"`` or ``"features/0"`` and graph drawings
cluster by layer. The model you call at the top level has no attribute name and adds no scope.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..autograd import name_scope, no_grad
from ..tensor import Tensor

__all__ = ["LoadResult", "ModelSummary", "Module", "Parameter", "Sequential", "SummaryRow"]


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module: a leaf that requires grad.

    Float data keeps its dtype (float64 arrays stay float64); anything else becomes float32.
    A Parameter assigned to a Module attribute is registered under that name and, unless
    you named it, is named after its path in the model (``"conv1.weight"``), which graph
    drawings show.

    >>> import minigrad as mg
    >>> w = mg.nn.Parameter(mg.zeros(2, 3))
    >>> w.requires_grad, w.dtype, w.is_leaf
    (True, dtype('float32'), True)
    """

    # True when the name was given by a Module (and may be updated), False when set by the user
    __slots__ = ("_auto_name",)

    def __init__(
        self, data: Any, requires_grad: bool = True, name: str | None = None, dtype: Any = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if dtype is None:
            kind = np.asarray(data).dtype.kind
            dtype = None if kind == "f" else np.float32
        super().__init__(data, requires_grad=requires_grad, name=name, dtype=dtype)
        self._auto_name = False

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: names missing from the state, and extras."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# the dotted path of the module being called ("features.conv1"), for error messages
_path: ContextVar[str | None] = ContextVar("minigrad_module_path", default=None)
# rows collected by Module.summary(), or None when no summary is running
_recorder: ContextVar[list | None] = ContextVar("minigrad_summary_rows", default=None)


class Module:
    """Base class of layers and models.

    Subclasses assign Parameters and Modules to attributes in ``__init__`` and define
    ``forward``; calling the module runs ``forward`` inside a name scope named after the
    module's attribute name in its parent (for graph drawings). ``extra_repr()`` gives the
    text inside the parentheses of the module's repr.

    >>> import minigrad as mg
    >>> class Affine(mg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = mg.nn.Parameter(mg.ones(3))
    ...         self.shift = mg.nn.Parameter(mg.zeros(3))
    ...     def forward(self, x):
    ...         return x * self.scale + self.shift
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()]
    ['scale', 'shift']
    >>> m(mg.tensor([1.0, 2.0, 3.0])).data
    array([1., 2., 3.], dtype=float32)
    """

    training: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        # the registries exist before any __init__ runs, so a subclass that assigns
        # attributes before (or without) calling super().__init__() still works
        self = super().__new__(cls)
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_modules"] = OrderedDict()
        d["_name"] = None
        d["training"] = True
        return self

    def __init__(self) -> None:
        pass

    # --- registration --------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        params: OrderedDict[str, Parameter] = self.__dict__["_parameters"]
        modules: OrderedDict[str, Module] = self.__dict__["_modules"]
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
            if value.name is None or getattr(value, "_auto_name", False):
                value.name = name
                value._auto_name = True
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
            if value._name is None:
                value.__dict__["_name"] = name
            for sub, p in value.named_parameters():
                if getattr(p, "_auto_name", False):
                    p.name = f"{name}.{sub}"
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter '{name}' of "
                    f"{type(self).__name__}: wrap it in mg.nn.Parameter (or assign None to "
                    "remove the parameter)"
                )
            del params[name]
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to sub-module '{name}' of "
                    f"{type(self).__name__}: expected a Module (or None to remove it)"
                )
            del modules[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_modules"].pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (same as ``setattr(self, name, param)``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: '{name}' must be a Parameter or None, "
                f"got {type(param).__name__}"
            )
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` under ``name`` (same as ``setattr(self, name, module)``)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: '{name}' must be a Module or None, got {type(module).__name__}"
            )
        setattr(self, name, module)

    # --- calling -------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override it. Call the module, not ``forward``."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = self._name
        outer = _path.get()
        path = outer if name is None else (name if outer is None else f"{outer}.{name}")
        rows = _recorder.get()
        if rows is not None:  # a summary is running: keep a row in call order
            row = len(rows)
            rows.append(None)
        if name is None:
            out = self.forward(*args, **kwargs)
        else:
            token = _path.set(path)
            try:
                with name_scope(name):
                    out = self.forward(*args, **kwargs)
            finally:
                _path.reset(token)
        if rows is not None:
            rows[row] = (path or "", self, out)
        return out

    def _where(self) -> str:
        """``Linear(in_features=4, out_features=3)``, plus `` at 'fc1'`` inside a model."""
        text = f"{type(self).__name__}({self.extra_repr()})"
        path = _path.get()
        return text if path is None else f"{text} at '{path}'"

    # --- traversal -----------------------------------------------------------------------

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs: a module's own first, then each child's, in order.

        A Parameter shared by two modules is listed once.

        >>> import minigrad as mg
        >>> [n for n, _ in mg.nn.Sequential(mg.nn.Linear(2, 3)).named_parameters()]
        ['0.weight', '0.bias']
        """
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter of the module and its sub-modules, in ``named_parameters`` order.

        >>> import minigrad as mg
        >>> sum(p.size for p in mg.nn.Linear(4, 3).parameters())
        15
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct sub-module, in assignment order."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        """Each direct sub-module, in assignment order."""
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module (name ``""``) and every sub-module, depth first.

        >>> import minigrad as mg
        >>> [n for n, _ in mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.ReLU()).named_modules()]
        ['', '0', '1']
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:  # iterative pre-order walk; children pushed in reverse to keep order
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, depth first."""
        for _, m in self.named_modules():
            yield m

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module and then on self (e.g. custom initialisation)."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    # --- training state ------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every sub-module; returns self."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        """Same as ``train(False)``; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; returns self.

        >>> import minigrad as mg
        >>> fc = mg.nn.Linear(2, 2).requires_grad_(False)
        >>> [p.requires_grad for p in fc.parameters()]
        [False, False]
        """
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def to(self, dtype: Any) -> Module:
        """Convert every parameter to a floating ``dtype`` in place; returns self.

        Gradients are dropped. Make optimizers after converting (their state has the old
        dtype). ``model.to(np.float64)`` is handy for gradient checks of a whole model.

        >>> import numpy as np
        >>> import minigrad as mg
        >>> mg.nn.Linear(2, 2).to(np.float64).weight.dtype
        dtype('float64')
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(
                f"{type(self).__name__}.to: parameters must stay floating point, got {dtype}"
            )
        for p in self.parameters():
            if p.dtype != dtype:
                p.data = p.data.astype(dtype)
                p.grad = None
        return self

    # --- state ---------------------------------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An OrderedDict mapping each parameter's dotted name to a copy of its array.

        >>> import minigrad as mg
        >>> {k: v.shape for k, v in mg.nn.Linear(4, 3).state_dict().items()}
        {'weight': (3, 4), 'bias': (3,)}
        """
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy arrays from ``state`` into the parameters with the same names.

        Everything is checked before anything changes, so a rejected state leaves the model
        as it was. With ``strict=True`` a parameter missing from ``state`` or an entry the
        model does not have is an error; shapes and dtypes must always match. The error
        names the first offending entry in the model's parameter order.

        >>> import minigrad as mg
        >>> a, b = mg.nn.Linear(2, 2), mg.nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        LoadResult(missing_keys=[], unexpected_keys=[])
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to arrays (such as "
                f"model.state_dict() or mg.load(path)), got {type(state).__name__}"
            )
        owner = type(self).__name__
        updates: list[tuple[Parameter, np.ndarray]] = []
        missing: list[str] = []
        named = list(self.named_parameters())
        for name, p in named:
            if name not in state:
                if strict:
                    raise ValueError(
                        f"load_state_dict ({owner}): parameter '{name}' (shape {p.shape}, "
                        f"{p.dtype}) is missing from the state; pass strict=False to skip it"
                    )
                missing.append(name)
                continue
            value = state[name]
            arr = value.data if isinstance(value, Tensor) else value
            if not isinstance(arr, np.ndarray):
                raise TypeError(
                    f"load_state_dict ({owner}): entry '{name}' is a {type(value).__name__}; "
                    "expected a numpy array or a Tensor"
                )
            if arr.shape != p.shape:
                raise ValueError(
                    f"load_state_dict ({owner}): entry '{name}' has shape {arr.shape} but the "
                    f"model's parameter has shape {p.shape}"
                )
            if arr.dtype != p.dtype:
                raise ValueError(
                    f"load_state_dict ({owner}): entry '{name}' has dtype {arr.dtype} but the "
                    f"model's parameter has dtype {p.dtype}; convert it with .astype() first"
                )
            updates.append((p, arr))
        known = {name for name, _ in named}
        unexpected = [k for k in state if k not in known]
        if unexpected and strict:
            raise ValueError(
                f"load_state_dict ({owner}): unexpected entry '{unexpected[0]}' (the model has "
                f"no such parameter); pass strict=False to ignore it"
            )
        for p, arr in updates:
            if p.data.flags.writeable:
                np.copyto(p.data, arr)  # in place: views and optimizers keep seeing it
            else:
                p.data = arr.copy()
        return LoadResult(missing, unexpected)

    # --- display -------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (empty by default)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"

    def summary(
        self,
        input_shape: tuple[int, ...],
        dtype: Any = None,
        print_table: bool = True,
    ) -> ModelSummary:
        """Run a forward pass on zeros of ``input_shape`` (batch included) and tabulate layers.

        Each row is a sub-module call, in call order: its dotted name, type, output shape and
        parameter count (its own and its sub-modules'). Totals count every parameter once.
        The pass runs under ``no_grad`` and records nothing. Prints the table unless
        ``print_table=False``; the returned :class:`ModelSummary` has the rows.

        >>> import minigrad as mg
        >>> m = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.Linear(3, 2))
        >>> s = m.summary((1, 4), print_table=False)
        >>> [(r.name, r.output_shape, r.params) for r in s.rows]
        [('0', (1, 3), 15), ('1', (1, 2), 8)]
        >>> s.total_params
        23
        """
        if dtype is None:
            first = next(self.parameters(), None)
            dtype = np.float32 if first is None else first.dtype
        x = Tensor._make_const(np.zeros(tuple(int(s) for s in input_shape), dtype=dtype))
        rows: list = []
        token = _recorder.set(rows)
        path_token = _path.set(None)
        try:
            with no_grad():
                out = self.forward(x)
        finally:
            _recorder.reset(token)
            _path.reset(path_token)
        table = []
        for path, module, result in rows:
            n = sum(p.size for p in module.parameters())
            table.append(
                SummaryRow(path, type(module).__name__, _shape_of(result), n, path.count("."))
            )
        params = list(self.parameters())
        return ModelSummary(
            model=type(self).__name__,
            input_shape=tuple(x.shape),
            output_shape=_shape_of(out),
            rows=table,
            total_params=sum(p.size for p in params),
            trainable_params=sum(p.size for p in params if p.requires_grad),
            _print=print_table,
        )


def _shape_of(result: Any) -> Any:
    if isinstance(result, (Tensor, np.ndarray)):
        return tuple(result.shape)
    if isinstance(result, (tuple, list)):
        return tuple(_shape_of(r) for r in result)
    return None


@dataclass(frozen=True)
class SummaryRow:
    """One called sub-module in :meth:`Module.summary`."""

    name: str
    type: str
    output_shape: Any
    params: int
    depth: int = 0


@dataclass
class ModelSummary:
    """The result of :meth:`Module.summary`; ``str()`` (and ``repr``) give the table."""

    model: str
    input_shape: tuple[int, ...]
    output_shape: Any
    rows: list[SummaryRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    _print: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self._print:
            print(self.table())

    def table(self) -> str:
        """The summary as a fixed-width text table."""
        head = ("Layer (type)", "Output shape", "Params")
        body = [
            ("  " * r.depth + f"{r.name} ({r.type})", str(r.output_shape), f"{r.params:,}")
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(3)]
        total_width = sum(widths) + 4

        def line(row: tuple[str, str, str]) -> str:
            return f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}"

        rule = "-" * total_width
        out = [f"{self.model} summary, input shape {self.input_shape}", rule, line(head), rule]
        out += [line(r) for r in body]
        out += [
            rule,
            f"Output shape: {self.output_shape}",
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
        ]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    __repr__ = __str__


class Sequential(Module):
    """Modules applied one after another; children are named "0", "1"... unless named.

    >>> import minigrad as mg
    >>> model = mg.nn.Sequential(mg.nn.Linear(4, 8), mg.nn.ReLU(), mg.nn.Linear(8, 2))
    >>> len(model), type(model[1]).__name__
    (3, 'ReLU')
    >>> from collections import OrderedDict
    >>> named = mg.nn.Sequential(OrderedDict([("fc", mg.nn.Linear(4, 2))]))
    >>> [n for n, _ in named.named_parameters()]
    ['fc.weight', 'fc.bias']
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            items: Iterable[tuple[str, Any]] = modules[0].items()
        else:
            items = ((str(i), m) for i, m in enumerate(modules))
        for name, m in items:
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential: item {name!r} is a {type(m).__name__}; expected a Module "
                    "(activations such as ReLU are modules: mg.nn.ReLU())"
                )
            setattr(self, str(name), m)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its index); returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self)), module)
        return self

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(
                f"Sequential index {index} is out of range for {len(items)} modules"
            ) from None
        except TypeError:
            raise TypeError(
                f"Sequential indices must be integers or slices, got {type(index).__name__}"
            ) from None
