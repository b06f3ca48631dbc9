"""Fixtures shared by the test files (helpers that are not fixtures live in helpers.py)."""

from __future__ import annotations

import itertools
import os
import sys
import textwrap

import pytest
from hypothesis import settings

# In CI (CI=true) hypothesis draws the same examples on every run, so a red build is a real
# failure, never an unlucky draw; locally it explores new examples each run. Loaded here, before
# the test modules build their own settings(...), so those inherit derandomize too.
settings.register_profile(
    "ci", derandomize=True, max_examples=50, deadline=None, database=None, print_blob=True
)
if os.environ.get("CI"):
    settings.load_profile("ci")

_counter = itertools.count()


@pytest.fixture
def make_module(tmp_path, monkeypatch):
    """Write a module with a unique name on a temporary sys.path entry; returns its name.

    Each call gives a fresh module, so a test sees a plugin being imported for the first time.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    created = []

    def make(source: str) -> str:
        name = f"fake_plugin_{next(_counter)}_{tmp_path.name}".replace("-", "_")
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield make
    for name in created:
        sys.modules.pop(name, None)


@pytest.fixture
def default_registry():
    """Point the default registry at an empty source; restore it (and its ops) after."""
    import minigrad as mg

    reg = mg.plugins.registry
    saved = (reg.entry_points_fn, reg.environ, dict(reg._registered))
    mg.plugins.reset(entry_points_fn=list, environ={})
    yield reg
    reg.reset(saved[0], saved[1])
    for name, provider in saved[2].items():
        reg.register_op(name, provider.cls, override=True)
