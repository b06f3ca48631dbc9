#!/usr/bin/env bash
# Set up everything minigrad needs in ./.venv: Python packages with the [dev] extra, the
# Debian `graphviz` package (for rendering drawings), the Debian `chromium` package (the
# explorer page's browser tests) and PyTorch CPU when it can be installed (it is only used to
# compare against; without it those comparisons are skipped).
# Run by scripts/demo.sh and scripts/test.sh. The first run says what it does, step by step,
# with pip's own download progress; a rerun with nothing to do prints nothing and takes about
# a second (the Python packages are installed again only when pyproject.toml has changed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "minigrad needs Python 3.10 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)." >&2
    exit 1
fi

started=$SECONDS
said=0
# One line per step, with the time since setup started; the first also says what is ahead.
step() {
    if [ "$said" = 0 ]; then
        said=1
        echo "== Setting up .venv for minigrad. The first time takes about 3 minutes on a 2-core" \
            "machine, more on a slow connection (the Python packages are about 150 MB to" \
            "download, PyTorch CPU another 190 MB; .venv needs about 2 GB of disk)."
    fi
    printf '== [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x .venv/bin/python ]; then
    step "Creating the virtual environment .venv with $("$PYTHON" --version 2>&1) ..."
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        step "Installing the Debian package python3-venv with apt-get ..."
        apt_install python3-venv || {
            echo "Cannot create a virtual environment. Install it first: sudo apt-get install python3-venv" >&2
            exit 1
        }
        "$PYTHON" -m venv .venv
    fi
fi

# The editable install is current when pyproject.toml is unchanged since it was made.
stamp=.venv/.minigrad-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! .venv/bin/python -c 'import minigrad' 2>/dev/null; then
    # setuptools prints a banner about editable installs on every run: keep it out of the output
    export PYTHONWARNINGS="ignore:Editable installation"
    step "Updating pip ..."
    .venv/bin/python -m pip install -q --upgrade pip
    step "Installing minigrad (editable) and its Python packages with pip: numpy, networkx," \
        "graphviz, and for the tests and tutorials pytest, ruff, mypy, matplotlib, scikit-learn," \
        "onnx, onnxruntime, playwright, jupytext ..."
    .venv/bin/python -m pip install --progress-bar on -e ".[dev]"
    echo "$want" > "$stamp"
fi

if [ "${MINIGRAD_SKIP_TORCH:-0}" != 1 ] && ! .venv/bin/python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)' 2>/dev/null; then
    step "Installing PyTorch 2.13 CPU with pip (a 190 MB download; only used to compare against) ..."
    .venv/bin/python -m pip install --progress-bar on "torch==2.13.0" ||
        echo "note: PyTorch CPU could not be installed; comparisons with PyTorch will be skipped."
fi

if ! command -v dot >/dev/null 2>&1; then
    step "Installing the Graphviz binary (Debian package graphviz) with apt-get ..."
    apt_install graphviz ||
        echo "note: drawing to SVG/PNG needs Graphviz: sudo apt-get install graphviz (macOS: brew install graphviz). DOT text works without it."
fi

if [ "${MINIGRAD_SKIP_BROWSER:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
    step "Installing headless Chromium (Debian package chromium, about 100 MB) with apt-get for the explorer's browser tests ..."
    apt_install chromium ||
        echo "note: the explorer's browser tests need Chromium: sudo apt-get install chromium. They are skipped without it."
fi

if [ "$said" = 1 ]; then
    step "Set up. Next runs skip all of this."
fi
