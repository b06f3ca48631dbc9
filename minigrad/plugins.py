"""The plugin registry: ops discovered through entry points, exposed as ``mg.ops.<name>``.

Any installed distribution can add ops to minigrad by declaring entry points in the group
``"minigrad.ops"``; no change to minigrad is needed::

    [project.entry-points."minigrad.ops"]
    swish = "my_layers.swish:Swish"

after which ``mg.ops.swish(x, beta=2.0)`` works. In a notebook, ``mg.register_op("swish",
Swish)`` does the same without packaging.

Loading rules
-------------
- ``import minigrad`` imports no plugin. Entry points are read once, on first use of the
  registry (``mg.ops.<name>``, :func:`available`, :func:`register_op`), from the package
  metadata only; the module behind an op is imported when that op is first used.
- A plugin that fails to import raises :class:`PluginLoadError` (an ``ImportError``) and one
  that breaks the Op contract raises :class:`PluginContractError` (a ``TypeError``), naming
  the op, its distribution and version and the entry-point value; every other op keeps
  working.
- Two distributions that register the same name make that name an error
  (:class:`PluginConflictError`, listing both) when it is used; nothing is decided by install
  order. ``mg.ops.get("dist-name::op")`` picks one of them.
- Core op names (``add``, ``mul``, ``matmul``, ``sum``, ... see :data:`RESERVED_NAMES`) are
  reserved: a plugin using one is reported as a conflict and :func:`register_op` refuses it.

Environment variables (read when the registry scans, i.e. on first use or after
:func:`refresh`)
-------------------------------------------------------------------------------------------
``MINIGRAD_DISABLE_PLUGIN_AUTOLOAD=1``
    Do not load any op from entry points. They are still listed (status ``"disabled"``),
    using one raises :class:`PluginDisabledError` naming the variable, and
    :func:`register_op` still works.
``MINIGRAD_DISABLE_PLUGINS=name1,name2``
    Disable the named entry-point ops. An item may be an op name (``relu``), one
    distribution's op (``my-layers::relu``) or a whole distribution (``my-layers``).

Example
-------
>>> import minigrad as mg
>>> class Halve(mg.Op):
...     '''Half the input.'''
...     @staticmethod
...     def forward(ctx, x):
...         return x / 2
...     @staticmethod
...     def backward(ctx, grad):
...         return grad / 2
>>> mg.register_op("halve", Halve)
>>> mg.ops.halve(mg.tensor([1.0, 2.0])).data
array([0.5, 1. ], dtype=float32)
>>> [r.status for r in mg.plugins.available() if r.name == "halve"]
['loaded']
>>> mg.plugins.unregister_op("halve")

Tests and tools can build a separate :class:`Registry` with their own entry-point source
(``Registry(entry_points_fn=...)``), or point the default one at it with :func:`reset`.
"""

from __future__ import annotations

import inspect
import keyword
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import core_ops as _core_ops
from . import op as _op_module
from .autograd import call_op
from .op import Op, op_spec

__all__ = [
    "ENV_DISABLE_AUTOLOAD",
    "ENV_DISABLE_PLUGINS",
    "GROUP",
    "RESERVED_NAMES",
    "STATUSES",
    "OpsNamespace",
    "PluginConflictError",
    "PluginContractError",
    "PluginDisabledError",
    "PluginError",
    "PluginInfo",
    "PluginLoadError",
    "Registry",
    "UnknownOpError",
    "available",
    "ops",
    "refresh",
    "register_op",
    "registry",
    "reset",
    "unregister_op",
]

#: entry-point group scanned for ops
GROUP = "minigrad.ops"
#: set to 1/true/yes/on to keep every entry-point op from loading
ENV_DISABLE_AUTOLOAD = "MINIGRAD_DISABLE_PLUGIN_AUTOLOAD"
#: comma-separated op names, ``dist::name`` items or distribution names to disable
ENV_DISABLE_PLUGINS = "MINIGRAD_DISABLE_PLUGINS"
#: the statuses :func:`available` reports
STATUSES = ("available", "loaded", "broken", "disabled", "conflict")

