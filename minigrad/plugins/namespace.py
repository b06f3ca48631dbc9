"""``mg.ops``: the registry's ops as attributes.

>>> import minigrad as mg
>>> "get" in dir(mg.ops)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .contract import OpFunction
    from .registry import Registry

__all__ = ["OpsNamespace"]


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
    _registry: Registry

    def __init__(self, registry: Registry) -> None:
        object.__setattr__(self, "_registry", registry)

    def __getattr__(self, name: str) -> OpFunction:
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

    def get(self, name: str) -> OpFunction:
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


OpsNamespace.__module__ = "minigrad.plugins"
