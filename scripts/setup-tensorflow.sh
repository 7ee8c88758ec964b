#!/usr/bin/env bash
# Build @tensorflow/tfjs-node's native binding against the libtensorflow that TensorFlow's PyPI wheel ships
# (libtensorflow_cc.so.2 exports the C and eager C APIs the binding uses), instead of the libtensorflow 2.9.1
# archive that tfjs-node's install script downloads from storage.googleapis.com (unreachable on many
# machines, and pinned to CUDA 11.2 / cuDNN 8.1 for the GPU build).
#
#   npm run setup:tensorflow                 # CPU: tensorflow-cpu wheel (oneDNN, all cores)
#   npm run setup:tensorflow -- --gpu        # CUDA: the `tensorflow` wheel + tfjs-node-gpu; CUDA libraries from
#                                            # `pip install tensorflow[and-cuda]` (any CUDA the wheel supports)
#   CWB_TF_VERSION=2.21.0 CWB_TF_WHEEL=/path/to/tensorflow_cpu-....whl npm run setup:tensorflow
#
# Needs: python3 with pip (to fetch the wheel, or CWB_TF_WHEEL), a C++ toolchain (g++, make) and node's headers
# (shipped with node in <prefix>/include/node; otherwise node-gyp downloads them). `npm ci` removes the package
# again (it is an optional dependency whose own install script fails offline): re-run this after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
VARIANT=cpu
[ "${1:-}" = "--gpu" ] && VARIANT=gpu
TF_VERSION="${CWB_TF_VERSION:-2.21.0}"
TFJS_VERSION=4.22.0
CACHE="${CWB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/contrastive-workbench}"
LIBDIR="$CACHE/libtensorflow-$TF_VERSION-$VARIANT"
if [ "$VARIANT" = gpu ]; then PKG=@tensorflow/tfjs-node-gpu; WHEEL_NAME=tensorflow; else PKG=@tensorflow/tfjs-node; WHEEL_NAME=tensorflow-cpu; fi
say() { echo "[setup:tensorflow] $*" >&2; }

# 1. libtensorflow + C headers from the wheel, extracted once into the cache.
if [ ! -f "$LIBDIR/lib/libtensorflow_cc.so.2" ]; then
  wheel="${CWB_TF_WHEEL:-}"
  if [ -z "$wheel" ]; then
    mkdir -p "$CACHE/wheels"
    say "downloading the $WHEEL_NAME==$TF_VERSION wheel from PyPI (about 300 MB) into $CACHE/wheels"
    python3 -m pip download --no-deps --only-binary=:all: -q -d "$CACHE/wheels" "$WHEEL_NAME==$TF_VERSION"
    wheel=$(ls -t "$CACHE/wheels"/$(echo "$WHEEL_NAME" | tr - _)-"$TF_VERSION"-*.whl | head -1)
  fi
  [ -f "$wheel" ] || { say "no wheel at '$wheel'"; exit 1; }
  say "extracting libtensorflow from $(basename "$wheel")"
  tmp="$LIBDIR.tmp-$$"; rm -rf "$tmp"; mkdir -p "$tmp/lib"
  python3 - "$wheel" "$tmp" <<'PY'
import sys, zipfile, os, shutil
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.endswith('/'):
            continue
        if name in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            with z.open(name) as src, open(os.path.join(out, 'lib', os.path.basename(name)), 'wb') as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        elif name.startswith(('tensorflow/include/tensorflow/', 'tensorflow/include/tsl/', 'tensorflow/include/xla/')):
            target = os.path.join(out, 'include', name[len('tensorflow/include/'):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(name) as src, open(target, 'wb') as dst:
                shutil.copyfileobj(src, dst)
PY
  [ -f "$tmp/lib/libtensorflow_cc.so.2" ] || { say "the wheel holds no tensorflow/libtensorflow_cc.so.2"; exit 1; }
  rm -rf "$LIBDIR"; mv "$tmp" "$LIBDIR"
fi

# 2. The tfjs-node package without its download script.
if [ ! -f "node_modules/$PKG/binding.gyp" ]; then
  say "installing $PKG@$TFJS_VERSION without its install script"
  CWB_SKIP_NATIVE=1 npm install --no-save --ignore-scripts --no-audit --no-fund "$PKG@$TFJS_VERSION" >&2
fi
dir="node_modules/$PKG"

# 3. Point its deps/ at the wheel's library and headers (binding.gyp links -ltensorflow -ltensorflow_framework
#    with rpath $ORIGIN/../../deps/lib).
rm -rf "$dir/deps"; mkdir -p "$dir/deps/lib"
ln -s "$LIBDIR/include" "$dir/deps/include"
for n in libtensorflow.so libtensorflow.so.2 libtensorflow_cc.so.2; do ln -s "$LIBDIR/lib/libtensorflow_cc.so.2" "$dir/deps/lib/$n"; done
for n in libtensorflow_framework.so libtensorflow_framework.so.2; do ln -s "$LIBDIR/lib/libtensorflow_framework.so.2" "$dir/deps/lib/$n"; done

# 4. Build the binding with node-gyp (npm's bundled copy), using node's own headers when present.
gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
nodedir="$(dirname "$(readlink -f "$(command -v node)")")/.."
extra=(); [ -f "$nodedir/include/node/node_api.h" ] && extra=(--nodedir="$nodedir")
napi=$(node -e "const v=+process.versions.napi; const l=require('./$dir/package.json').binary.napi_versions; console.log(Math.max(...l.filter(x=>x<=v)))")
# The built binding is cached beside the library, keyed by what it was built against, so that a
# re-install or `npm ci` (which removes node_modules) restores it in seconds.
BINDING_CACHE="$LIBDIR/binding/tfjs-$TFJS_VERSION-napi$napi-node$(node -p process.versions.modules)-$(uname -m)/tfjs_binding.node"
mkdir -p "$dir/lib/napi-v$napi"
if [ -f "$BINDING_CACHE" ] && [ -z "${CWB_REBUILD_BINDING:-}" ]; then
  say "native binding from the cache ($(dirname "$BINDING_CACHE"))"
  cp "$BINDING_CACHE" "$dir/lib/napi-v$napi/tfjs_binding.node"
else
  say "building the native binding (napi-v$napi)"
  (cd "$dir" && node "$gyp" rebuild "${extra[@]}" --module_name=tfjs_binding --module_path="lib/napi-v$napi" >&2)
  cp "$dir/build/Release/tfjs_binding.node" "$dir/lib/napi-v$napi/tfjs_binding.node"
  mkdir -p "$(dirname "$BINDING_CACHE")"
  cp "$dir/build/Release/tfjs_binding.node" "$BINDING_CACHE.tmp-$$" && mv "$BINDING_CACHE.tmp-$$" "$BINDING_CACHE"
fi

# 5. Check: load it and run the project's backend self-test.
if [ "$VARIANT" = gpu ]; then
  site=$(python3 -c "import site; print(site.getsitepackages()[0])")
  say "for CUDA, put the nvidia-* libraries of tensorflow[and-cuda] on the loader path, e.g.:"
  say "  export LD_LIBRARY_PATH=\$(ls -d $site/nvidia/*/lib | paste -sd:)"
fi
TF_CPP_MIN_LOG_LEVEL=2 node -r tsx/cjs -e "require('./src/backend/init').initBackend('tensorflow').catch((e) => { console.error(e.message); process.exit(1); })"
say "done: CWB_BACKEND=tensorflow (or auto) now uses libtensorflow $TF_VERSION ($VARIANT)"
