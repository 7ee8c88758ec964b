/**
 * Speed bench: images/s of one training step of each method (MoCo v2, MoCHi, MixCo,
 * SupCon) and of the bare encoder, with the small ConvNet and ResNet-18 (CIFAR stem), on the
 * active TF.js backend, beside the same step in PyTorch (bench/torch/, CPU, when `import torch`
 * works), plus peak RSS, tf.memory(), and data loading + two-view augmentation images/s.
 *
 *   npm run bench -- [--backend wasm] [--batch 256,128] [--steps 3] [--warmup 1] [--archs convnet,resnet18]
 *                    [--methods encoder,moco,mochi,mixco,supcon] [--rows resnet18:moco:256,...]
 *                    [--torch-threads 2] [--torch-device cpu|cuda] [--wasm-threads 2]
 *                    [--tf-flags WEBGPU_CPU_FORWARD=false,...] [--deadline-s 300]
 *                    [--no-torch] [--no-data] [--out report.json]
 *                    [--profile] [--quick] [--json] [--print-plan]
 *   npm run bench -- --e2e [--rows convnet:moco:128,...] [--images 2560] [--threads 2]   # whole epochs, bench/e2e.ts
 *
 * Images/s counts source images per second (a batch of B images with two views is B images).
 * Each timed figure is the median of --steps steps after --warmup warm-up steps.
 * --out is rewritten after every row, so a run that dies keeps the rows it finished.
 * --print-plan prints the rows with their method settings as JSON, the input of
 * `bench/torch/bench_torch.py --plan` (bench/gpu.sh), and exits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { gpuIdle, releaseFreeBuffers, watchGpuErrors, type GpuErrors } from './webgpu-sync';
import type { Batch, EncoderConfig, Method, MethodConfig, OptimizerConfig } from '../src/types';

type Arch = 'convnet' | 'resnet18';
type BenchMethod = 'encoder' | 'moco' | 'mochi' | 'mixco' | 'supcon';

interface RowSpec {
  arch: Arch;
  method: BenchMethod;
  batch: number;
}

interface Options {
  backend: string;
  batches: number[];
  steps: number;
  warmup: number;
  archs: Arch[];
  methods: BenchMethod[];
  /** The rows in the order they run: --rows, else archs x batches x methods. */
  rows: RowSpec[];
  torch: boolean;
  torchThreads: number;
  /** --device of bench/torch/bench_torch.py: cpu or cuda. */
  torchDevice: string;
  /** TF.js flags set after the backend is up (--tf-flags), over the backend's bench defaults. */
  tfFlags: Record<string, number | boolean | string>;
  /** Start no TF.js row that would end after this many seconds from the start (estimated). */
  deadlineS?: number;
  printPlan: boolean;
  /** XNNPACK threads of the wasm backend (src/backend/wasm-threads.ts); 1 = the shipped single-threaded build. */
  wasmThreads: number;
  profile: boolean;
  json: boolean;
  /** Also write the JSON report to this file. */
  out?: string;
  data: boolean;
}

