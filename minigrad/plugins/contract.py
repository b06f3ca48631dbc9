"""The Op contract as the registry checks it, and the ``mg.ops.<name>`` functions it makes.

>>> import minigrad as mg
>>> from minigrad.plugins.contract import contract_problems
>>> contract_problems(len)
['it is a builtin_function_or_method, not a subclass of minigrad.Op']
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol, cast

from ..autograd import call_op
from ..op import Op, forget_spec, op_spec
from ..tensor import Tensor
from .providers import Provider

__all__ = ["OpFunction", "mark_origin", "contract_problems", "make_function"]


class OpFunction(Protocol):
    """What ``mg.ops.<name>`` is: a function calling the op, with its class and formula."""

    #: the op class behind the function
    op: type[Op]
    #: the op's derivative card (None when it declares none)
    formula: str | None

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor: ...


def contract_problems(cls: Any) -> list[str]:
    """Everything wrong with ``cls`` as an op class (an empty list when it is fine)."""
    if not (isinstance(cls, type) and issubclass(cls, Op)):
        kind = type(cls).__name__ if not isinstance(cls, type) else f"class {cls.__qualname__}"
        return [f"it is a {kind}, not a subclass of minigrad.Op"]
    problems = []
    for method, usage in (("forward", "(ctx, *arrays, **attrs)"), ("backward", "(ctx, grad)")):
        raw = inspect.getattr_static(cls, method)
        if getattr(cls, method) is getattr(Op, method):
            problems.append(f"it does not define {method}{usage}")
        elif not isinstance(raw, staticmethod):
            problems.append(f"{method} must be a @staticmethod taking {usage}")
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


def make_function(provider: Provider) -> OpFunction:
    """The function behind ``mg.ops.<name>``: calls the op, documented like it."""
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
    # the derivative card, e.g. mg.ops.relu.formula == "dx = dy * (x > 0)" (None: not given)
    formula = getattr(cls, "formula", None)
    op_function.formula = formula  # type: ignore[attr-defined]
    if formula:
        op_function.__doc__ += f"\n\nDerivative: {formula}"
    return cast(OpFunction, op_function)


def mark_origin(cls: type[Op], p: Provider) -> None:
    """Tell the class where it came from, and give it the registered name if it has none.

    Sets two class attributes that errors and graphs read:

    - ``plugin``: ``"<distribution> <version>"`` (or ``"<module>:<class> (register_op)"``);
    - ``entry_point``: the entry-point value (``"my_layers.swish:Swish"``), or
      ``"mg.register_op"`` for a class registered by hand.
    """
    if cls.__module__.split(".")[0] == "minigrad":
        return  # a core class offered under another name: leave the core untouched
    if p.source == "register_op":
        cls.plugin = f"{p.value} (register_op)"
        cls.entry_point = "mg.register_op"  # type: ignore[attr-defined]
    else:
        cls.plugin = f"{p.dist} {p.version}" if p.version else (p.dist or p.value)
        cls.entry_point = p.value  # type: ignore[attr-defined]
    if "name" not in cls.__dict__ or cls.__dict__["name"] is None:
        cls.name = p.name
        forget_spec(cls)  # op_spec caches the name: drop a spec computed before it had one
