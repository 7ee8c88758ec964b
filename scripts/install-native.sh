#!/usr/bin/env bash
# Run by `npm install` and `npm ci` (the package's postinstall): gives the fast `tensorflow` backend
# (native libtensorflow, all cores) wherever it can be had, and never fails the install.
#
# Routes, in order, each checked by loading the backend:
#   1. already there (a binding that loads);
#   2. tfjs-node's own install script, which downloads libtensorflow 2.9.1 from Google's storage
#      (skipped quickly where that host is unreachable);
#   3. scripts/setup-tensorflow.sh: libtensorflow from TensorFlow's PyPI wheel, binding built with
#      node-gyp; wheel, library and built binding are cached, so a re-install rebuilds in seconds;
#   4. none: training uses wasm, and one line says why and how to get the fast path.
# CWB_SKIP_NATIVE=1 skips all of it; CWB_NATIVE_GPU=1 sets up the CUDA build (tfjs-node-gpu) instead.
set -uo pipefail
cd "$(dirname "$0")/.."
say() { echo "[cwb install] $*" >&2; }
[ "${CWB_SKIP_NATIVE:-}" = 1 ] && { say "CWB_SKIP_NATIVE=1: native tensorflow backend not set up (training uses wasm; npm run setup:tensorflow adds it)"; exit 0; }
# Only in this repository (with its scripts and sources), not when installed as a dependency.
[ -f scripts/setup-tensorflow.sh ] && [ -f src/backend/init.ts ] || exit 0
PKG=@tensorflow/tfjs-node; ARG=""
[ "${CWB_NATIVE_GPU:-}" = 1 ] && { PKG=@tensorflow/tfjs-node-gpu; ARG=--gpu; }
LOG="${TMPDIR:-/tmp}/cwb-install-native-$$.log"

loads() {
  TF_CPP_MIN_LOG_LEVEL=2 timeout 120 node -r tsx/cjs -e "require('./src/backend/init').initBackend('tensorflow', { quiet: true }).then((r) => { console.log(r.device); process.exit(0); }, (e) => { console.error(e.message); process.exit(1); })" >>"$LOG" 2>&1
}

if [ -f "node_modules/$PKG/package.json" ] && loads; then say "tensorflow backend: present ($PKG)"; rm -f "$LOG"; exit 0; fi

# Route 2: tfjs-node's own download (its install script), bounded in time.
if [ -f "node_modules/$PKG/scripts/install.js" ]; then
  say "trying $PKG's own libtensorflow download"
  if (cd "node_modules/$PKG" && timeout 180 node scripts/install.js) >>"$LOG" 2>&1 && loads; then
    say "tensorflow backend: ready (route: $PKG's own download)"; rm -f "$LOG"; exit 0
  fi
fi

# Route 3: the PyPI wheel.
say "building the tensorflow backend from TensorFlow's PyPI wheel (scripts/setup-tensorflow.sh $ARG; log: $LOG)"
t0=$(date +%s)
if bash scripts/setup-tensorflow.sh $ARG >>"$LOG" 2>&1 && loads; then
  how="built"; grep -q 'native binding from the cache' "$LOG" && how="native binding from the cache"
  say "tensorflow backend: ready in $(( $(date +%s) - t0 )) s (route: PyPI wheel, $how)"
  rm -f "$LOG"; exit 0
fi

why=$(grep -E "error|Error|ERROR|No matching|Could not|cannot|failed" "$LOG" | tail -1 | cut -c1-200)
say "the tensorflow backend could not be set up (${why:-see $LOG}); training will use wasm, several times slower."
say "  To get the fast path: install python3 + pip, g++ and make, then run: npm run setup:tensorflow"
exit 0
