"""The names a recording uses: each layer's display name, found by its key as well.

A recorded frame keys its arrays by display names (``"conv1.weight"``, ``"relu1"``: the names
``summary()``, drawings and pages show, from :func:`minigrad.nn.module.display_names`),
and finds them by the ``state_dict`` key or module path too (``"0.weight"``, ``"1"``), so
code written either way reads the same array.

>>> import numpy as np, minigrad as mg
>>> model = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.ReLU())
>>> aliases = display_aliases(model)
>>> aliases
{'0': 'fc1', '1': 'relu1', '0.weight': 'fc1.weight', '0.bias': 'fc1.bias'}
>>> acts = Names({"fc1": np.zeros(3), "relu1": np.ones(3)}, aliases)
>>> list(acts), acts["1"].tolist(), "0" in acts, acts.get("2") is None
(['fc1', 'relu1'], [1.0, 1.0, 1.0], True, True)
"""

from __future__ import annotations

from typing import Any

from ..nn.module import display_names, module_display_paths

__all__ = ["Names", "display_aliases"]


def display_aliases(model: Any) -> dict[str, str]:
    """``{module path or state_dict key: display name}`` for the names that differ.

    Display names that would collide (a module shared between two models can take a label
    another layer has) are left out, so those layers keep their keys and nothing is lost.
    """
    out: dict[str, str] = {}
    paths = module_display_paths(model)
    paths.pop("", None)
    for table in (paths, display_names(model)):
        if len(set(table.values())) == len(table):
            out.update((k, v) for k, v in table.items() if k != v)
    return out


class Names(dict):  # type: ignore[type-arg]
    """A dict keyed by display names that also finds an entry by its key or module path.

    Iteration, ``keys()`` and ``items()`` give display names; ``d[key]``, ``key in d``,
    ``d.get(key)``, assignment and ``del`` accept either name (see the module docstring).
    """

    def __init__(self, data: Any = (), aliases: dict[str, str] | None = None) -> None:
        super().__init__(data)
        self.aliases: dict[str, str] = {} if aliases is None else aliases

    def _shown(self, key: Any) -> Any:
        if isinstance(key, str) and not dict.__contains__(self, key):
            return self.aliases.get(key, key)
        return key

    def __missing__(self, key: Any) -> Any:
        shown = self._shown(key)
        if shown != key and dict.__contains__(self, shown):
            return dict.__getitem__(self, shown)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, self._shown(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return dict.get(self, self._shown(key), default)

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, self._shown(key), value)

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, self._shown(key))

    def pop(self, key: Any, *default: Any) -> Any:
        return dict.pop(self, self._shown(key), *default)

    def copy(self) -> Names:
        return Names(self, self.aliases)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Names, (dict(self), self.aliases))
