"""The checks of ``Module.load_state_dict``: everything is checked before anything changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from .parameter import Parameter

__all__ = ["check_state"]


def _kind(t: Any) -> str:
    return "parameter" if isinstance(t, Parameter) else "buffer"


def check_state(
    module: Any, state: Mapping[str, Any], strict: bool
) -> tuple[list[tuple[Tensor, np.ndarray]], list[str], list[str]]:
    """(parameter or buffer, new array) pairs, missing names and unexpected names, or an error.

    The first problem in the model's parameter order is reported, naming the entry, its
    shape or dtype and what the model expected.

    >>> import minigrad as mg
    >>> updates, missing, unexpected = check_state(mg.nn.Linear(2, 1), {}, strict=False)
    >>> updates, missing, unexpected
    ([], ['weight', 'bias'], [])
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"load_state_dict: expected a mapping of names to arrays (such as "
            f"model.state_dict() or mg.load(path)), got {type(state).__name__}"
        )
    owner = type(module).__name__
    updates: list[tuple[Tensor, np.ndarray]] = []
    missing: list[str] = []
    entries = getattr(module, "_state_entries", None)
    named = entries() if callable(entries) else list(module.named_parameters())
    for name, p in named:
        if name not in state:
            if strict:
                raise ValueError(
                    f"load_state_dict ({owner}): {_kind(p)} '{name}' (shape {p.shape}, "
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
                f"model's {_kind(p)} has shape {p.shape}"
            )
        if arr.dtype != p.dtype:
            raise ValueError(
                f"load_state_dict ({owner}): entry '{name}' has dtype {arr.dtype} but the "
                f"model's {_kind(p)} has dtype {p.dtype}; convert it with .astype() first"
            )
        updates.append((p, arr))
    known = {name for name, _ in named}
    unexpected = [k for k in state if k not in known]
    if unexpected and strict:
        raise ValueError(
            f"load_state_dict ({owner}): unexpected entry '{unexpected[0]}' (the model has "
            f"no such parameter); pass strict=False to ignore it"
        )
    return updates, missing, unexpected
