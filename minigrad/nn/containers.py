"""Sequential: modules applied one after another, and the labels of its numbered children."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module

__all__ = ["Sequential"]


def label_prefix(module: Module) -> str:
    """The stem of a module's label: ``conv`` for Conv2d, ``fc`` for Linear, ``pool`` for the
    pooling layers, else the class name in lower case (``relu``, ``flatten``, ``mylayer``).

    >>> import minigrad as mg
    >>> label_prefix(mg.nn.Conv2d(1, 2, 3)), label_prefix(mg.nn.MaxPool2d(2))
    ('conv', 'pool')
    """
    return getattr(type(module), "label_prefix", None) or type(module).__name__.lower()


class Sequential(Module):
    """Modules applied one after another; children are keyed "0", "1"... unless named.

    Numbered children keep PyTorch's keys (``model[0]``, ``state_dict()`` entries such as
    ``"0.weight"``) but are labelled after their layer type, numbered per type, so graph
    drawings and summaries show ``conv1``, ``relu1``, ``pool1``, ``conv2``... instead of
    ``0``, ``1``, ``2`` (see :attr:`Module.label`). Children given names (a mapping) keep
    their names as labels.

    >>> import minigrad as mg
    >>> model = mg.nn.Sequential(mg.nn.Linear(4, 8), mg.nn.ReLU(), mg.nn.Linear(8, 2))
    >>> len(model), type(model[1]).__name__
    (3, 'ReLU')
    >>> [m.label for m in model], list(model.state_dict())[:2]
    (['fc1', 'relu1', 'fc2'], ['0.weight', '0.bias'])
    >>> from collections import OrderedDict
    >>> named = mg.nn.Sequential(OrderedDict([("fc", mg.nn.Linear(4, 2))]))
    >>> [n for n, _ in named.named_parameters()]
    ['fc.weight', 'fc.bias']
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        numbered = not (len(modules) == 1 and isinstance(modules[0], Mapping))
        if numbered:
            items: Iterable[tuple[str, Any]] = ((str(i), m) for i, m in enumerate(modules))
        else:
            items = modules[0].items()  # type: ignore[union-attr]
        for name, m in items:
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential: item {name!r} is a {type(m).__name__}; expected a Module "
                    "(activations such as ReLU are modules: mg.nn.ReLU())"
                )
            if numbered:
                self._label_child(m)  # first: registering names the parameters by the label
            setattr(self, str(name), m)

    def _label_child(self, module: Module) -> None:
        # conv1, relu1, conv2...: the count of this prefix among the children labelled so far
        if module.__dict__["_label"] is not None:
            return  # already labelled (a module shared with another Sequential keeps its label)
        prefix = label_prefix(module)
        taken = {m.__dict__["_label"] for m in self._modules.values()}
        n = 1
        while f"{prefix}{n}" in taken:
            n += 1
        module.__dict__["_label"] = f"{prefix}{n}"

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (keyed by its index, labelled by its type); returns self.

        >>> import minigrad as mg
        >>> mg.nn.Sequential(mg.nn.Linear(2, 2)).append(mg.nn.Linear(2, 1))[1].label
        'fc2'
        """
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        self._label_child(module)
        setattr(self, str(len(self)), module)
        return self

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(
                f"Sequential index {index} is out of range for {len(items)} modules"
            ) from None
        except TypeError:
            raise TypeError(
                f"Sequential indices must be integers or slices, got {type(index).__name__}"
            ) from None
