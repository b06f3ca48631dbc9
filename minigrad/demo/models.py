"""The demo's two networks, built with :mod:`minigrad.nn` and named layer by layer (the names
are the clusters of the graph drawings and the keys of the saved weights).

>>> import minigrad as mg
>>> build_xo_model()(mg.zeros(5, 1, 9, 9)).shape
(5, 2)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .. import data, nn

__all__ = ["build_lenet", "build_xo_model"]


def build_xo_model(channels: int = 4) -> Any:
    """The X-vs-O network: conv 3x3 -> ReLU -> max pool 2 -> flatten -> 2 scores.

    Input (N, 1, 9, 9), output (N, 2) raw scores (logits) for the classes
    :data:`minigrad.data.XO_CLASSES` ("O", "X").

    >>> [name for name, _ in build_xo_model().named_children()]
    ['conv1', 'relu1', 'pool1', 'flatten', 'fc']
    """
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, channels, 3, padding=1)),  # (N,1,9,9) -> (N,C,9,9)
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),  # (N,C,9,9) -> (N,C,4,4)
                ("flatten", nn.Flatten()),  # -> (N, C*16)
                ("fc", nn.Linear(channels * 16, len(data.XO_CLASSES))),
            ]
        )
    )


def build_lenet(channels: tuple[int, int] = (16, 32), hidden: int = 128) -> Any:
    """A LeNet-style network for 8x8 digits: two conv/ReLU/pool stages, then two dense layers.

    Input (N, 1, 8, 8), output (N, 10) raw scores; softmax turns them into probabilities.

    >>> import minigrad as mg
    >>> build_lenet()(mg.zeros(2, 1, 8, 8)).shape
    (2, 10)
    """
    c1, c2 = channels
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, c1, 3, padding=1)),  # (N,1,8,8) -> (N,c1,8,8)
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),  # -> (N,c1,4,4)
                ("conv2", nn.Conv2d(c1, c2, 3, padding=1)),  # -> (N,c2,4,4)
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),  # -> (N,c2,2,2)
                ("flatten", nn.Flatten()),  # -> (N, c2*4)
                ("fc1", nn.Linear(c2 * 4, hidden)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(hidden, 10)),
            ]
        )
    )
