"""Where ops come from: entry points and registered classes, their names and records.

>>> from minigrad.plugins.providers import module_problem
>>> module_problem("json:loads") is None   # found without importing anything
True
>>> module_problem("no_such_module_here:Op")
"module 'no_such_module_here' is not installed"
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..op import Op

__all__ = [
    "ENV_DISABLE_AUTOLOAD",
    "ENV_DISABLE_PLUGINS",
    "GROUP",
    "RESERVED_NAMES",
    "STATUSES",
    "PluginInfo",
    "module_problem",
]

#: entry-point group scanned for ops
GROUP = "minigrad.ops"
#: set to 1/true/yes/on to keep every entry-point op from loading
ENV_DISABLE_AUTOLOAD = "MINIGRAD_DISABLE_PLUGIN_AUTOLOAD"
#: comma-separated op names, ``dist::name`` items or distribution names to disable
ENV_DISABLE_PLUGINS = "MINIGRAD_DISABLE_PLUGINS"
#: the statuses :func:`minigrad.plugins.available` reports
STATUSES = ("available", "loaded", "broken", "disabled", "conflict")


@dataclass(frozen=True)
class PluginInfo:
    """One row of :func:`available`: an op and where it comes from.

    ``status`` is one of ``"available"`` (found, not imported yet), ``"loaded"``,
    ``"broken"`` (its module is not installed, its import failed or it breaks the contract),
    ``"disabled"`` and ``"conflict"``; ``error`` says what is wrong (None when nothing is).
    ``source`` is ``"entry point"`` or ``"register_op"``. ``formula`` is the op's derivative
    card once its class is loaded (None before, or when it declares none).

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
    formula: str | None = None


PluginInfo.__module__ = "minigrad.plugins"

_UNCHECKED = object()  # Provider.missing before module_problem ran


class Provider:
    """One way of getting an op: an entry point of a distribution, or a registered class.

    Each provider has its own lock, so importing one plugin (however long it takes) never
    holds up loading another.
    """

    __slots__ = (
        "_missing",
        "cls",
        "disabled",
        "dist",
        "ep",
        "error",
        "loading",
        "lock",
        "name",
        "source",
        "value",
        "version",
    )

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
        self.error: Exception | None = None  # set once loading failed
        self.disabled: str | None = None  # why, when disabled
        self.lock = threading.RLock()  # re-entrant, so a circular use can be reported
        self.loading = False  # True while this provider's module is being imported
        self._missing: Any = _UNCHECKED

    @property
    def label(self) -> str:
        """``distribution 'my-layers' 1.0`` (or ``mg.register_op``) for messages."""
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

    def missing(self) -> str | None:
        """Why this entry point's module cannot be found (without importing it), or None."""
        if self._missing is _UNCHECKED:
            self._missing = None if self.source != "entry point" else module_problem(self.value)
        return self._missing


def normalize(dist: str) -> str:
    """PEP 503 normalisation, so ``My_Layers`` and ``my-layers`` name one distribution."""
    return re.sub(r"[-_.]+", "-", dist).lower()


def default_entry_points() -> Iterable[Any]:
    from importlib.metadata import entry_points

    return entry_points(group=GROUP)


def dist_of(item: Any) -> tuple[Any, str | None, str | None]:
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


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be an ``mg.ops.<name>`` (None when it can)."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        return f"the name {name!r} is not a valid Python identifier, so mg.ops.<name> cannot work"
    if name.startswith("_"):
        return f"the name {name!r} starts with an underscore (reserved for private names)"
    if name == "get":
        return "the name 'get' is taken by mg.ops.get"
    return None


def module_problem(value: str) -> str | None:
    """Why the module of entry-point value ``value`` cannot be imported, or None.

    Found without executing any plugin code: the top-level module is located with
    :func:`importlib.util.find_spec` and each submodule by asking the import finders inside
    its parent's search locations, so no package ``__init__`` runs. None also when it cannot
    tell (the import itself will then report what is wrong).
    """
    module = value.split(":", 1)[0].split("[", 1)[0].strip()
    parts = module.split(".")
    if not all(p.isidentifier() for p in parts):
        return f"{module!r} is not a module name"
    try:
        return _find_without_import(parts)
    except Exception:  # an unusual finder: let the import speak
        return None


def _find_without_import(parts: list[str]) -> str | None:
    path = None
    for k in range(len(parts)):
        name = ".".join(parts[: k + 1])
        loaded = sys.modules.get(name)
        if loaded is not None:
            spec_path = getattr(loaded, "__path__", None)
        else:
            spec = importlib.util.find_spec(name) if k == 0 else _find_in(name, path)
            if spec is None:
                if k == 0:
                    return f"module {name!r} is not installed"
                return f"package {'.'.join(parts[:k])!r} has no module {parts[k]!r}"
            spec_path = spec.submodule_search_locations
        if k + 1 < len(parts) and spec_path is None:
            return f"{name!r} is a module, not a package, so it has no module {parts[k + 1]!r}"
        path = spec_path
    return None


def _find_in(name: str, path: Any) -> Any:
    """The spec of submodule ``name`` in ``path``, as the import system would find it."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec = find_spec(name, list(path), None)
        if spec is not None:
            return spec
    return None


def _core_op_names() -> frozenset[str]:
    """Names of the ops minigrad itself defines (walked from Op's subclasses)."""
    found, todo = set(), list(Op.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        name = cls.__dict__.get("name")
        if cls.__module__.startswith("minigrad.") and isinstance(name, str):
            found.add(name)
    return frozenset(found)


_CORE_NAMES = (  # noqa: SIM905 (a word list reads better than 29 quoted lines)
    "add sub mul div neg pow exp log sqrt abs clip maximum minimum where matmul sum mean max min "
    "reshape transpose expand getitem concatenate stack pad sum_to astype index_add"
).split()
#: names of core ops; no plugin may use them
RESERVED_NAMES: frozenset[str] = frozenset(_CORE_NAMES) | _core_op_names()
