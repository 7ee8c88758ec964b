/**
 * GPU preflight for bench/gpu.sh: says, before the bench, whether TF.js can train on WebGPU here,
 * and if not, why.
 *
 *   npx tsx bench/gpu-preflight.ts [--out preflight.json] [--no-timing]
 *
 * 1. Node and platform; the Dawn options from $CWB_DAWN_FLAGS.
 * 2. The WebGPU adapter Dawn finds (vendor, architecture, device, driver description, features,
 *    the limits that bound TF.js' buffers), or, with none, the adapters Dawn lists.
 * 3. initBackend('webgpu'), which runs the library's self-test (a conv2d and a matMul forward and
 *    backward against plain-JS values).
 * 4. conv2d forward, input gradient and filter gradient (stride 1 and 2), BN-style moments and a
 *    matMul, on webgpu against the cpu backend, with WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE true (the
 *    TF.js default) and false (the matmul-based input gradient).
 * 5. Unless --no-timing: ms of the conv input gradient at ResNet-18 sizes (batch 256) with either
 *    setting, to pick the faster correct one.
 *
 * Prints one line `PREFLIGHT_TF_FLAGS=...` (flags for bench/run.ts --tf-flags) and writes JSON.
 * Exit code: 0 webgpu works, 2 no adapter or the backend did not start, 3 wrong values.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { gpuIdle, watchGpuErrors } from './webgpu-sync';
import { arg } from './args';

interface Result {
  node: string;
  platform: string;
  dawnFlags: string;
  vkDriverFiles: string | null;
  adapter?: Record<string, unknown> | null;
  backend?: string;
  backendError?: string;
  checks: { name: string; naiveConvTranspose: boolean; maxRelErr: number; ok: boolean; error?: string; gpuErrors?: number }[];
  timing: { name: string; naiveConvTranspose: boolean; ms: number }[];
  tfFlags: Record<string, boolean>;
  ok: boolean;
}

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

type Case = { name: string; run: () => tf.Tensor[] };

function cases(): Case[] {
  const convCase = (name: string, x: number[], w: number[], stride: number): Case => ({
    name,
    run: () => {
      const xt = tf.tensor4d(
        values(
          x.reduce((a, b) => a * b),
          1,
        ),
        x as [number, number, number, number],
      );
      const wt = tf.tensor4d(
        values(
          w.reduce((a, b) => a * b),
          2,
        ).map((v) => v * 0.2),
        w as [number, number, number, number],
      );
      const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, stride, 'same').square().mean() as tf.Scalar;
      const [dx, dw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([xt, wt]);
      return [tf.conv2d(xt, wt, stride, 'same'), dx, dw];
    },
  });
  return [
    convCase('conv3x3 s1 [4,16,16,16]->32 fwd/dx/dw', [4, 16, 16, 16], [3, 3, 16, 32], 1),
    convCase('conv3x3 s2 [4,16,16,32]->64 fwd/dx/dw', [4, 16, 16, 32], [3, 3, 32, 64], 2),
    convCase('conv1x1 s2 [4,16,16,32]->64 fwd/dx/dw', [4, 16, 16, 32], [1, 1, 32, 64], 2),
    {
      name: 'moments [8,8,8,64] + matMul [64,96]x[96,48]',
      run: () => {
        const x = tf.tensor4d(values(8 * 8 * 8 * 64, 3), [8, 8, 8, 64]);
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const m = tf.matMul(tf.tensor2d(values(64 * 96, 4), [64, 96]), tf.tensor2d(values(96 * 48, 5), [96, 48]));
        return [mean, variance, m];
      },
    },
  ];
}

async function evaluate(c: Case): Promise<Float32Array[]> {
  const ts = tf.tidy(c.run);
  const out = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(ts);
  return out;
}

function maxRelErr(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  for (let k = 0; k < b.length; k++) {
    let scale = 0;
    for (const v of b[k]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < b[k].length; i++) {
      const e = Math.abs(a[k][i] - b[k][i]) / (scale + 1e-12);
      if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
    }
  }
  return worst;
}

type Shape4 = [number, number, number, number];

async function timeConvDx(x: Shape4, w: Shape4, stride: number, reps: number): Promise<number> {
  const xt = tf.randomNormal(x) as tf.Tensor4D;
  const dyShape: Shape4 = [x[0], Math.ceil(x[1] / stride), Math.ceil(x[2] / stride), w[3]];
  const dy = tf.randomNormal(dyShape) as tf.Tensor4D;
  const wt = tf.randomNormal(w) as tf.Tensor4D;
  const once = () => tf.dispose(tf.conv2dTranspose(dy, wt, x, stride, 'same'));
  once(); // compile
  await gpuIdle();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) once();
  await gpuIdle();
  const ms = (performance.now() - t0) / reps;
  tf.dispose([xt, dy, wt]);
  return ms;
}

async function main(): Promise<void> {
  const out = arg('out');
  const res: Result = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    dawnFlags: process.env.CWB_DAWN_FLAGS ?? '',
    vkDriverFiles: process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? null,
    checks: [],
    timing: [],
    tfFlags: {},
    ok: false,
  };
  const save = () => {
    if (out) fs.writeFileSync(out, `${JSON.stringify(res, null, 1)}\n`);
  };
  console.log(`preflight: node ${res.node} (${res.platform}), Dawn options '${res.dawnFlags}', VK_DRIVER_FILES ${res.vkDriverFiles ?? 'unset'}`);

  // The adapter, seen directly (initBackend makes its own Dawn instance).
  const webgpu = require('webgpu') as { create: (o: string[]) => { requestAdapter: (o?: unknown) => Promise<unknown> } };
  const flags = res.dawnFlags
    .split(';')
    .map((f) => f.trim())
    .filter(Boolean);
  const adapter = (await webgpu.create(flags).requestAdapter({ powerPreference: 'high-performance' })) as {
    info?: Record<string, unknown>;
    features?: Iterable<string>;
    limits?: Record<string, number>;
  } | null;
  if (!adapter) {
    res.adapter = null;
    console.log(
      'preflight: NO WebGPU adapter. Dawn found no usable Vulkan device: is libvulkan.so.1 there (ldconfig -p | grep libvulkan)? ' +
        'is a Vulkan ICD json there (/usr/share/vulkan/icd.d, /etc/vulkan/icd.d, $VK_DRIVER_FILES)? Software Vulkan (lavapipe) is rejected by Dawn. Adapters Dawn lists:',
    );
    try {
      await webgpu.create([...flags, 'adapter=__list_adapters__']).requestAdapter();
    } catch (e) {
      console.log(`  ${(e as Error).message}`);
    }
    save();
    process.exit(2);
  }
  const info: Record<string, unknown> = {};
  for (const k of ['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize', 'isFallbackAdapter']) {
    if (adapter.info && adapter.info[k] !== undefined) info[k] = adapter.info[k];
  }
  const limits: Record<string, number> = {};
  for (const k of [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupsPerDimension',
  ]) {
    if (adapter.limits && adapter.limits[k] !== undefined) limits[k] = Number(adapter.limits[k]);
  }
  res.adapter = { ...info, features: adapter.features ? [...adapter.features].sort() : [], limits };
  console.log(`preflight: adapter ${JSON.stringify(res.adapter)}`);

  try {
    const report = await initBackend('webgpu', { quiet: true });
    res.backend = `${report.backend} (${report.device})`;
    console.log(`preflight: initBackend('webgpu') ok (self-test passed): ${res.backend}`);
  } catch (e) {
    res.backendError = (e as Error).message;
    console.log(`preflight: initBackend('webgpu') FAILED: ${res.backendError}`);
    save();
    process.exit(2);
  }
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const gpuErrors = watchGpuErrors();

  // Reference values on the cpu backend, then webgpu with either conv-transpose program.
  const cs = cases();
  await tf.setBackend('cpu');
  const refs: Float32Array[][] = [];
  for (const c of cs) refs.push(await evaluate(c));
  await tf.setBackend('webgpu');
  const okBy: Record<string, boolean> = {};
  for (const naive of [true, false]) {
    tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', naive);
    okBy[String(naive)] = true;
    for (let i = 0; i < cs.length; i++) {
      try {
        const err = maxRelErr(await evaluate(cs[i]), refs[i]);
        const ok = err < 1e-3;
        res.checks.push({ name: cs[i].name, naiveConvTranspose: naive, maxRelErr: err, ok });
        okBy[String(naive)] &&= ok;
      } catch (e) {
        res.checks.push({ name: cs[i].name, naiveConvTranspose: naive, maxRelErr: Infinity, ok: false, error: (e as Error).message.split('\n')[0] });
        okBy[String(naive)] = false;
      }
      const c = res.checks[res.checks.length - 1];
      const errs = gpuErrors.take();
      if (errs.count > 0) {
        c.ok = false;
        c.gpuErrors = errs.count;
        c.error = `${errs.count} WebGPU error(s): ${errs.first[0]}`;
        okBy[String(naive)] = false;
      }
      console.log(
        `preflight: ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}, naive conv transpose ${naive}: max rel err ${c.maxRelErr.toExponential(2)}${c.error ? ` (${c.error})` : ''}`,
      );
    }
  }
  save();

  let naiveFast: boolean | undefined;
  if (!process.argv.includes('--no-timing') && okBy.true && okBy.false) {
    const shapes: [string, Shape4, Shape4, number][] = [
      ['conv dx [256,32,32,64] 3x3 s1 ->64', [256, 32, 32, 64], [3, 3, 64, 64], 1],
      ['conv dx [256,32,32,64] 3x3 s2 ->128', [256, 32, 32, 64], [3, 3, 64, 128], 2],
      ['conv dx [256,8,8,256] 3x3 s1 ->256', [256, 8, 8, 256], [3, 3, 256, 256], 1],
    ];
    const total: Record<string, number> = { true: 0, false: 0 };
    for (const naive of [true, false]) {
      tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', naive);
      for (const [name, x, w, s] of shapes) {
        const ms = await timeConvDx(x, w, s, 5);
        res.timing.push({ name, naiveConvTranspose: naive, ms: +ms.toFixed(2) });
        total[String(naive)] += ms;
        console.log(`preflight: ${name}, naive conv transpose ${naive}: ${ms.toFixed(2)} ms`);
      }
    }
    naiveFast = total.true <= total.false;
  }
  // The faster correct program; the TF.js default (naive) when only it is correct or nothing was timed.
  res.tfFlags.WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE = !(okBy.false && !okBy.true) && naiveFast !== false;
  res.ok = okBy.true || okBy.false;
  save();
  console.log(
    `PREFLIGHT_TF_FLAGS=${Object.entries(res.tfFlags)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}`,
  );
  process.exit(res.ok ? 0 : 3);
}

main().catch((e) => {
  console.error(`preflight: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  process.exit(1);
});