_CORE_NAMES = (  # noqa: SIM905 (a word list reads better than 29 quoted lines)
    "add sub mul div neg pow exp log sqrt abs clip maximum minimum where matmul sum mean max min "
    "reshape transpose expand getitem concatenate stack pad sum_to astype index_add"
).split()
#: names of core ops; no plugin may use them
RESERVED_NAMES: frozenset[str] = frozenset(_CORE_NAMES) | frozenset(
    c.__dict__["name"]
    for c in vars(_core_ops).values()
    if isinstance(c, type) and issubclass(c, Op) and isinstance(c.__dict__.get("name"), str)
)

_TRUE = {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- errors


class PluginError(Exception):
    """Base class of the registry's errors.

    ``op``, ``distribution``, ``version`` and ``entry_point`` say which plugin op is at fault
    (None where unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        op: str | None = None,
        distribution: str | None = None,
        version: str | None = None,
        entry_point: str | None = None,
    ) -> None:
        super().__init__(message)
        self.op = op
        self.distribution = distribution
        self.version = version
        self.entry_point = entry_point


class PluginLoadError(PluginError, ImportError):
    """A plugin op's module (or the object its entry point names) could not be imported.

    The original exception is chained as ``__cause__``.
    """


class PluginContractError(PluginError, TypeError):
    """A plugin op (or a class given to :func:`register_op`) breaks the Op contract."""


class PluginConflictError(PluginError, LookupError):
    """An op name is claimed twice (two distributions, or a reserved core name)."""


class PluginDisabledError(PluginError, RuntimeError):
    """An op was disabled by an environment variable (the message names it)."""


class UnknownOpError(PluginError, AttributeError):
    """No op has this name; the message suggests close matches."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class PluginInfo:
    """One row of :func:`available`: an op and where it comes from.

    ``status`` is one of ``"available"`` (found, not imported yet), ``"loaded"``,
    ``"broken"`` (import failed or contract broken), ``"disabled"`` and ``"conflict"``;
    ``error`` says what is wrong (None when nothing is). ``source`` is ``"entry point"``
    or ``"register_op"``.

    >>> from minigrad.plugins import PluginInfo
    >>> PluginInfo("swish", "my_layers:Swish", "my-layers", "1.0", "available").status
    'available'
    """

    name: str
    entry_point: str
    distribution: str | None
    version: str | None
    status: str
    error: str | None = None
    source: str = "entry point"


class _Provider:
    """One way of getting an op: an entry point of a distribution, or a registered class."""

    __slots__ = ("cls", "disabled", "dist", "ep", "error", "name", "source", "value", "version")

    def __init__(
        self,
        name: str,
        value: str,
        dist: str | None,
        version: str | None,
        ep: Any = None,
        cls: type[Op] | None = None,
        source: str = "entry point",
    ) -> None:
        self.name = name
        self.value = value
        self.dist = dist
        self.version = version
        self.ep = ep
        self.cls = cls
        self.source = source
        self.error: PluginError | None = None  # set once loading failed
        self.disabled: str | None = None  # why, when disabled

    @property
    def label(self) -> str:
        """``'my-layers' 1.0`` (or ``register_op``) for messages."""
        if self.source == "register_op":
            return "mg.register_op"
        dist = f"distribution '{self.dist}'" if self.dist else "an unknown distribution"
        return f"{dist} {self.version}" if self.version else dist

    def who(self) -> str:
        return f"op '{self.name}' ({self.label}, entry point '{self.value}')"

    def fields(self) -> dict[str, Any]:
        return {
            "op": self.name,
            "distribution": self.dist,
            "version": self.version,
            "entry_point": self.value,
        }


def _normalize(dist: str) -> str:
    """PEP 503 normalisation, so ``My_Layers`` and ``my-layers`` name one distribution."""
    return re.sub(r"[-_.]+", "-", dist).lower()


def _default_entry_points() -> Iterable[Any]:
    from importlib.metadata import entry_points

    return entry_points(group=GROUP)


def _dist_of(item: Any) -> tuple[Any, str | None, str | None]:
    """``(entry_point, distribution name, version)`` from an EntryPoint or ``(ep, dist)``."""
    if isinstance(item, tuple):
        ep, dist = item
    else:
        ep, dist = item, getattr(item, "dist", None)
    if dist is None:
        return ep, None, None
    name = getattr(dist, "name", None)
    if name is None:
        try:
            name = dist.metadata["Name"]
        except Exception:
            name = None
    version = getattr(dist, "version", None)
    return ep, name, None if version is None else str(version)


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        return f"the name {name!r} is not a valid Python identifier, so mg.ops.<name> cannot work"
    if name.startswith("_"):
        return f"the name {name!r} starts with an underscore (reserved for private names)"
    if name == "get":
        return "the name 'get' is taken by mg.ops.get"
    return None


def _contract_problems(cls: Any) -> list[str]:
    """Everything wrong with ``cls`` as an op class (an empty list when it is fine)."""
    if not (isinstance(cls, type) and issubclass(cls, Op)):
        kind = type(cls).__name__ if not isinstance(cls, type) else f"class {cls.__qualname__}"
        return [f"it is a {kind}, not a subclass of minigrad.Op"]
    problems = []
    for method, params in (("forward", "(ctx, *arrays, **attrs)"), ("backward", "(ctx, grad)")):
        raw = inspect.getattr_static(cls, method)
        if getattr(cls, method) is getattr(Op, method):
            problems.append(f"it does not define {method}{params}")
        elif not isinstance(raw, staticmethod):
            problems.append(f"{method} must be a @staticmethod taking {params}")
    if problems:
        return problems
    try:
        inspect.signature(cls.backward).bind(None, None)
    except (TypeError, ValueError):
        problems.append("backward must accept two arguments (ctx, grad)")
    try:
        params = list(inspect.signature(cls.forward).parameters.values())
    except (TypeError, ValueError) as e:
        return [*problems, f"the signature of forward cannot be read ({e})"]
    if not params or params[0].kind not in (
        params[0].POSITIONAL_ONLY,
        params[0].POSITIONAL_OR_KEYWORD,
    ):
        problems.append("forward must take ctx as its first positional parameter")
    else:
        try:
            op_spec(cls)
        except Exception as e:
            problems.append(f"forward's signature is not a valid op signature: {e}")
    return problems


def _signature(cls: type[Op]) -> inspect.Signature:
    """forward's signature without ctx, returning a Tensor: what users call."""
    from .tensor import Tensor

    sig = inspect.signature(cls.forward)
    # forward's annotations describe arrays; users pass Tensors (or arrays, numbers)
    params = [p.replace(annotation=p.empty) for p in list(sig.parameters.values())[1:]]
    if not any(p.kind is p.VAR_POSITIONAL for p in params):
        # attributes may also be passed positionally, after the tensor inputs (see call_op)
        params = [
            p.replace(kind=p.POSITIONAL_OR_KEYWORD) if p.kind is p.KEYWORD_ONLY else p
            for p in params
        ]
    return sig.replace(parameters=params, return_annotation=Tensor)


def _make_function(provider: _Provider) -> Callable[..., Any]:
    cls = provider.cls
    assert cls is not None

    def op_function(*args: Any, **kwargs: Any) -> Any:
        return call_op(cls, *args, **kwargs)

    name = provider.name
    op_function.__name__ = name
    op_function.__qualname__ = name
    op_function.__module__ = "minigrad.ops"
    op_function.__signature__ = _signature(cls)  # type: ignore[attr-defined]
    doc = inspect.getdoc(cls) or inspect.getdoc(cls.forward) or f"The '{name}' op."
    where = f"{cls.__module__}.{cls.__qualname__}, from {provider.label}"
    if provider.source == "entry point":
        where += f" (entry point '{provider.value}')"
    op_function.__doc__ = f"{doc}\n\nOp class: {where}."
    op_function.op = cls  # type: ignore[attr-defined]
    return op_function


# --------------------------------------------------------------------------- registry


class OpsNamespace:
    """``mg.ops``: every registered op as a function, ``mg.ops.<name>(*tensors, **attrs)``.

    ``dir(mg.ops)`` lists the names (tab completion); ``mg.ops.get("name")`` or
    ``mg.ops.get("dist-name::name")`` looks one up by string; an unknown name raises
    :class:`UnknownOpError` (an AttributeError) suggesting close matches.

    >>> import minigrad as mg
    >>> "get" in dir(mg.ops)
    True
    """

    __slots__ = ("__dict__", "_registry")

    def __init__(self, registry: Registry) -> None:
        object.__setattr__(self, "_registry", registry)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        fn = self._registry.get(name)
        # cache as a plain attribute: the next mg.ops.<name> is an ordinary lookup
        self.__dict__[name] = fn
        return fn

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"mg.ops is read-only; add an op with mg.register_op({name!r}, OpClass)"
        )

    def get(self, name: str) -> Callable[..., Any]:
        """The function for op ``name``, or ``"dist-name::name"`` to pick a distribution.

        >>> import minigrad as mg
        >>> mg.ops.get("no_such_op")
        Traceback (most recent call last):
        ...
        minigrad.plugins.UnknownOpError: mg.ops has no op 'no_such_op'...
        """
        return self._registry.get(name)

    def __dir__(self) -> list[str]:
        return sorted({*self._registry.names(), "get"})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._registry.names()

    def __repr__(self) -> str:
        names = self._registry.names()
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        return f"<minigrad.ops: {len(names)} op(s): {shown}>"

    def _clear(self) -> None:
        self.__dict__.clear()


