#!/usr/bin/env bash
# Set up ./.venv and train the demo CNN; extra arguments go to `python -m minigrad demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python -m minigrad demo "$@"
