#!/usr/bin/env bash
# The speed bench on an NVIDIA GPU machine that has no Node.js, no npm and no internet:
# TF.js on WebGPU (Dawn for Node over Vulkan) beside the same step in PyTorch on CUDA.
#
#   bash bench/gpu.sh pack     # here, after `npm ci`: builds .gpu/ (ignored), prints the command for the GPU machine
#   bash bench/gpu.sh run      # on the GPU machine, in the repo root, with .gpu/ carried; writes $OUT
#
# pack puts into .gpu/ (about 28 MB):
#   cwb-gpu.tar.xz  bin/node      this machine's Node.js, stripped (needs glibc >= 2.28)
#                   app/bench.js  bench/gpu-entry.ts bundled by esbuild: bench/run.ts, bench/gpu-preflight.ts,
#                                 the library and TF.js (webgpu, wasm and cpu backends)
#                   app/*.wasm    tfjs-backend-wasm's binaries (the fallback when there is no GPU)
#                   app/node_modules/webgpu  dawn.node (linux-x64) behind a CommonJS index.js
#                   app/plan.json, app/plan-tiny.json  the rows (bench/run.ts --print-plan)
#   gl/*.deb        the Vulkan loader and GL dispatch libraries (Debian amd64), unpacked into / on
#                   the machine only when `ldconfig -p` lists no libvulkan.so.1
#   MANIFEST        what was packed, from which commit
#
# run, within $GPU_BUDGET_S seconds (default 530, under the GPU machine's limit of 600 s a command):
#   1. unpacks to /tmp/cwb-gpu; brings the Vulkan loader if missing; finds the NVIDIA Vulkan ICD
#   2. nvidia-smi; preflight (bench/gpu-preflight.ts): node, the WebGPU adapter, initBackend('webgpu'),
#      conv/matMul values on webgpu against the cpu backend, the faster correct conv-transpose program
#   3. PyTorch on CUDA, every plan row in one process (bench/torch/bench_torch.py --plan), then the
#      first row again with TF32 off
#   4. TF.js on webgpu, plan order (ResNet-18 MoCo v2 at batch 256 first), until the budget is spent;
#      the report is rewritten after every row; a process that dies is started once more on the rest
#   5. $OUT/table.md: the side-by-side table; $OUT/gpu-bench.json: all of it
# With no usable WebGPU adapter it says why (preflight) and runs the tiny plan on wasm instead, and
# PyTorch on the CPU when CUDA is missing too: the plumbing still gets proven end to end.
#
# $OUT (default /tmp/gpuout) gets at most 7 files: gpu-run.log, preflight.json, torch.jsonl,
# tfjs-1.json, tfjs-2.json, table.md, gpu-bench.json.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
PACK_DIR="$ROOT/.gpu"
# The rows, in the order they run: the target row (ResNet-18 MoCo v2, batch 256) first, batch 128 last (if time allows).
METHODS_ORDER="moco encoder mochi mixco supcon"
plan_rows() {
  local out=() b a m
  for b in 256 128; do for a in resnet18 convnet; do for m in $METHODS_ORDER; do out+=("$a:$m:$b"); done; done; done
  (IFS=,; echo "${out[*]}")
}
TINY_ROWS="convnet:encoder:16,convnet:moco:16"
DEVICE_CALL_COMMAND='bash bench/gpu.sh run'

die() { echo "gpu.sh: $*" >&2; exit 1; }

# Dawn prints every uncaptured WebGPU error (thousands of lines after one out-of-memory); the bench
# counts them per row (gpuErrors in its JSON). Keep the first 60 such lines of the log.
dawn_filter() {
  awk '/^(validation:|out of memory:|internal:|unknown:|Out of memory\.|\[Invalid | - While |    at [A-Za-z_]+ \()/ {
         n++; if (n <= 60) print; else if (n == 61) print "[gpu.sh: further Dawn error lines left out]"; fflush(); next }
       { print; fflush() }
       END { if (n > 60) print "[gpu.sh: " n - 60 " Dawn error lines left out]" }'
}

