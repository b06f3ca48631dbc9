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
  working. ``SystemExit`` raised by a plugin's import is such a failure too (it does not end
  the program); ``KeyboardInterrupt`` is not caught.
- Each op loads under its own lock: a plugin whose import hangs holds up only the callers of
  that op; every other op still loads and runs, in any thread.
- A loaded op class gets two class attributes: ``plugin`` (``"<distribution> <version>"``)
  and ``entry_point`` (the entry-point value, or ``"mg.register_op"``); errors raised inside
  the op's forward or backward carry them in their notes.
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

The package has one module per job: ``providers`` (where ops come from: entry points, records,
finding a module without importing it), ``errors``, ``contract`` (the Op contract checks and the
``mg.ops.<name>`` functions), ``namespace`` (``mg.ops``) and ``registry`` (scanning, lazy
loading, clashes, listing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..op import Op
from .contract import OpFunction
from .errors import (
    PluginConflictError,
    PluginContractError,
    PluginDisabledError,
    PluginError,
    PluginLoadError,
    UnknownOpError,
)
from .namespace import OpsNamespace
from .providers import (
    ENV_DISABLE_AUTOLOAD,
    ENV_DISABLE_PLUGINS,
    GROUP,
    RESERVED_NAMES,
    STATUSES,
    PluginInfo,
)
from .registry import Registry

__all__ = [
    "ENV_DISABLE_AUTOLOAD",
    "ENV_DISABLE_PLUGINS",
    "GROUP",
    "RESERVED_NAMES",
    "STATUSES",
    "OpFunction",
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


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names only (tab completion)


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

    Reading this imports no plugin: an op not used yet shows as ``"available"``, or as
    ``"broken"`` when its module cannot be found (looked up without running any of its code).

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
