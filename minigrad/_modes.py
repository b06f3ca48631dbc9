"""Per-thread switches of the engine: grad mode, anomaly detection, name scopes.

They live in context variables, so each thread (and each asyncio task) has its own. The
public names are re-exported by :mod:`minigrad.autograd` and :mod:`minigrad`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from .op import Context

__all__ = ["detect_anomaly", "enable_grad", "is_grad_enabled", "name_scope", "no_grad"]

_grad_enabled: ContextVar[bool] = ContextVar("minigrad_grad_enabled", default=True)
_anomaly: ContextVar[bool] = ContextVar("minigrad_detect_anomaly", default=False)
_scope: ContextVar[str | None] = ContextVar("minigrad_scope", default=None)
_backward_of: ContextVar[Context | None] = ContextVar("minigrad_backward_of", default=None)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """True when op calls are being recorded for backward (the default)."""
    return _grad_enabled.get()


class _GradMode:
    """Context manager and decorator setting grad mode for the current thread/context."""

    _enabled: bool

    def __init__(self) -> None:
        self._tokens: list = []

    def __enter__(self) -> None:
        self._tokens.append(_grad_enabled.set(self._enabled))

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, fn: F) -> F:
        mode = self._enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _grad_enabled.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _grad_enabled.reset(token)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Do not record op calls: a context manager or a decorator, per thread.

    >>> import minigrad as mg
    >>> w = mg.tensor([1.0], requires_grad=True)
    >>> with mg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    _enabled = False


class enable_grad(_GradMode):
    """Record op calls again inside a ``no_grad`` block (context manager or decorator)."""

    _enabled = True


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` naming the first op whose forward or backward makes NaN/Inf.

    >>> import minigrad as mg
    >>> with mg.detect_anomaly():  # doctest: +SKIP
    ...     mg.log(mg.tensor([-1.0]))
    FloatingPointError: op 'log' produced NaN/Inf in its forward output ...
    """
    token = _anomaly.set(True)
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        _anomaly.reset(token)


@contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Tag every op recorded inside with a scope such as ``"features/conv1"`` (graph clusters).

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0], requires_grad=True)
    >>> with mg.name_scope("block"):
    ...     y = x * 2
    >>> y._node.scope
    'block'
    """
    outer = _scope.get()
    token = _scope.set(name if outer is None else f"{outer}/{name}")
    try:
        yield
    finally:
        _scope.reset(token)
