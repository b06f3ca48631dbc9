#!/usr/bin/env bash
# Set up ./.venv, lint, type-check, run the docstring examples of minigrad and layers_plugins,
# then the whole test suite (6 to 10 minutes on 2 cores; `-m "not slow"` skips the slowest tests);
# extra arguments go to the test suite's pytest. CI (.ci/run) runs it as it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
echo "== Lint: ruff check, ruff format --check ..."
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
echo "== Type check: mypy (minigrad/ and layers_plugins/, configured in pyproject.toml) ..."
.venv/bin/mypy
echo "== Docstring examples of minigrad and layers_plugins ..."
.venv/bin/python -m pytest -q --doctest-modules minigrad layers_plugins
echo "== Test suite: 6 to 10 minutes on 2 cores (tests/; -m \"not slow\" skips the slowest) ..."
exec .venv/bin/python -m pytest -n auto "$@"
