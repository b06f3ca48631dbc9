"""Parameter: the learnable weights a Module registers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module: a leaf that requires grad.

    Float data keeps its dtype (float64 arrays stay float64); anything else becomes float32.
    A Parameter assigned to a Module attribute is registered under that name and, unless
    you named it, is named after its place in the model by display names, the names
    ``summary()``, graph drawings and the Recorder show: ``"conv1.weight"`` for
    ``model.conv1.weight``, and also for the first Conv2d of an unnamed
    :class:`~minigrad.nn.Sequential`, whose ``state_dict()`` key stays ``"0.weight"`` as in
    PyTorch. The name is given when the module is registered in its parent and kept when the
    layer is used on its own (``model[0]`` draws as ``conv1``); a parameter registered in
    two models takes the name from the latest one.

    >>> import minigrad as mg
    >>> w = mg.nn.Parameter(mg.zeros(2, 3))
    >>> w.requires_grad, w.dtype, w.is_leaf
    (True, dtype('float32'), True)
    >>> model = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU())
    >>> model[0].weight.name, list(model.state_dict())[0]
    ('conv1.weight', '0.weight')
    """

    # True when the name was given by a Module (and may be updated), False when set by the user
    __slots__ = ("_auto_name",)

    def __init__(
        self, data: Any, requires_grad: bool = True, name: str | None = None, dtype: Any = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if dtype is None:
            kind = np.asarray(data).dtype.kind
            dtype = None if kind == "f" else np.float32
        super().__init__(data, requires_grad=requires_grad, name=name, dtype=dtype)
        self._auto_name = False

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
