#!/usr/bin/env bash
# Executes the tslab notebooks headless (npm run notebooks [-- NAME...]).
#
#   CWB_BUDGET   smoke | quick | paper       (default quick)
#   CWB_BACKEND  auto | wasm | cpu | webgpu | tensorflow (default auto)
#   DATA_DIR     data root (default ./data; CIFAR-10 class folders are found there or in ../shared/datasets)
#   CWB_NB_OUT   where executed notebooks go. Default: results/notebooks/ for smoke runs (git-ignored,
#                so tests never overwrite the committed outputs), in place (notebooks/) otherwise.
#   CWB_CELL_TIMEOUT  seconds per cell (default 14400)
#   CWB_CACHE_DIR  decoded-image caches (default data/cache)
#   PYTHON       a Python with requirements.txt installed (default: .cache/nbenv/bin/python if present, else python3)
#
# Usage: notebooks/run.sh [NAME...]   (default: every notebooks/NN_*.ipynb)
#        notebooks/run.sh --kernel-only   (build and register the tslab kernel, print its JUPYTER_PATH entry)
#
#   CWB_INJECT   1: pass BUDGET/BACKEND/DATA_DIR as a papermill-style cell tagged `injected-parameters`
#                after the cell tagged `parameters`, instead of through the environment (default 0)
#
# Steps: build the package if src/ is newer than dist/, register the tslab kernel under
# .cache/jupyter (never in the user's global kernels), execute with nbclient (what `jupyter
# nbconvert --execute` runs; notebooks/execute.py also saves the outputs of a failed run), fail on
# any error output. The parameters reach the notebook through the environment (its `parameters`
# cell reads CWB_BUDGET, CWB_BACKEND, DATA_DIR, CWB_RESULTS_DIR), so an executed notebook holds no
# injected cell and no machine path and reruns as it is wherever it is opened.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUDGET="${CWB_BUDGET:-quick}"
BACKEND="${CWB_BACKEND:-auto}"
case "$BUDGET" in smoke|quick|paper) ;; *) echo "run.sh: CWB_BUDGET must be smoke, quick or paper, got '$BUDGET'" >&2; exit 2;; esac
if [ -n "${CWB_NB_OUT:-}" ]; then OUT="$CWB_NB_OUT"; elif [ "$BUDGET" = smoke ]; then OUT="$ROOT/results/notebooks"; else OUT="$ROOT/notebooks"; fi
TIMEOUT="${CWB_CELL_TIMEOUT:-14400}"

if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.cache/nbenv/bin/python" ]; then PYTHON="$ROOT/.cache/nbenv/bin/python"; else PYTHON="$(command -v python3)"; fi
fi
"$PYTHON" -c 'import nbconvert, nbclient, nbformat, jupyter_client, IPython' 2>/dev/null || {
  echo "run.sh: $PYTHON lacks Jupyter; install it with: $PYTHON -m pip install -r requirements.txt" >&2; exit 2; }

# 1. Build the package the notebooks import (../dist) when it is missing or older than src/.
if [ ! -f dist/index.js ] || [ -n "$(find src -name '*.ts' -newer dist/index.js -print -quit)" ]; then
  echo "run.sh: building the package (tsc)" >&2
  npx tsc -p tsconfig.json >&2 || { [ -f dist/index.js ] && echo "run.sh: tsc reported errors; using the emitted dist/" >&2; } || exit 1
fi

# 2. The tslab kernel, registered under .cache/jupyter only.
KPREFIX="$ROOT/.cache/jupyter"
if [ ! -f "$KPREFIX/share/jupyter/kernels/tslab/kernel.json" ] || ! grep -q "$ROOT/node_modules/.bin/tslab" "$KPREFIX/share/jupyter/kernels/tslab/kernel.json"; then
  "$ROOT/node_modules/.bin/tslab" install --python="$PYTHON" --binary="$ROOT/node_modules/.bin/tslab" --prefix="$KPREFIX" >&2
fi
export JUPYTER_PATH="$KPREFIX/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
# The package by name in the notebooks: tslab's compiler resolves modules the classic Node way
# (node_modules folders, not package.json "exports"), so notebooks/node_modules/contrastive-workbench
# links back to the repository root (git-ignored, made here).
if [ ! -e notebooks/node_modules/contrastive-workbench ]; then
  mkdir -p notebooks/node_modules && ln -s ../.. notebooks/node_modules/contrastive-workbench
fi
# `run.sh --kernel-only`: build + register the kernel, print the JUPYTER_PATH entry, run nothing.
if [ "${1:-}" = "--kernel-only" ]; then echo "$KPREFIX/share/jupyter"; exit 0; fi
export CWB_BUDGET="$BUDGET" CWB_BACKEND="$BACKEND"
# Decoded-image caches of a read-only dataset folder go to the repository's data/cache (not to
# notebooks/data/cache, the kernel's working folder being notebooks/).
export CWB_CACHE_DIR="${CWB_CACHE_DIR:-$ROOT/data/cache}"
if [ -n "${DATA_DIR:-}" ]; then export DATA_DIR="$(cd "$DATA_DIR" && pwd)"; fi

# 3. Which notebooks.
if [ "$#" -gt 0 ]; then NAMES=("$@"); else NAMES=(); for f in notebooks/[0-9][0-9]_*.ipynb; do NAMES+=("$(basename "$f" .ipynb)"); done; fi
mkdir -p "$OUT"
status=0
for name in "${NAMES[@]}"; do
  name="${name%.ipynb}"; name="$(basename "$name")"
  src="notebooks/$name.ipynb"
  [ -f "$src" ] || { echo "run.sh: no notebook $src" >&2; exit 2; }
  dst="$OUT/$name.ipynb"
  params=()
  if [ "${CWB_INJECT:-0}" = 1 ]; then
    params=("BUDGET=\"$BUDGET\"" "BACKEND=\"$BACKEND\"")
    [ -n "${DATA_DIR:-}" ] && params+=("DATA_DIR=\"$DATA_DIR\"")
  fi
  echo "run.sh: executing $name (budget $BUDGET, backend $BACKEND) -> $dst" >&2
  start=$(date +%s)
  # The kernel's working folder is notebooks/ so that `import ... from '../dist'` resolves.
  if "$PYTHON" notebooks/execute.py "$src" "$dst" --timeout "$TIMEOUT" --cwd "$ROOT/notebooks" ${params[@]+"${params[@]}"}; then
    echo "run.sh: $name ok in $(( $(date +%s) - start ))s" >&2
  else
    echo "run.sh: $name FAILED after $(( $(date +%s) - start ))s (see the outputs in $dst)" >&2
    status=1
  fi
done
exit $status