/** The method settings both sides use (CIFAR-scale MoCo v2 defaults, docs/references.md#moco-v2, #defaults). */
const MOCO = { K: 4096, m: 0.99, T: 0.2, dim: 128, mlp: true, symmetric: false, bnSplits: 1 };
export const BENCH_CONFIGS: Record<Exclude<BenchMethod, 'encoder'>, MethodConfig> = {
  moco: { name: 'moco', ...MOCO },
  mochi: { name: 'mochi', ...MOCO, N: 1024, s: 1024, sPrime: 128, warmupEpochs: 0, classOracle: false },
  mixco: { name: 'mixco', base: 'moco', beta: 1, mixT: 0.05, K: MOCO.K, m: MOCO.m, T: MOCO.T, dim: 128, mlp: true, bnSplits: 1 },
  supcon: { name: 'supcon', T: 0.1, baseT: 0.07, dim: 128, mlp: true },
};
const OPTIMIZER: OptimizerConfig = { name: 'sgd', lr: 0.03, momentum: 0.9, weightDecay: 5e-4 };

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`bench: --${name} needs a value`);
    return v;
  };
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const quick = argv.includes('--quick');
  const batches = list(get('batch') ?? (quick ? '32' : '256,128')).map(Number);
  if (batches.some((b) => !(Number.isInteger(b) && b >= 2 && b % 2 === 0)))
    throw new Error(`bench: --batch must be even integers >= 2, got ${get('batch')}`);
  const archs = list(get('archs') ?? (quick ? 'convnet' : 'convnet,resnet18')) as Arch[];
  for (const a of archs) if (a !== 'convnet' && a !== 'resnet18') throw new Error(`bench: --archs: unknown '${a}' (convnet, resnet18)`);
  const methods = list(get('methods') ?? 'encoder,moco,mochi,mixco,supcon') as BenchMethod[];
  for (const m of methods) if (!['encoder', 'moco', 'mochi', 'mixco', 'supcon'].includes(m)) throw new Error(`bench: --methods: unknown '${m}'`);
  const steps = Number(get('steps') ?? (quick ? '1' : '3'));
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`bench: --steps must be an integer >= 1`);
  const warmup = Number(get('warmup') ?? '1');
  if (!(Number.isInteger(warmup) && warmup >= 1)) throw new Error(`bench: --warmup must be an integer >= 1`);
  let rows: RowSpec[] = [];
  const rowsArg = get('rows');
  if (rowsArg) {
    rows = list(rowsArg).map((r) => {
      const [arch, method, batch] = r.split(':');
      const spec = { arch: arch as Arch, method: method as BenchMethod, batch: Number(batch) };
      if (
        !['convnet', 'resnet18'].includes(spec.arch) ||
        !['encoder', 'moco', 'mochi', 'mixco', 'supcon'].includes(spec.method) ||
        !(Number.isInteger(spec.batch) && spec.batch >= 2 && spec.batch % 2 === 0)
      ) {
        throw new Error(`bench: --rows: '${r}' is not arch:method:batch (convnet|resnet18 : encoder|moco|mochi|mixco|supcon : even batch)`);
      }
      return spec;
    });
  } else {
    for (const arch of archs) for (const batch of batches) for (const method of methods) rows.push({ arch, method, batch });
  }
  const tfFlags: Options['tfFlags'] = {};
  for (const kv of list(get('tf-flags') ?? '')) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new Error(`bench: --tf-flags: '${kv}' is not NAME=value`);
    tfFlags[k] = v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v;
  }
  const deadline = get('deadline-s');
  const torchDevice = get('torch-device') ?? 'cpu';
  if (!/^(cpu|cuda(:\d+)?)$/.test(torchDevice)) throw new Error(`bench: --torch-device must be cpu, cuda or cuda:N, got ${torchDevice}`);
  return {
    backend: get('backend') ?? process.env.CWB_BACKEND ?? 'wasm',
    batches,
    steps,
    warmup,
    archs,
    methods,
    rows,
    torch: !argv.includes('--no-torch'),
    torchThreads: Number(get('torch-threads') ?? '2'),
    torchDevice,
    tfFlags,
    deadlineS: deadline === undefined ? undefined : Number(deadline),
    printPlan: argv.includes('--print-plan'),
    wasmThreads: Number(get('wasm-threads') ?? get('torch-threads') ?? '2'),
    profile: argv.includes('--profile'),
    json: argv.includes('--json'),
    out: get('out'),
    data: !argv.includes('--no-data'),
  };
}

