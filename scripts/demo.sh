#!/usr/bin/env bash
# Set up ./.venv and train the demo CNN; extra arguments go to `python -m minigrad demo`.
# The first run sets up .venv first (about 3 minutes, step by step); then the demo trains
# for a few seconds and writes its pages and pictures to out/demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python -m minigrad demo "$@"