class Registry:
    """Ops from entry points plus ops registered by hand, loaded lazily.

    Parameters
    ----------
    entry_points_fn:
        Returns the entry points to consider: ``importlib.metadata.EntryPoint`` objects
        (their ``dist`` gives name and version) or ``(entry_point, dist)`` pairs, where
        ``dist`` has ``name`` and ``version``. Default: the installed ``"minigrad.ops"``
        entry points. Called once, on first use (and again after :meth:`refresh`).
    environ:
        Where to read the environment variables; default ``os.environ`` at scan time.

    >>> from importlib.metadata import EntryPoint
    >>> from minigrad.plugins import Registry
    >>> reg = Registry(entry_points_fn=lambda: [EntryPoint("cube", "nowhere:Cube", "minigrad.ops")])
    >>> [(r.name, r.status) for r in reg.available()]
    [('cube', 'available')]
    """

    def __init__(
        self,
        entry_points_fn: Callable[[], Iterable[Any]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.ops = OpsNamespace(self)
        self.reset(entry_points_fn, environ)

    # ----------------------------------------------------------------- state

    def reset(
        self,
        entry_points_fn: Callable[[], Iterable[Any]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Forget everything (scan, loaded classes, registered ops); set the sources."""
        with self._lock:
            self.entry_points_fn = entry_points_fn or _default_entry_points
            self.environ = environ
            self._registered: dict[str, _Provider] = {}
            self.refresh()

    def refresh(self) -> None:
        """Scan entry points and environment variables again on next use.

        Registered ops stay; entry-point ops are looked up (and checked) again when next used.
        """
        with self._lock:
            self._scanned = False
            self._providers: dict[str, list[_Provider]] = {}
            self._autoload_disabled: str | None = None
            self._functions: dict[str, Callable[..., Any]] = {}
            self.ops._clear()

    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def _scan(self) -> None:
        if self._scanned:
            return
        with self._lock:
            if self._scanned:
                return
            env = self._env()
            autoload = env.get(ENV_DISABLE_AUTOLOAD, "").strip()
            self._autoload_disabled = (
                f"{ENV_DISABLE_AUTOLOAD}={autoload}" if autoload.lower() in _TRUE else None
            )
            disabled_items = [
                s.strip() for s in env.get(ENV_DISABLE_PLUGINS, "").split(",") if s.strip()
            ]
            providers: dict[str, list[_Provider]] = {}
            seen = set()
            for item in self.entry_points_fn():
                ep, dist, version = _dist_of(item)
                key = (ep.name, ep.value, None if dist is None else _normalize(dist))
                if key in seen:  # one distribution found twice on sys.path
                    continue
                seen.add(key)
                p = _Provider(ep.name, ep.value, dist, version, ep=ep)
                if self._autoload_disabled:
                    p.disabled = self._autoload_disabled
                else:
                    hit = self._disabled_by(p, disabled_items)
                    if hit is not None:
                        value = env.get(ENV_DISABLE_PLUGINS, "")
                        p.disabled = f"{ENV_DISABLE_PLUGINS}={value!r} (item {hit!r})"
                providers.setdefault(ep.name, []).append(p)
            self._providers = providers
            self._scanned = True

    @staticmethod
    def _disabled_by(p: _Provider, items: list[str]) -> str | None:
        dist = _normalize(p.dist) if p.dist else None
        for item in items:
            if "::" in item:
                d, n = item.split("::", 1)
                if n == p.name and dist is not None and _normalize(d) == dist:
                    return item
            elif item == p.name or (dist is not None and _normalize(item) == dist):
                return item
        return None

    # ----------------------------------------------------------------- lookup

    def names(self) -> list[str]:
        """Sorted names for ``mg.ops.<name>``: not disabled, not reserved, valid identifiers.

        A name two distributions clash on is listed: using it explains how to pick one.
        """
        self._scan()
        names = {
            n
            for n, ps in self._providers.items()
            if n not in RESERVED_NAMES and any(not p.disabled for p in ps)
        }
        names |= set(self._registered)
        return sorted(n for n in names if _name_problem(n) is None)

    def get(self, name: str) -> Callable[..., Any]:
        """The function calling op ``name`` (or ``"dist-name::name"``); loads it if needed."""
        fn = self._functions.get(name)
        if fn is not None:
            return fn
        if not isinstance(name, str):
            raise TypeError(f"op names are strings, got {type(name).__name__}")
        self._scan()
        with self._lock:
            provider = self._resolve(name)
            self._load(provider)
            fn = self._functions.get(name)
            if fn is None:
                fn = _make_function(provider)
                self._functions[name] = fn
            return fn

    def _resolve(self, key: str) -> _Provider:
        if "::" in key:
            dist, name = key.split("::", 1)
            candidates = [
                p
                for p in self._providers.get(name, [])
                if p.dist is not None and _normalize(p.dist) == _normalize(dist)
            ]
            if not candidates:
                known = [f"{p.dist}::{name}" for p in self._providers.get(name, []) if p.dist]
                hint = f"; known: {', '.join(known)}" if known else ""
                raise UnknownOpError(
                    f"no distribution '{dist}' provides an op '{name}'{hint}", op=name
                )
            if len(candidates) > 1:
                raise self._conflict(name, candidates)
            p = candidates[0]
            if p.disabled:
                raise self._disabled(p)
            if name in RESERVED_NAMES:
                raise self._reserved(p)
            return p
        if key in self._registered:
            return self._registered[key]
        providers = self._providers.get(key, [])
        if key in RESERVED_NAMES:
            if providers:
                raise self._reserved(providers[0], others=providers[1:])
            raise UnknownOpError(
                f"'{key}' is a core op, not a plugin op: use mg.{key} or the Tensor "
                "operators/methods instead of mg.ops",
                op=key,
            )
        active = [p for p in providers if not p.disabled]
        if not providers:
            raise self._unknown(key)
        if not active:
            raise self._disabled(providers[0])
        if len(active) > 1:
            raise self._conflict(key, active)
        problem = _name_problem(key)
        if problem:
            p = active[0]
            raise PluginContractError(f"{p.who()}: {problem}", **p.fields())
        return active[0]

    def _load(self, p: _Provider) -> None:
        if p.cls is not None:
            return
        if p.error is not None:
            # a fresh exception each time, chained to the original cause
            raise type(p.error)(str(p.error), **p.fields()) from p.error.__cause__
        try:
            obj = p.ep.load()
        except Exception as e:
            p.error = PluginLoadError(
                f"cannot load {p.who()}: importing it raised {type(e).__name__}: {e}. "
                f"Every other op still works; fix or reinstall {p.label}, or disable the op "
                f"with {ENV_DISABLE_PLUGINS}={p.name}",
                **p.fields(),
            )
            raise p.error from e
        problems = _contract_problems(obj)
        if problems:
            p.error = PluginContractError(
                f"{p.who()} breaks the Op contract: {'; '.join(problems)}. An op is a "
                "minigrad.Op subclass with static forward(ctx, *arrays, **attrs) and "
                "backward(ctx, grad)",
                **p.fields(),
            )
            raise p.error
        _adopt(obj, p)
        p.cls = obj

    # ----------------------------------------------------------------- errors

    def _unknown(self, name: str) -> UnknownOpError:
        import difflib

        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        if not close and self._autoload_disabled:
            hint = (
                f"; entry-point ops are disabled by {self._autoload_disabled}, register it "
                "with mg.register_op or unset the variable"
            )
        msg = (
            f"mg.ops has no op '{name}'{hint} (see dir(mg.ops) or python -m minigrad plugins list)"
        )
        return UnknownOpError(msg, op=name)

    def _disabled(self, p: _Provider) -> PluginDisabledError:
        return PluginDisabledError(
            f"{p.who()} is disabled by {p.disabled}; change or unset that variable to use it",
            **p.fields(),
        )

    def _conflict(self, name: str, providers: list[_Provider]) -> PluginConflictError:
        listed = "; ".join(f"{p.label} (entry point '{p.value}')" for p in providers)
        picks = " or ".join(f"mg.ops.get('{p.dist}::{name}')" for p in providers if p.dist)
        return PluginConflictError(
            f"op '{name}' is provided by {len(providers)} distributions: {listed}. minigrad "
            f"does not pick one by install order: choose with {picks or 'mg.ops.get(dist::name)'}"
            f", or disable one with {ENV_DISABLE_PLUGINS}=<dist>::{name}",
            op=name,
        )

    def _reserved(self, p: _Provider, others: list[_Provider] = ()) -> PluginConflictError:
        who = ", ".join(q.who() for q in [p, *others])
        return PluginConflictError(
            f"{who} uses the reserved core op name '{p.name}'; plugin ops must choose another "
            "name (the core op is mg." + p.name + " / the Tensor operators)",
            **p.fields(),
        )

    # ----------------------------------------------------------------- registering

    def register_op(self, name: str, op_class: type[Op], override: bool = False) -> None:
        """Make ``op_class`` available as ``ops.<name>`` (see :func:`register_op`)."""
        problem = _name_problem(name)
        if problem:
            raise PluginContractError(f"register_op({name!r}): {problem}", op=str(name))
        if name in RESERVED_NAMES:
            raise PluginConflictError(
                f"register_op({name!r}): '{name}' is a reserved core op name; choose another",
                op=name,
            )
        problems = _contract_problems(op_class)
        if problems:
            raise PluginContractError(
                f"register_op({name!r}, {getattr(op_class, '__qualname__', op_class)!r}): "
                f"{'; '.join(problems)}",
                op=name,
            )
        self._scan()
        with self._lock:
            if not override:
                existing = self._registered.get(name)
                if existing is not None and existing.cls is not op_class:
                    raise PluginConflictError(
                        f"register_op({name!r}): the name is already registered by "
                        f"mg.register_op ({existing.value}); pass override=True to replace it",
                        op=name,
                    )
                active = [p for p in self._providers.get(name, []) if not p.disabled]
                if active:
                    raise PluginConflictError(
                        f"register_op({name!r}): the name is already provided by "
                        f"{', '.join(p.who() for p in active)}; pass override=True to "
                        "replace it",
                        op=name,
                    )
            value = f"{op_class.__module__}:{op_class.__qualname__}"
            p = _Provider(name, value, None, None, cls=op_class, source="register_op")
            _adopt(op_class, p)
            self._registered[name] = p
            self._forget(name)

    def unregister_op(self, name: str) -> None:
        """Remove an op added with :meth:`register_op` (entry-point ops are unaffected)."""
        with self._lock:
            if name not in self._registered:
                raise UnknownOpError(f"unregister_op: no op '{name}' was registered", op=name)
            del self._registered[name]
            self._forget(name)

    def _forget(self, name: str) -> None:
        self._functions.pop(name, None)
        self.ops.__dict__.pop(name, None)

    # ----------------------------------------------------------------- listing

    def available(self) -> list[PluginInfo]:
        """One record per op provider, sorted by name (see :class:`PluginInfo`)."""
        self._scan()
        rows = []
        for name, providers in self._providers.items():
            reg = self._registered.get(name)
            active = [p for p in providers if not p.disabled]
            for p in providers:
                status, error = self._status(p, name, active, reg)
                rows.append(PluginInfo(name, p.value, p.dist, p.version, status, error))
        for name, p in self._registered.items():
            rows.append(PluginInfo(name, p.value, None, None, "loaded", None, "register_op"))
        return sorted(rows, key=lambda r: (r.name, r.source != "entry point", r.distribution or ""))

    def _status(
        self, p: _Provider, name: str, active: list[_Provider], reg: _Provider | None
    ) -> tuple[str, str | None]:
        if p.disabled:
            return "disabled", f"disabled by {p.disabled}"
        if reg is not None:
            return "disabled", f"overridden by mg.register_op ({reg.value})"
        if name in RESERVED_NAMES:
            return "conflict", f"'{name}' is a reserved core op name"
        if len(active) > 1:
            others = ", ".join(q.label for q in active if q is not p)
            return (
                "conflict",
                f"also provided by {others}; pick one with mg.ops.get('dist::{name}')",
            )
        problem = _name_problem(name)
        if problem:
            return "broken", problem
        if p.error is not None:
            return "broken", str(p.error)
        if p.cls is not None:
            return "loaded", None
        return "available", None


def _adopt(cls: type[Op], p: _Provider) -> None:
    """Tell the class where it came from, and give it the registered name if it has none."""
    if cls.__module__.split(".")[0] == "minigrad":
        return  # a core class offered under another name: leave the core untouched
    if p.source == "register_op":
        cls.plugin = f"{p.value} (register_op)"
    else:
        cls.plugin = f"{p.dist} {p.version}" if p.version else (p.dist or p.value)
    if "name" not in cls.__dict__ or cls.__dict__["name"] is None:
        cls.name = p.name
        # op_spec caches the name; drop a spec computed before the class had one
        getattr(_op_module, "_SPECS", {}).pop(cls, None)


# --------------------------------------------------------------------------- defaults

#: the registry behind ``mg.ops``
registry = Registry()
#: ``mg.ops``: every op as a function, e.g. ``mg.ops.conv2d(x, w, padding=1)``
ops = registry.ops


def register_op(name: str, op_class: type[Op], override: bool = False) -> None:
    """Make ``op_class`` callable as ``mg.ops.<name>`` without packaging (notebooks, tests).

    The class is checked against the Op contract. Reserved core names are refused, and so is
    a name that already exists (from an entry point or an earlier ``register_op``) unless
    ``override=True``.

    >>> import minigrad as mg
    >>> class Triple(mg.Op):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return 3 * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return grad * 3
    >>> mg.register_op("triple", Triple)
    >>> mg.ops.triple(mg.tensor([1.0])).data
    array([3.], dtype=float32)
    >>> mg.plugins.unregister_op("triple")
    """
    registry.register_op(name, op_class, override=override)


def unregister_op(name: str) -> None:
    """Remove an op added with :func:`register_op`.

    >>> import minigrad as mg
    >>> mg.plugins.unregister_op("never_registered")
    Traceback (most recent call last):
    ...
    minigrad.plugins.UnknownOpError: unregister_op: no op 'never_registered' was registered
    """
    registry.unregister_op(name)


def available() -> list[PluginInfo]:
    """One :class:`PluginInfo` per op (and per distribution when two clash), sorted by name.

    Reading this imports no plugin: an op not used yet shows as ``"available"``.

    >>> import minigrad as mg
    >>> all(r.status in mg.plugins.STATUSES for r in mg.plugins.available())
    True
    """
    return registry.available()


def refresh() -> None:
    """Re-read entry points and environment variables on next use (keeps registered ops).

    >>> import minigrad as mg
    >>> mg.plugins.refresh()
    """
    registry.refresh()


def reset(
    entry_points_fn: Callable[[], Iterable[Any]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Start the default registry afresh: drops registered ops, optionally swaps the sources.

    ``reset()`` restores the installed entry points and ``os.environ``; tests pass their own
    ``entry_points_fn`` (see :class:`Registry`).

    >>> import minigrad as mg
    >>> mg.plugins.reset(entry_points_fn=lambda: [])  # doctest: +SKIP
    >>> mg.plugins.available()  # doctest: +SKIP
    []
    """
    registry.reset(entry_points_fn, environ)
