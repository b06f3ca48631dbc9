"""Building blocks for models: Module, Parameter, Sequential, layers, losses and initialisers.

Files by job: ``module`` (Module), ``parameter``, ``containers`` (Sequential and the labels of
its numbered children), ``summary`` (``Module.summary``), ``layers`` (Linear, Conv2d),
``normalization`` (BatchNorm2d), ``pooling``, ``activations`` (and Dropout, Flatten,
Identity), ``losses``, ``init``.

Layers that need CNN operations call the plugin ops by name through ``mg.ops`` (the registry
is loaded on first use, not when ``minigrad.nn`` is imported).

>>> import minigrad as mg
>>> mg.manual_seed(0)
>>> model = mg.nn.Sequential(mg.nn.Linear(4, 8), mg.nn.Linear(8, 2))
>>> model(mg.ones(3, 4)).shape
(3, 2)
>>> sum(p.size for p in model.parameters())
58
"""

from __future__ import annotations

from . import init
from .activations import (
    ELU,
    GELU,
    Dropout,
    Flatten,
    Hardsigmoid,
    Hardswish,
    Identity,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .containers import Sequential
from .layers import Conv2d, Linear
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, LogLoss, NLLLoss
from .module import LoadResult, Module
from .normalization import BatchNorm2d
from .parameter import Parameter
from .pooling import AvgPool2d, GlobalAvgPool2d, GlobalMaxPool2d, MaxPool2d, SumPool2d
from .summary import ModelSummary, SummaryRow

__all__ = [
    "ELU",
    "GELU",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2d",
    "GlobalMaxPool2d",
    "Hardsigmoid",
    "Hardswish",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LoadResult",
    "LogLoss",
    "LogSoftmax",
    "MaxPool2d",
    "ModelSummary",
    "Module",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "SumPool2d",
    "SummaryRow",
    "Tanh",
    "init",
]


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names only (tab completion)
