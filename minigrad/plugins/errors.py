"""The registry's errors: each names the op, its distribution and version, and the entry point.

>>> from minigrad.plugins import PluginLoadError
>>> e = PluginLoadError("cannot load op 'swish'", op="swish", distribution="my-layers")
>>> isinstance(e, ImportError), e.op, e.distribution
(True, 'swish', 'my-layers')
"""

from __future__ import annotations

from collections.abc import Sequence

from .providers import ENV_DISABLE_PLUGINS, Provider

__all__ = [
    "PluginConflictError",
    "PluginContractError",
    "PluginDisabledError",
    "PluginError",
    "PluginLoadError",
    "UnknownOpError",
]


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

    The original exception is chained as ``__cause__``. ``SystemExit`` raised while importing
    a plugin is wrapped too (a plugin must not end the program); ``KeyboardInterrupt`` is not,
    so Ctrl-C still stops a hanging import.
    """


class PluginContractError(PluginError, TypeError):
    """A plugin op (or a class given to :func:`register_op`) breaks the Op contract."""


class PluginConflictError(PluginError, LookupError):
    """An op name is claimed twice (two distributions, or a reserved core name)."""


class PluginDisabledError(PluginError, RuntimeError):
    """An op was disabled by an environment variable (the message names it)."""


class UnknownOpError(PluginError, AttributeError):
    """No op has this name; the message suggests close matches."""


# tracebacks and reprs show the public home of these classes
for _cls in (
    PluginError,
    PluginLoadError,
    PluginContractError,
    PluginConflictError,
    PluginDisabledError,
    UnknownOpError,
):
    _cls.__module__ = "minigrad.plugins"
del _cls


# --------------------------------------------------------------------------- messages
# Built in one place so every path (lookup, listing, checking) words a problem the same way.


def disabled_error(p: Provider) -> PluginDisabledError:
    return PluginDisabledError(
        f"{p.who()} is disabled by {p.disabled}; change or unset that variable to use it",
        **p.fields(),
    )


def conflict_error(name: str, providers: list[Provider]) -> PluginConflictError:
    listed = "; ".join(f"{p.label} (entry point '{p.value}')" for p in providers)
    picks = " or ".join(f"mg.ops.get('{p.dist}::{name}')" for p in providers if p.dist)
    return PluginConflictError(
        f"op '{name}' is provided by {len(providers)} distributions: {listed}. minigrad "
        f"does not pick one by install order: choose with {picks or 'mg.ops.get(dist::name)'}"
        f", or disable one with {ENV_DISABLE_PLUGINS}=<dist>::{name}",
        op=name,
    )


def reserved_error(p: Provider, others: Sequence[Provider] = ()) -> PluginConflictError:
    who = ", ".join(q.who() for q in [p, *others])
    return PluginConflictError(
        f"{who} uses the reserved core op name '{p.name}'; plugin ops must choose another "
        "name (the core op is mg." + p.name + " / the Tensor operators)",
        **p.fields(),
    )


def unknown_error(name: str, names: list[str], autoload_disabled: str | None) -> UnknownOpError:
    import difflib

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    if not close and autoload_disabled:
        hint = (
            f"; entry-point ops are disabled by {autoload_disabled}, register it "
            "with mg.register_op or unset the variable"
        )
    msg = f"mg.ops has no op '{name}'{hint} (see dir(mg.ops) or python -m minigrad plugins list)"
    return UnknownOpError(msg, op=name)
