#!/usr/bin/env bash
# Set up ./.venv, lint, type-check, run the docstring examples of minigrad and layers_plugins,
# then the whole test suite; extra arguments go to the test suite's pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # minigrad/ and layers_plugins/, configured in pyproject.toml
.venv/bin/python -m pytest -q --doctest-modules minigrad layers_plugins
exec .venv/bin/python -m pytest -n auto "$@"
