"""Module: the base class of layers and models.

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

Calling a module runs ``forward`` inside ``mg.name_scope(<its label>)``, so every op it
records carries ``ctx.scope`` such as ``"conv1"`` or ``"features/relu1"`` and graph drawings
cluster by layer. A module's label is its attribute name, except inside a
:class:`~minigrad.nn.Sequential` that numbers its children, where it is the layer type
numbered per type (``conv1``, ``relu1``, ``pool1``, ``fc1``...); keys (``state_dict``,
``named_parameters``, ``model[0]``) stay ``"0"``, ``"1"``... as in PyTorch. The model you
call at the top level has no attribute name and adds no scope. Parameters are named by the
labels too (``Parameter.name``: ``"conv1.weight"``, ``"features.fc1.bias"``), so drawings
show the same name for a layer and its weights.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..autograd import name_scope
from ..tensor import Tensor, as_tensor
from . import _context
from ._context import module_path as _path
from .parameter import Parameter
from .state import check_state
from .summary import ModelSummary, summarize

__all__ = ["LoadResult", "Module", "Parameter", "display_names", "module_display_paths"]


def display_names(model: Any) -> dict[str, str]:
    """``{state_dict key: display name}`` of every parameter: each module path segment is
    replaced by the module's label (``"0.weight"`` -> ``"conv1.weight"``).

    >>> import minigrad as mg
    >>> display_names(mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU()))
    {'0.weight': 'conv1.weight', '0.bias': 'conv1.bias'}
    """
    paths = module_display_paths(model)
    out = {}
    for key, _ in model.named_parameters():
        mod, _, pname = key.rpartition(".")
        shown = paths.get(mod, mod)
        out[key] = f"{shown}.{pname}" if shown else pname
    return out


def module_display_paths(model: Any) -> dict[str, str]:
    """``{module key path: display path}`` (``"features.0"`` -> ``"features.conv1"``)."""
    paths = {"": ""}
    for path, module in model.named_modules():
        if not path:
            continue
        parent, _, last = path.rpartition(".")
        head = paths.get(parent, parent)
        label = module.label or last
        paths[path] = f"{head}.{label}" if head else label
    return paths


def _name_parameters(module: Module, shown: str) -> None:
    """Name ``module``'s parameters by their display path under ``shown`` (``conv1.weight``,
    ``features.conv1.bias``): the names drawings and the Recorder show. A name the user gave
    is kept; a parameter registered in several places is named after the latest one."""
    names = display_names(module)
    for key, p in module.named_parameters():
        if getattr(p, "_auto_name", False):
            p.name = f"{shown}.{names[key]}"


def _as_buffer(owner: str, name: str, value: Any) -> Tensor | None:
    """A buffer's value as a Tensor without gradient (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TypeError(
                f"{owner}: buffer '{name}' must not require a gradient (buffers are not "
                "trained); register a Parameter instead, or pass tensor.detach()"
            )
        return value
    if isinstance(value, (np.ndarray, np.generic, int, float, bool, list, tuple)):
        return as_tensor(np.asarray(value))
    raise TypeError(
        f"{owner}: buffer '{name}' must be a Tensor, a numpy array or None, "
        f"got {type(value).__name__}"
    )


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: names missing from the state, and extras."""

    missing_keys: list[str]
    unexpected_keys: list[str]


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

    # set in __new__ through __dict__ (bypassing __setattr__); declared here for type checkers
    training: bool
    _parameters: OrderedDict[str, Parameter]
    _buffers: OrderedDict[str, Tensor | None]
    _persistent: set[str]
    _modules: OrderedDict[str, Module]
    _name: str | None
    _label: str | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        # the registries exist before any __init__ runs, so a subclass that assigns
        # attributes before (or without) calling super().__init__() still works
        self = super().__new__(cls)
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()  # state that is not trained: running statistics, counters
        d["_persistent"] = set()  # the buffers state_dict() includes
        d["_modules"] = OrderedDict()
        d["_name"] = None  # attribute name in the parent: the key in paths and state_dict
        d["_label"] = None  # display name (scope, summary) when it differs from _name
        d["training"] = True
        return self

    def __init__(self) -> None:
        pass

    # --- registration --------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        params: OrderedDict[str, Parameter] = self.__dict__["_parameters"]
        modules: OrderedDict[str, Module] = self.__dict__["_modules"]
        buffers: OrderedDict[str, Tensor | None] = self.__dict__["_buffers"]
        if name in buffers and not isinstance(value, (Parameter, Module)):
            value = _as_buffer(type(self).__name__, name, value)
            buffers[name] = value
        elif isinstance(value, Parameter):
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
            _name_parameters(value, value.__dict__["_label"] or name)
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
        self.__dict__["_buffers"].pop(name, None)
        self.__dict__["_persistent"].discard(name)
        self.__dict__["_modules"].pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register ``tensor`` as a buffer: state that is not a parameter (no gradient, not
        returned by ``parameters()``), such as batch norm's running statistics.

        A persistent buffer is part of ``state_dict()`` (saved by ``mg.save``, restored by
        ``load_state_dict``); ``None`` registers an absent buffer. Assigning to the attribute
        later replaces the buffer. ``model.to(dtype)`` converts floating buffers too.

        >>> import minigrad as mg
        >>> m = mg.nn.Module()
        >>> m.register_buffer("steps", mg.tensor(0))
        >>> list(m.state_dict()), list(m.parameters())
        (['steps'], [])
        """
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(
                f"register_buffer: name must be a non-empty string without '.', got {name!r}"
            )
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: '{name}' is already a parameter or sub-module")
        self.__dict__["_buffers"][name] = None  # so that __setattr__ treats it as a buffer
        if persistent:
            self.__dict__["_persistent"].add(name)
        else:
            self.__dict__["_persistent"].discard(name)
        setattr(self, name, tensor)

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
        rows = _context.summary_rows.get()
        if rows is not None:  # a summary is running: keep a row in call order
            row = len(rows)
            rows.append(None)
        if name is None:
            out = self.forward(*args, **kwargs)
        else:
            token = _path.set(path)
            try:
                with name_scope(self._label or name):
                    out = self.forward(*args, **kwargs)
            finally:
                _path.reset(token)
        if rows is not None:
            rows[row] = (path or "", self, out)
        return out

    @property
    def label(self) -> str | None:
        """The name drawings and summaries show: ``conv1`` for ``model.conv1``, or for the
        first Conv2d of an unnamed Sequential (whose key is ``"0"``); None at the top level.

        >>> import minigrad as mg
        >>> model = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.ReLU(), mg.nn.Linear(3, 2))
        >>> [m.label for m in model]
        ['fc1', 'relu1', 'fc2']
        """
        return self._label if self._label is not None else self._name

    def _where(self) -> str:
        """``Linear(in_features=4, out_features=3)``, plus `` at 'fc1'`` inside a model
        (`` at '1' (fc2)`` when the key and the label differ)."""
        text = f"{type(self).__name__}({self.extra_repr()})"
        path = _path.get()
        if path is None:
            return text
        label = self.label
        shown = "" if label is None or label == self._name else f" ({label})"
        return f"{text} at '{path}'{shown}"

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

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, Tensor) for every buffer that is not None, a module's own first.

        >>> import minigrad as mg
        >>> [n for n, _ in mg.nn.Sequential(mg.nn.BatchNorm2d(3)).named_buffers()]
        ['0.running_mean', '0.running_var', '0.num_batches_tracked']
        """
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of the module and its sub-modules, in ``named_buffers`` order."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _state_entries(self) -> list[tuple[str, Tensor]]:
        """What ``state_dict`` holds, in PyTorch's order: per module (depth first) its
        parameters, then its persistent buffers; a shared parameter once."""
        seen: set[int] = set()
        out: list[tuple[str, Tensor]] = []
        for mod_name, module in self.named_modules():
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append(((f"{mod_name}.{name}" if mod_name else name), p))
            for name, b in module._buffers.items():
                if b is not None and name in module._persistent:
                    out.append(((f"{mod_name}.{name}" if mod_name else name), b))
        return out

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
        for module in self.modules():  # floating buffers follow (counters stay integers)
            for b in module._buffers.values():
                if b is not None and b.dtype.kind == "f" and b.dtype != dtype:
                    b.data = b.data.astype(dtype)
        return self

    # --- state ---------------------------------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An OrderedDict mapping each parameter's and persistent buffer's dotted name to a
        copy of its array (per module: parameters, then buffers, as in PyTorch).

        >>> import minigrad as mg
        >>> {k: v.shape for k, v in mg.nn.Linear(4, 3).state_dict().items()}
        {'weight': (3, 4), 'bias': (3,)}
        >>> list(mg.nn.BatchNorm2d(2).state_dict())
        ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
        """
        return OrderedDict((name, t.data.copy()) for name, t in self._state_entries())

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy arrays from ``state`` into the parameters and persistent buffers with the same
        names.

        Everything is checked before anything changes, so a rejected state leaves the model
        as it was. With ``strict=True`` a parameter missing from ``state`` or an entry the
        model does not have is an error; shapes and dtypes must always match. The error
        names the first offending entry in the model's parameter order.

        >>> import minigrad as mg
        >>> a, b = mg.nn.Linear(2, 2), mg.nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        LoadResult(missing_keys=[], unexpected_keys=[])
        """
        updates, missing, unexpected = check_state(self, state, strict)
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

    def summary(self, input_shape: tuple[int, ...], dtype: Any = None) -> ModelSummary:
        """Run a forward pass on zeros of ``input_shape`` (batch included) and tabulate layers.

        Each row is a sub-module call, in call order: its label, type, output shape and
        parameter count (its own and its sub-modules'). Totals count every parameter once,
        and a last line counts the buffers (batch norm's running statistics). The pass runs
        under ``no_grad`` in evaluation mode and changes nothing. Nothing is printed: the
        returned :class:`~minigrad.nn.ModelSummary` shows itself as the table in a REPL or
        notebook, and ``print(model.summary(...))`` prints it from a script.

        >>> import minigrad as mg
        >>> m = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.Linear(3, 2))
        >>> s = m.summary((1, 4))
        >>> [(r.name, r.label, r.output_shape, r.params) for r in s.rows]
        [('0', 'fc1', (1, 3), 15), ('1', 'fc2', (1, 2), 8)]
        >>> s.total_params
        23
        """
        return summarize(self, input_shape, dtype)