pack() {
  command -v node >/dev/null || die "pack needs node (and npm ci done)"
  [ -x node_modules/.bin/esbuild ] || die "node_modules/.bin/esbuild missing: run npm ci first"
  [ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || die "node_modules/webgpu/dist/linux-x64/dawn.node missing: run npm ci first"
  local node_bin; node_bin="$(command -v node)"
  local v; v="$(node -p 'process.versions.node')"
  case "$(node -p 'process.arch')-$(node -p 'process.platform')" in x64-linux) ;; *) die "pack needs an x86-64 Linux node (the GPU machine is x86-64), got $(node -p 'process.arch+"-"+process.platform')";; esac
  file -L "$node_bin" 2>/dev/null | grep -q 'statically linked' && echo "gpu.sh pack: note: $node_bin is statically linked"
  local stage="$PACK_DIR/stage"
  rm -rf "$stage" "$PACK_DIR/cwb-gpu.tar.xz"
  mkdir -p "$stage/bin" "$stage/app/node_modules/webgpu/dist/linux-x64" "$PACK_DIR/gl"

  echo "gpu.sh pack: bundling bench/gpu-entry.ts"
  node_modules/.bin/esbuild bench/gpu-entry.ts --bundle --platform=node --target=node18 \
    --outfile="$stage/app/bench.js" --log-level=error \
    --external:webgpu --external:sharp --external:danfojs-node --external:tslab \
    --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:plotly.js-dist-min \
    --external:@tensorflow/tfjs-backend-wasm/package.json || die "esbuild failed"
  cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm \
     node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm "$stage/app/" || die "tfjs-backend-wasm binaries missing"
  # webgpu's own index.js is an ES module; a CommonJS stand-in loads the same dawn.node on any Node.
  cp node_modules/webgpu/dist/linux-x64/dawn.node "$stage/app/node_modules/webgpu/dist/linux-x64/"
  cp node_modules/webgpu/LICENSE.md "$stage/app/node_modules/webgpu/" 2>/dev/null
  local wv; wv="$(node -p 'require("./node_modules/webgpu/package.json").version')"
  printf '{"name":"webgpu","version":"%s","main":"index.js"}\n' "$wv" > "$stage/app/node_modules/webgpu/package.json"
  printf "// CommonJS stand-in for webgpu@%s's ESM index.js (bench/gpu.sh pack)\nmodule.exports = require('./dist/linux-x64/dawn.node');\n" "$wv" \
    > "$stage/app/node_modules/webgpu/index.js"

  echo "gpu.sh pack: node $v from $node_bin"
  if command -v strip >/dev/null; then strip -o "$stage/bin/node" "$node_bin" || cp "$node_bin" "$stage/bin/node"; else cp "$node_bin" "$stage/bin/node"; fi
  chmod +x "$stage/bin/node"
  "$stage/bin/node" "$stage/app/bench.js" --print-plan --rows "$(plan_rows)" > "$stage/app/plan.json" || die "--print-plan failed"
  "$stage/bin/node" "$stage/app/bench.js" --print-plan --rows "$TINY_ROWS" > "$stage/app/plan-tiny.json" || die "--print-plan failed"
  # The bundle must load with the packed node and find dawn.node (no adapter needed for this).
  (cd "$stage/app" && ../bin/node -e "require('webgpu').create([])") || die "the packed dawn.node does not load"

  echo "gpu.sh pack: compressing (xz -9, about a minute)"
  tar -C "$stage" -cf - bin app | xz -9 -T0 -c > "$PACK_DIR/cwb-gpu.tar.xz" || die "tar/xz failed"

  if ! ls "$PACK_DIR"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
    echo "gpu.sh pack: downloading the Vulkan loader debs (amd64) into .gpu/gl"
    local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    mkdir -p /tmp/amd64/partial
    apt-get "${o[@]}" update -qq >/dev/null || echo "gpu.sh pack: apt-get update failed"
    (cd "$PACK_DIR/gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2) \
      || echo "gpu.sh pack: WARNING: could not download the Vulkan debs; run works only where libvulkan.so.1 is installed"
  fi
  {
    echo "packed $(date -u +%FT%TZ) from $(git rev-parse HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "node $v (stripped copy of $node_bin); webgpu $wv; tfjs $(node -p 'require("./node_modules/@tensorflow/tfjs/package.json").version')"
    echo "rows: $(plan_rows)"
    (cd "$PACK_DIR" && sha256sum cwb-gpu.tar.xz gl/*.deb 2>/dev/null)
  } > "$PACK_DIR/MANIFEST"
  rm -rf "$stage"
  echo
  du -b "$PACK_DIR/cwb-gpu.tar.xz" "$PACK_DIR"/gl/*.deb 2>/dev/null | awk '{s+=$1; print} END {printf "gpu.sh pack: .gpu/ holds %.1f MiB\n", s/1048576}'
  local tree; tree="$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)"
  echo "gpu.sh pack: the working tree that travels with it: $(awk -v t="$tree" 'BEGIN{printf "%.1f", t/1048576}') MiB (at most 64 MiB in all reach the GPU machine)"
  cat <<EOF

On the GPU machine (one run, about 9 minutes), with .gpu/ beside the checkout's files:
  $DEVICE_CALL_COMMAND
It writes table.md, gpu-run.log and preflight.json to \$OUT (default /tmp/gpuout).
EOF
}

# ---------------------------------------------------------------------------------------------
run() {
  local OUT="${OUT:-/tmp/gpuout}"
  mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
  local BUDGET="${GPU_BUDGET_S:-530}"
  local T0; T0=$(date +%s)
  left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
  exec > >(tee -a "$OUT/gpu-run.log") 2>&1
  local TEE_PID=$!
  echo "gpu.sh run: $(date -u +%FT%TZ) on $(uname -srm), budget ${BUDGET}s, OUT=$OUT"
  [ -f "$PACK_DIR/cwb-gpu.tar.xz" ] || die "$PACK_DIR/cwb-gpu.tar.xz missing: run 'bash bench/gpu.sh pack' here first and carry .gpu"
  head -3 "$PACK_DIR/MANIFEST" 2>/dev/null

  # 1. Unpack (tar + xz, else Python's tarfile, which reads xz too).
  local D=/tmp/cwb-gpu
  rm -rf "$D"; mkdir -p "$D"
  if ! { command -v xz >/dev/null && tar -C "$D" -xJf "$PACK_DIR/cwb-gpu.tar.xz"; }; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$PACK_DIR/cwb-gpu.tar.xz" "$D" || die "cannot unpack"
  fi
  local NODE="$D/bin/node" APP="$D/app"
  chmod +x "$NODE"
  "$NODE" --version || die "the packed node does not run here ($(ldd --version 2>&1 | head -1))"

  # Vulkan: the loader (the packed Debian libvulkan1 and GL dispatch packages), then the NVIDIA ICD.
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
    if [ ! -e /dev/nvidiactl ] && ! command -v nvidia-smi >/dev/null; then
      echo "gpu.sh run: no libvulkan.so.1, and no NVIDIA GPU: leaving / alone (the debs are for the GPU machine)"
    elif ls "$PACK_DIR"/gl/*.deb >/dev/null 2>&1; then
      echo "gpu.sh run: no libvulkan.so.1: unpacking $(ls "$PACK_DIR"/gl/*.deb | wc -l) debs from .gpu/gl into /"
      if command -v dpkg >/dev/null; then
        for f in "$PACK_DIR"/gl/*.deb; do dpkg -x "$f" /; done
      else
        for f in "$PACK_DIR"/gl/*.deb; do (t=$(mktemp -d); cd "$t" && ar x "$f" && tar -C / -xf data.tar.*; rm -rf "$t"); done
      fi
      ldconfig
    else
      echo "gpu.sh run: no libvulkan.so.1 and no .gpu/gl/*.deb: WebGPU will find no adapter"
    fi
  fi
  ldconfig -p 2>/dev/null | grep -E 'libvulkan|libGLX_nvidia|libnvidia-glcore' | sed 's/^/  /'
  local icd=""
  for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json; do [ -f "$f" ] && icd="$f"; done
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -z "$icd" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    echo "gpu.sh run: no ICD in the standard places: VK_DRIVER_FILES=$VK_DRIVER_FILES"
  fi
  echo "gpu.sh run: Vulkan ICD: ${VK_DRIVER_FILES:-${icd:-none found in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d}}"

  # 2. The GPU, and whether TF.js can use it.
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.max.sm --format=csv 2>&1 | sed 's/^/  /'
  else
    echo "gpu.sh run: no nvidia-smi here"
  fi
  echo "gpu.sh run: [$(left)s left] preflight"
  local pre_out rc
  pre_out="$(timeout -k 5 120 "$NODE" "$APP/bench.js" preflight --out "$OUT/preflight.json" 2>&1 | dawn_filter; exit "${PIPESTATUS[0]}")"; rc=$?
  echo "$pre_out"
  if [ "$rc" = 2 ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
    local alt; alt="$(find /usr/local/nvidia /usr/share/vulkan /etc/vulkan /usr/lib/x86_64-linux-gnu -maxdepth 5 -name 'nvidia_icd*.json' 2>/dev/null | head -1)"
    if [ -n "$alt" ]; then
      export VK_DRIVER_FILES="$alt"
      echo "gpu.sh run: no adapter; again with VK_DRIVER_FILES=$alt"
      pre_out="$(timeout -k 5 90 "$NODE" "$APP/bench.js" preflight --out "$OUT/preflight.json" 2>&1 | dawn_filter; exit "${PIPESTATUS[0]}")"; rc=$?
      echo "$pre_out"
    fi
  fi
  local webgpu=0 tf_flags=""
  if [ "$rc" = 0 ]; then
    webgpu=1
    tf_flags="$(echo "$pre_out" | sed -n 's/^PREFLIGHT_TF_FLAGS=//p' | tail -1)"
  elif [ "$rc" != 2 ] && [ "$rc" != 3 ] && python3 -c 'import json, sys
c = [x for x in json.load(open(sys.argv[1])).get("checks", []) if x["naiveConvTranspose"]]
sys.exit(0 if c and all(x["ok"] for x in c) else 1)' "$OUT/preflight.json" 2>/dev/null; then
    echo "gpu.sh run: preflight exit $rc after its value checks passed (timing cut short): webgpu with the TF.js default conv transpose"
    webgpu=1
  else
    echo "gpu.sh run: preflight exit $rc: TF.js cannot use WebGPU here (reason above); falling back to the tiny plan on wasm"
  fi

  # 3. PyTorch: the whole plan on CUDA when there is one (also when WebGPU failed: the reference
  #    numbers are cheap), else TF.js' plan on the CPU. TF.js: the whole plan on WebGPU, else the tiny one.
  local TF_PLAN="$APP/plan.json" PLAN="$APP/plan.json" tdev=cuda
  [ "$webgpu" = 1 ] || TF_PLAN="$APP/plan-tiny.json"
  if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    tdev=cpu PLAN="$TF_PLAN"
    python3 -c 'import torch' 2>/dev/null || tdev=""
  fi
  if [ -n "$tdev" ]; then
    local tt=$(( $(left) / 3 )); [ "$tt" -gt 150 ] && tt=150
    local steps=10 warm=3; [ "$tdev" = cpu ] && steps=2 warm=1
    echo "gpu.sh run: [$(left)s left] PyTorch on $tdev, $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$PLAN") rows, at most ${tt}s"
    : > "$OUT/torch.jsonl"
    PYTHONUNBUFFERED=1 timeout -k 5 "$tt" python3 bench/torch/bench_torch.py --plan "$PLAN" --device "$tdev" \
      --steps "$steps" --warmup "$warm" --threads "$(nproc)" --deadline-s $(( tt - 20 )) --out "$OUT/torch.jsonl" 2>&1 | grep -v '^{' 
    if [ "$tdev" = cuda ] && [ "$(left)" -gt 200 ]; then
      python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))[:1], open(sys.argv[2], "w"))' "$PLAN" "$D/plan-first.json"
      PYTHONUNBUFFERED=1 timeout -k 5 40 python3 bench/torch/bench_torch.py --plan "$D/plan-first.json" --device cuda --no-tf32 \
        --steps "$steps" --warmup "$warm" --threads "$(nproc)" --out "$OUT/torch.jsonl" 2>&1 | grep -v '^{'
    fi
    python3 bench/gpu_table.py table --plan "$PLAN" --torch "$OUT/torch.jsonl" | tail -n +6
  else
    echo "gpu.sh run: no PyTorch here (python3 -c 'import torch' fails)"
  fi

  # 4. TF.js, in plan order, until the budget is spent.
  local backend=webgpu steps=5 warm=2 extra=()
  if [ "$webgpu" = 1 ]; then
    [ -n "$tf_flags" ] && extra+=(--tf-flags "$tf_flags")
  else
    backend=wasm steps=1 warm=1 extra+=(--wasm-threads 1)
  fi
  local attempt rows budget
  for attempt in 1 2; do
    rows="$(python3 bench/gpu_table.py rows "$TF_PLAN" "$OUT"/tfjs-*.json)"
    [ -n "$rows" ] || break
    budget=$(( $(left) - 25 ))
    if [ "$budget" -lt 45 ]; then echo "gpu.sh run: ${budget}s is too little for another TF.js run"; break; fi
    echo "gpu.sh run: [$(left)s left] TF.js on $backend (attempt $attempt, ${budget}s): $rows"
    timeout -k 5 $(( budget + 10 )) "$NODE" "$APP/bench.js" --backend "$backend" --rows "$rows" --steps "$steps" --warmup "$warm" \
      --no-torch --no-data --deadline-s "$budget" --out "$OUT/tfjs-$attempt.json" "${extra[@]}" 2>&1 | dawn_filter; rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] && break
    echo "gpu.sh run: TF.js exited with $rc"
  done

  # 5. The table.
  echo "gpu.sh run: [$(left)s left] table"
  python3 bench/gpu_table.py table --plan "$TF_PLAN" "$PLAN" --tfjs "$OUT"/tfjs-*.json --torch "$OUT/torch.jsonl" \
    --preflight "$OUT/preflight.json" --json "$OUT/gpu-bench.json" > "$OUT/table.md"
  cat "$OUT/table.md"
  echo "gpu.sh run: done in $(( $(date +%s) - T0 ))s; files in $OUT: $(ls "$OUT" | tr '\n' ' ')"
  exec 1>&- 2>&-
  wait "$TEE_PID" 2>/dev/null  # the log's last lines are written before the call returns
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: bash bench/gpu.sh pack|run   (see the comment at the top of bench/gpu.sh)"; exit 2 ;;
esac