/** A synthetic two-view batch [B, 32, 32, 3] (the method's input contract, src/types.ts Batch). */
function syntheticBatch(b: number, seed: number): Batch {
  return tf.tidy(() => ({
    views: [
      tf.randomNormal([b, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D,
      tf.randomNormal([b, 32, 32, 3], 0, 1, 'float32', seed + 1) as tf.Tensor4D,
    ],
    labels: tf.randomUniform([b], 0, 10, 'int32', seed + 2) as tf.Tensor1D,
    indices: tf.range(0, b, 1, 'int32') as tf.Tensor1D,
    size: b,
  }));
}

/**
 * One training step, resolved once its loss is read back with `await data()`: the read is queued
 * behind the step's work, so on webgpu the step has then finished on the GPU too (and a GPU tensor
 * cannot be read synchronously in Node anyway).
 */
interface Runner {
  step: (batch: Batch) => Promise<number>;
  dispose: () => void;
}

/** The bare encoder: forward (training BN) + backward + SGD of one view, loss = mean(z^2). */
function encoderStep(arch: Arch): Runner {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { createEncoder } = require('../src/models/encoder') as typeof import('../src/models/encoder');
  const { createOptimizer } = require('../src/optim/factory') as typeof import('../src/optim/factory');
  const { Rng } = require('../src/util/rng') as typeof import('../src/util/rng');
  const enc: EncoderConfig = { arch, stem: 'cifar' };
  const net = createEncoder(enc, { imageSize: [32, 32], channels: 3 }, { kind: 'mlp', dim: 128 }, new Rng(1));
  const opt = createOptimizer({ ...OPTIMIZER, lr: 0.01 }, net.params);
  const tfNameToParam = new Map([...net.params].map(([n, v]) => [v.name, n]));
  return {
    step: async (batch) => {
      const { value, grads } = tf.variableGrads(
        () =>
          net
            .project(net.forward(batch.views[0], { training: true }))
            .square()
            .mean() as tf.Scalar,
        [...net.params.values()],
      );
      const byName: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) byName[tfNameToParam.get(k)!] = g;
      opt.step(byName, 0.01);
      tf.dispose(grads);
      try {
        return (await value.data())[0];
      } finally {
        value.dispose();
      }
    },
    dispose: () => net.dispose(),
  };
}

/** A method from src/methods (createMethod), or an error saying why there is none. */
function methodStep(arch: Arch, name: Exclude<BenchMethod, 'encoder'>): Runner {
  const mod = require('../src/methods') as {
    createMethod?: (cfg: { method: MethodConfig; encoder: EncoderConfig; optimizer: OptimizerConfig }, data: unknown, seed: number) => Method;
  };
  if (typeof mod.createMethod !== 'function') throw new Error('src/methods exports no createMethod');
  const method = mod.createMethod(
    { method: BENCH_CONFIGS[name], encoder: { arch, stem: 'cifar' }, optimizer: OPTIMIZER },
    { imageSize: [32, 32], channels: 3, numClasses: 10 },
    1,
  );
  return { step: async (batch) => (await method.trainStep(batch)).loss, dispose: () => method.dispose() };
}

interface Row {
  arch: Arch;
  method: BenchMethod;
  batch: number;
  /** Wall seconds the TF.js row took, warm-up (shader compilation on webgpu) included. */
  tfjsRowSeconds?: number;
  /** webgpu: uncaptured device errors (out of memory, validation) during the row; its numbers are then void. */
  gpuErrors?: { count: number; first: string[] };
  tfjsSkipped?: string;
  tfjs?: {
    imagesPerSec: number;
    stepMs: number[];
    cpuMsPerStep: number[];
    loss: number;
    numTensors: number;
    numBytesMB: number;
    leakedTensorsPerStep: number;
  };
  tfjsError?: string;
  torch?: { imagesPerSec: number; stepMs: number[]; cpuMsPerStep: number[]; peakRssMB: number; threads: number; torch: string };
  torchError?: string;
  ratio?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function benchTfjs(arch: Arch, method: BenchMethod, b: number, opts: Options, profileOut: unknown[]): Promise<Row['tfjs']> {
  const runner = method === 'encoder' ? encoderStep(arch) : methodStep(arch, method);
  const batch = syntheticBatch(b, 7);
  const webgpu = tf.getBackend() === 'webgpu';
  try {
    // warm-up: builds XNNPACK operators (wasm) or compiles the shaders (webgpu), optimiser slots
    for (let i = 0; i < opts.warmup; i++) await runner.step(batch);
    const tensors0 = tf.memory().numTensors;
    const times: number[] = [];
    const cpu: number[] = [];
    let loss = NaN;
    for (let i = 0; i < opts.steps; i++) {
      if (webgpu) await gpuIdle();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      loss = await runner.step(batch);
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const mem = tf.memory();
    if (opts.profile && profileOut.length === 0) {
      const info = await tf.profile(async () => {
        await runner.step(batch);
      });
      const byKernel = new Map<string, { ms: number; calls: number }>();
      for (const k of info.kernels) {
        const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
        e.ms += Number(k.kernelTimeMs) || 0;
        e.calls += 1;
        byKernel.set(k.name, e);
      }
      const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
      profileOut.push({
        what: `${arch} ${method} batch ${b}`,
        totalKernelMs: +total.toFixed(1),
        kernels: [...byKernel.entries()]
          .sort((x, y) => y[1].ms - x[1].ms)
          .slice(0, 20)
          .map(([name, e]) => ({ kernel: name, ms: +e.ms.toFixed(1), share: +(e.ms / total).toFixed(3), calls: e.calls })),
      });
    }
    return {
      imagesPerSec: b / (median(times) / 1000),
      stepMs: times.map((t) => +t.toFixed(1)),
      cpuMsPerStep: cpu.map((t) => +t.toFixed(1)),
      loss,
      numTensors: mem.numTensors,
      numBytesMB: +(mem.numBytes / 2 ** 20).toFixed(1),
      leakedTensorsPerStep: (mem.numTensors - tensors0) / opts.steps,
    };
  } finally {
    tf.dispose([...batch.views, batch.labels, batch.indices]);
    runner.dispose();
    if (webgpu) await releaseFreeBuffers().catch(() => 0);
  }
}

function torchAvailable(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The method settings of a bench row, as bench/torch/bench_torch.py takes them (--config). */
function torchConfig(method: BenchMethod): Record<string, unknown> {
  return method === 'encoder' ? { dim: 128 } : (BENCH_CONFIGS[method] as unknown as Record<string, unknown>);
}

/** bench/torch/bench_torch.py beside this file, or under the working directory (a bundled run.ts, bench/gpu.sh). */
function torchScript(): string {
  const candidates = [path.join(__dirname, 'torch', 'bench_torch.py'), path.resolve('bench', 'torch', 'bench_torch.py')];
  return candidates.find((f) => fs.existsSync(f)) ?? candidates[0];
}

function benchTorch(arch: Arch, method: BenchMethod, b: number, opts: Options): Row['torch'] {
  const r = spawnSync(
    'python3',
    [
      torchScript(),
      '--arch',
      arch,
      '--method',
      method,
      '--batch',
      String(b),
      '--steps',
      String(opts.steps),
      '--warmup',
      String(opts.warmup),
      '--threads',
      String(opts.torchThreads),
      '--device',
      opts.torchDevice,
      '--config',
      JSON.stringify(torchConfig(method)),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`bench_torch.py failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Data loading + two-view augmentation throughput, from bench/data.ts when present. */
async function benchDataRow(opts: Options): Promise<Record<string, unknown>> {
  const mod = require('./data') as { benchData?: (o: { batch: number; steps: number }) => Promise<Record<string, unknown>> };
  if (typeof mod.benchData !== 'function') return { error: 'bench/data.ts exports no benchData' };
  try {
    return await mod.benchData({ batch: opts.batches[0], steps: opts.steps });
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

function fmt(n: number | undefined, d = 1): string {
  return n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d);
}

/** TF.js flags the bench sets on a backend before its own --tf-flags: training settings for webgpu. */
const BACKEND_FLAGS: Record<string, Record<string, number | boolean>> = {
  // Small tensors with CPU-side values would otherwise run on the CPU and bounce between the
  // CPU and the GPU (WEBGPU_CPU_FORWARD, tfjs-backend-webgpu flags_webgpu.ts).
  webgpu: { WEBGPU_CPU_FORWARD: false, DEBUG: false },
};

/**
 * Seconds a TF.js row is expected to take: the last row of the same architecture, scaled by the
 * batch; undefined for the first row of an architecture (its warm-up compiles the shaders).
 */
function estimateRowSeconds(rows: Row[], spec: RowSpec): number | undefined {
  const prev = [...rows].reverse().find((r) => r.arch === spec.arch && r.tfjsRowSeconds !== undefined && r.tfjs);
  return prev ? (prev.tfjsRowSeconds! * spec.batch) / prev.batch : undefined;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const opts = parseArgs(process.argv.slice(2));
  if (opts.printPlan) {
    const plan = opts.rows.map((r) => ({ ...r, config: torchConfig(r.method) }));
    process.stdout.write(`${JSON.stringify(plan, null, 1)}\n`);
    return;
  }
  if (opts.backend === 'wasm' && opts.wasmThreads > 1) {
    const { useThreadedWasm } = await import('../src/backend/wasm-threads');
    await useThreadedWasm(opts.wasmThreads);
  }
  const report = await initBackend(opts.backend, { quiet: true });
  const flags = { ...(BACKEND_FLAGS[report.backend] ?? {}), ...opts.tfFlags };
  for (const [k, v] of Object.entries(flags)) tf.env().set(k, v as number | boolean);
  if (report.backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    report.device = report.device.replace(/1 thread/, `${wasm.getThreadsCount()} thread${wasm.getThreadsCount() > 1 ? 's' : ''}`);
  }
  const torchVersion = opts.torch ? torchAvailable() : undefined;
  // With --json the table still prints, on stderr, so stdout stays one JSON document.
  const log = (s: string) => {
    (opts.json ? process.stderr : process.stdout).write(`${s}\n`);
  };
  log(
    `backend: ${report.backend} (${report.device}); ` +
      `flags: ${
        Object.keys(flags).length
          ? Object.entries(flags)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')
          : 'defaults'
      }; ` +
      `PyTorch: ${torchVersion ? `${torchVersion} on ${opts.torchDevice}, ${opts.torchThreads} threads` : 'not used'}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  const gpuErrors: GpuErrors | undefined = report.backend === 'webgpu' ? watchGpuErrors() : undefined;
  const rows: Row[] = [];
  const profiles: unknown[] = [];
  const reportJson = (extra: Record<string, unknown>) =>
    JSON.stringify(
      {
        backend: report,
        flags,
        node: process.version,
        loadAverage: os.loadavg(),
        torch: torchVersion ?? null,
        torchDevice: opts.torchDevice,
        torchThreads: opts.torchThreads,
        steps: opts.steps,
        warmup: opts.warmup,
        rows,
        peakRssMB: process.resourceUsage().maxRSS / 1024,
        memory: tf.memory(),
        profiles,
        ...extra,
      },
      null,
      1,
    );
  // Rewritten before and after every row: a run that dies (device lost, out of memory, killed at
  // its time limit) keeps the rows it finished and names the one it died in.
  const writePartial = (inProgress?: RowSpec) => {
    if (opts.out) fs.writeFileSync(opts.out, `${reportJson({ complete: false, inProgress: inProgress ?? null })}\n`);
  };
  for (const spec of opts.rows) {
    const { arch, method, batch: b } = spec;
    const row: Row = { arch, method, batch: b };
    const elapsed = (performance.now() - t0) / 1000;
    const est = estimateRowSeconds(rows, spec);
    if (opts.deadlineS !== undefined && elapsed + (est ?? 30) > opts.deadlineS) {
      row.tfjsSkipped = `time budget: ${elapsed.toFixed(0)} s spent, about ${est === undefined ? '30+' : est.toFixed(0)} s needed, ${opts.deadlineS} s allowed`;
    } else {
      writePartial(spec);
      const r0 = performance.now();
      try {
        row.tfjs = await benchTfjs(arch, method, b, opts, profiles);
      } catch (e) {
        row.tfjsError = (e as Error).message.split('\n')[0];
      }
      row.tfjsRowSeconds = +((performance.now() - r0) / 1000).toFixed(1);
      const errs = gpuErrors?.take();
      if (errs && errs.count > 0) {
        row.gpuErrors = errs;
        row.tfjsError ??= `${errs.count} WebGPU error(s) during the row, its numbers are void; first: ${errs.first[0]}`;
      }
    }
    if (torchVersion) {
      try {
        row.torch = benchTorch(arch, method, b, opts);
      } catch (e) {
        row.torchError = (e as Error).message;
      }
    }
    if (row.tfjs && row.torch) row.ratio = row.tfjs.imagesPerSec / row.torch.imagesPerSec;
    rows.push(row);
    writePartial();
    log(
      `${arch.padEnd(8)} ${method.padEnd(7)} B=${String(b).padEnd(4)} tfjs ${fmt(row.tfjs?.imagesPerSec).padStart(7)} img/s ` +
        `(step ${fmt(row.tfjs ? median(row.tfjs.stepMs) : undefined, 0)} ms, cpu ${fmt(row.tfjs ? median(row.tfjs.cpuMsPerStep) : undefined, 0)} ms, ` +
        `${row.tfjs?.numTensors ?? '-'} tensors, ${fmt(row.tfjs?.numBytesMB)} MB, row ${fmt(row.tfjsRowSeconds)} s)  ` +
        `torch ${fmt(row.torch?.imagesPerSec).padStart(7)} img/s (step ${fmt(row.torch ? median(row.torch.stepMs) : undefined, 0)} ms, ` +
        `cpu ${fmt(row.torch ? median(row.torch.cpuMsPerStep) : undefined, 0)} ms)  ratio ${fmt(row.ratio, 2)}` +
        (row.tfjsError ? `  [tfjs: ${row.tfjsError}]` : '') +
        (row.tfjsSkipped ? `  [tfjs skipped: ${row.tfjsSkipped}]` : '') +
        (row.torchError ? `  [torch: ${row.torchError}]` : ''),
    );
  }
  const data = opts.data ? await benchDataRow(opts) : undefined;
  if (data) log(`data loading + two-view augmentation: ${JSON.stringify(data)}`);
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  log(`peak RSS (node): ${peakRssMB.toFixed(0)} MB; tf.memory(): ${JSON.stringify(tf.memory())}`);
  for (const p of profiles) log(`profile: ${JSON.stringify(p, null, 1)}`);
  const json = reportJson({ complete: true, data });
  if (opts.json) process.stdout.write(`${json}\n`);
  if (opts.out) fs.writeFileSync(opts.out, `${json}\n`);
}

// Exit explicitly: the threaded wasm backend's worker threads keep the event loop alive.
(process.argv.includes('--e2e') ? import('./e2e').then((m) => m.e2eMain()) : main()).then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
