"""The registry: ops from entry points plus ops registered by hand, loaded lazily.

>>> from importlib.metadata import EntryPoint
>>> from minigrad.plugins import Registry
>>> reg = Registry(entry_points_fn=lambda: [EntryPoint("cube", "json:Cube", "minigrad.ops")])
>>> reg.names()
['cube']
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._shadowing import shadowing_message
from ..op import Op
from .contract import OpFunction, contract_problems, make_function, mark_origin
from .errors import (
    PluginConflictError,
    PluginContractError,
    PluginLoadError,
    UnknownOpError,
    conflict_error,
    disabled_error,
    reserved_error,
    unknown_error,
)
from .namespace import OpsNamespace
from .providers import (
    ENV_DISABLE_AUTOLOAD,
    ENV_DISABLE_PLUGINS,
    RESERVED_NAMES,
    PluginInfo,
    Provider,
    default_entry_points,
    dist_of,
    name_problem,
    normalize,
)

__all__ = ["Registry"]

_TRUE = {"1", "true", "yes", "on"}


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
    >>> reg = Registry(entry_points_fn=lambda: [
    ...     EntryPoint("cube", "nowhere:Cube", "minigrad.ops"),
    ...     EntryPoint("loads", "json:loads", "minigrad.ops"),
    ... ])
    >>> [(r.name, r.status) for r in reg.available()]  # no plugin is imported to find out
    [('cube', 'broken'), ('loads', 'available')]
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
            self.entry_points_fn = entry_points_fn or default_entry_points
            self.environ = environ
            self._registered: dict[str, Provider] = {}
            self.refresh()

    def refresh(self) -> None:
        """Scan entry points and environment variables again on next use.

        Registered ops stay; entry-point ops are looked up (and checked) again when next used.
        """
        with self._lock:
            self._scanned = False
            self._providers: dict[str, list[Provider]] = {}
            self._autoload_disabled: str | None = None
            self._functions: dict[str, OpFunction] = {}
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
            providers: dict[str, list[Provider]] = {}
            seen = set()
            for item in self.entry_points_fn():
                ep, dist, version = dist_of(item)
                key = (ep.name, ep.value, None if dist is None else normalize(dist))
                if key in seen:  # one distribution found twice on sys.path
                    continue
                seen.add(key)
                p = Provider(ep.name, ep.value, dist, version, ep=ep)
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
    def _disabled_by(p: Provider, items: list[str]) -> str | None:
        dist = normalize(p.dist) if p.dist else None
        for item in items:
            if "::" in item:
                d, n = item.split("::", 1)
                if n == p.name and dist is not None and normalize(d) == dist:
                    return item
            elif item == p.name or (dist is not None and normalize(item) == dist):
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
        return sorted(n for n in names if name_problem(n) is None)

    def get(self, name: str) -> OpFunction:
        """The function calling op ``name`` (or ``"dist-name::name"``); loads it if needed."""
        fn = self._functions.get(name)
        if fn is not None:
            return fn
        if not isinstance(name, str):
            raise TypeError(f"op names are strings, got {type(name).__name__}")
        self._scan()
        with self._lock:
            provider = self._resolve(name)
        # the provider's own lock, not the registry's: a plugin whose import hangs (or takes
        # long) holds up only the callers of that op, never the loading of another one
        with provider.lock:
            self._load(provider)
        with self._lock:
            fn = self._functions.get(name)
            if fn is None:
                fn = make_function(provider)
                self._functions[name] = fn
            return fn

    def _resolve(self, key: str) -> Provider:
        if "::" in key:
            dist, name = key.split("::", 1)
            candidates = [
                p
                for p in self._providers.get(name, [])
                if p.dist is not None and normalize(p.dist) == normalize(dist)
            ]
            if not candidates:
                known = [f"{p.dist}::{name}" for p in self._providers.get(name, []) if p.dist]
                hint = f"; known: {', '.join(known)}" if known else ""
                raise UnknownOpError(
                    f"no distribution '{dist}' provides an op '{name}'{hint}", op=name
                )
            if len(candidates) > 1:
                raise conflict_error(name, candidates)
            p = candidates[0]
            if p.disabled:
                raise disabled_error(p)
            if name in RESERVED_NAMES:
                raise reserved_error(p)
            return p
        if key in self._registered:
            return self._registered[key]
        providers = self._providers.get(key, [])
        if key in RESERVED_NAMES:
            if providers:
                raise reserved_error(providers[0], others=providers[1:])
            raise UnknownOpError(
                f"'{key}' is a core op, not a plugin op: use mg.{key} or the Tensor "
                "operators/methods instead of mg.ops",
                op=key,
            )
        active = [p for p in providers if not p.disabled]
        if not providers:
            raise unknown_error(key, self.names(), self._autoload_disabled)
        if not active:
            raise disabled_error(providers[0])
        if len(active) > 1:
            raise conflict_error(key, active)
        problem = name_problem(key)
        if problem:
            p = active[0]
            raise PluginContractError(f"{p.who()}: {problem}", **p.fields())
        return active[0]

    def _load(self, p: Provider) -> None:
        if p.cls is not None:
            return
        if p.error is not None:
            # a fresh exception each time, chained to the original cause
            raise type(p.error)(str(p.error), **p.fields()) from p.error.__cause__
        if p.loading:
            # this thread holds the provider's lock: the plugin used its own op at import
            raise PluginLoadError(
                f"{p.who()} was used while its own module was still being imported (a "
                "circular import): use the op in functions, not at module level",
                **p.fields(),
            )
        try:
            p.loading = True
            obj = p.ep.load()
        except (Exception, SystemExit) as e:
            # SystemExit too: a plugin must not end the user's program. KeyboardInterrupt
            # (and other BaseExceptions) propagate, so Ctrl-C still stops a hanging import.
            shadowed = shadowing_message()
            advice = (
                f"This is not the plugin's fault: {shadowed}"
                if shadowed
                else f"Every other op still works; fix or reinstall {p.label}, or disable "
                f"the op with {ENV_DISABLE_PLUGINS}={p.name}"
            )
            p.error = PluginLoadError(
                f"cannot load {p.who()}: importing it raised {type(e).__name__}: {e}. {advice}",
                **p.fields(),
            )
            raise p.error from e
        finally:
            p.loading = False
        problems = contract_problems(obj)
        if problems:
            p.error = PluginContractError(
                f"{p.who()} breaks the Op contract: {'; '.join(problems)}. An op is a "
                "minigrad.Op subclass with static forward(ctx, *arrays, **attrs) and "
                "backward(ctx, grad)",
                **p.fields(),
            )
            raise p.error
        mark_origin(obj, p)
        p.cls = obj

    # ----------------------------------------------------------------- registering

    def register_op(self, name: str, op_class: type[Op], override: bool = False) -> None:
        """Make ``op_class`` available as ``ops.<name>`` (see :func:`register_op`)."""
        problem = name_problem(name)
        if problem:
            raise PluginContractError(f"register_op({name!r}): {problem}", op=str(name))
        if name in RESERVED_NAMES:
            raise PluginConflictError(
                f"register_op({name!r}): '{name}' is a reserved core op name; choose another",
                op=name,
            )
        problems = contract_problems(op_class)
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
            p = Provider(name, value, None, None, cls=op_class, source="register_op")
            mark_origin(op_class, p)
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
                formula = getattr(p.cls, "formula", None)
                rows.append(
                    PluginInfo(name, p.value, p.dist, p.version, status, error, formula=formula)
                )
        for name, p in self._registered.items():
            formula = getattr(p.cls, "formula", None)
            rows.append(
                PluginInfo(name, p.value, None, None, "loaded", None, "register_op", formula)
            )
        return sorted(rows, key=lambda r: (r.name, r.source != "entry point", r.distribution or ""))

    def _status(
        self, p: Provider, name: str, active: list[Provider], reg: Provider | None
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
        problem = name_problem(name)
        if problem:
            return "broken", problem
        if p.error is not None:
            return "broken", str(p.error)
        if p.cls is not None:
            return "loaded", None
        missing = p.missing()
        if missing:
            return "broken", f"{missing} (found without importing the plugin)"
        return "available", None


Registry.__module__ = "minigrad.plugins"
