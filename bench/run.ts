/**
 * Speed bench (issue 7): images/s of one training step of each method (MoCo v2, MoCHi, MixCo,
 * SupCon) and of the bare encoder, with the small ConvNet and ResNet-18 (CIFAR stem), on the
 * active TF.js backend, beside the same step in PyTorch (bench/torch/, CPU, when `import torch`
 * works), plus peak RSS, tf.memory(), and data loading + two-view augmentation images/s.
 *
 *   npm run bench -- [--backend wasm] [--batch 256,128] [--steps 3] [--archs convnet,resnet18]
 *                    [--methods encoder,moco,mochi,mixco,supcon] [--torch-threads 2] [--wasm-threads 2]
 *                    [--no-torch] [--no-data] [--fused-bn] [--out report.json]
 *                    [--profile] [--quick] [--json]
 *
 * Images/s counts source images per second (a batch of B images with two views is B images).
 * Each timed figure is the median of --steps steps after one warm-up step.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import type { Batch, EncoderConfig, Method, MethodConfig, OptimizerConfig } from '../src/types';

type Arch = 'convnet' | 'resnet18';
type BenchMethod = 'encoder' | 'moco' | 'mochi' | 'mixco' | 'supcon';

interface Options {
  backend: string;
  batches: number[];
  steps: number;
  archs: Arch[];
  methods: BenchMethod[];
  torch: boolean;
  torchThreads: number;
  /** XNNPACK threads of the wasm backend (src/backend/wasm-threads.ts); 1 = the shipped single-threaded build. */
  wasmThreads: number;
  profile: boolean;
  /** Swap the models' training BN for src/ops batchNormTrain (fused gradient) in this process. */
  fusedBn: boolean;
  json: boolean;
  /** Also write the JSON report to this file. */
  out?: string;
  data: boolean;
}

/** The method settings both sides use (CIFAR-scale MoCo v2 defaults, papers.md §1-4). */
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
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const quick = argv.includes('--quick');
  const batches = list(get('batch') ?? (quick ? '32' : '256,128')).map(Number);
  if (batches.some((b) => !(Number.isInteger(b) && b >= 2 && b % 2 === 0))) throw new Error(`bench: --batch must be even integers >= 2, got ${get('batch')}`);
  const archs = list(get('archs') ?? (quick ? 'convnet' : 'convnet,resnet18')) as Arch[];
  for (const a of archs) if (a !== 'convnet' && a !== 'resnet18') throw new Error(`bench: --archs: unknown '${a}' (convnet, resnet18)`);
  const methods = list(get('methods') ?? 'encoder,moco,mochi,mixco,supcon') as BenchMethod[];
  for (const m of methods) if (!['encoder', 'moco', 'mochi', 'mixco', 'supcon'].includes(m)) throw new Error(`bench: --methods: unknown '${m}'`);
  const steps = Number(get('steps') ?? (quick ? '1' : '3'));
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`bench: --steps must be an integer >= 1`);
  return {
    backend: get('backend') ?? process.env.CWB_BACKEND ?? 'wasm',
    batches,
    steps,
    archs,
    methods,
    torch: !argv.includes('--no-torch'),
    torchThreads: Number(get('torch-threads') ?? '2'),
    wasmThreads: Number(get('wasm-threads') ?? get('torch-threads') ?? '2'),
    profile: argv.includes('--profile'),
    fusedBn: argv.includes('--fused-bn'),
    json: argv.includes('--json'),
    out: get('out'),
    data: !argv.includes('--no-data'),
  };
}

/**
 * --fused-bn: replaces LayerOps.bn (src/models/layers.ts) in training mode by the same BN computed
 * with src/ops batchNormTrain (hand-written gradient, x and y kept instead of ~5 tensors): the
 * same parameters, batch statistics, split BN and running-statistics update. A bench experiment,
 * to measure what the models would gain; eval mode is untouched.
 */
function useFusedBn(): void {
  const layers = require('../src/models/layers') as typeof import('../src/models/layers');
  const { batchNormTrain } = require('../src/ops/batch-norm-train') as typeof import('../src/ops/batch-norm-train');
  const proto = layers.LayerOps.prototype as unknown as {
    bn: (this: unknown, name: string, x: tf.Tensor4D) => tf.Tensor4D;
  };
  const original = proto.bn;
  type Self = {
    opts: { training: boolean; bnSplits?: number };
    param: (name: string, shape: number[], init: () => Float32Array) => tf.Variable;
    buffer: (name: string, shape: number[], fill: number) => tf.Variable;
  };
  proto.bn = function (this: unknown, name: string, x: tf.Tensor4D): tf.Tensor4D {
    const self = this as Self;
    if (!self.opts.training) return original.call(this, name, x);
    const [N, H, W, C] = x.shape;
    const S = self.opts.bnSplits ?? 1;
    const gamma = self.param(`${name}.weight`, [C], () => new Float32Array(C).fill(1));
    const beta = self.param(`${name}.bias`, [C], () => new Float32Array(C));
    const runMean = self.buffer(`${name}.running_mean`, [C], 0);
    const runVar = self.buffer(`${name}.running_var`, [C], 1);
    const out = batchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, { eps: layers.BN_EPS, splits: S });
    const n = (N / S) * H * W;
    tf.tidy(() => {
      const m = out.mean.mean(0);
      const v = out.variance.mean(0).mul(n / (n - 1));
      runMean.assign(runMean.mul(1 - layers.BN_MOMENTUM).add(m.mul(layers.BN_MOMENTUM)));
      runVar.assign(runVar.mul(1 - layers.BN_MOMENTUM).add(v.mul(layers.BN_MOMENTUM)));
    });
    tf.dispose([out.mean, out.variance]);
    return out.y;
  };
}

/** A synthetic two-view batch [B, 32, 32, 3] (the method's input contract, src/types.ts Batch). */
function syntheticBatch(b: number, seed: number): Batch {
  return tf.tidy(() => ({
    views: [tf.randomNormal([b, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D, tf.randomNormal([b, 32, 32, 3], 0, 1, 'float32', seed + 1) as tf.Tensor4D],
    labels: tf.randomUniform([b], 0, 10, 'int32', seed + 2) as tf.Tensor1D,
    indices: tf.range(0, b, 1, 'int32') as tf.Tensor1D,
    size: b,
  }));
}

/** The bare encoder: forward (training BN) + backward + SGD of one view, loss = mean(z^2). */
function encoderStep(arch: Arch): { step: (batch: Batch) => number; dispose: () => void } {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { createEncoder } = require('../src/models/encoder') as typeof import('../src/models/encoder');
  const { createOptimizer } = require('../src/optim/factory') as typeof import('../src/optim/factory');
  const { Rng } = require('../src/util/rng') as typeof import('../src/util/rng');
  const enc: EncoderConfig = { arch, stem: 'cifar' };
  const net = createEncoder(enc, { imageSize: [32, 32], channels: 3 }, { kind: 'mlp', dim: 128 }, new Rng(1));
  const opt = createOptimizer({ ...OPTIMIZER, lr: 0.01 }, net.params);
  const tfNameToParam = new Map([...net.params].map(([n, v]) => [v.name, n]));
  return {
    step: (batch) => {
      const { value, grads } = tf.variableGrads(
        () => net.project(net.forward(batch.views[0], { training: true })).square().mean() as tf.Scalar,
        [...net.params.values()],
      );
      const byName: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) byName[tfNameToParam.get(k)!] = g;
      opt.step(byName, 0.01);
      tf.dispose(grads);
      const loss = value.dataSync()[0];
      value.dispose();
      return loss;
    },
    dispose: () => net.dispose(),
  };
}

/** A method from src/methods (helper C's createMethod), or an error saying why there is none. */
function methodStep(arch: Arch, name: Exclude<BenchMethod, 'encoder'>): { step: (batch: Batch) => number; dispose: () => void } {
  const file = path.join(__dirname, '..', 'src', 'methods', 'index.ts');
  if (!fs.existsSync(file)) throw new Error('src/methods/index.ts does not exist yet (no createMethod)');
  const mod = require('../src/methods') as {
    createMethod?: (cfg: { method: MethodConfig; encoder: EncoderConfig; optimizer: OptimizerConfig }, data: unknown, seed: number) => Method;
  };
  if (typeof mod.createMethod !== 'function') throw new Error('src/methods exports no createMethod');
  const method = mod.createMethod(
    { method: BENCH_CONFIGS[name], encoder: { arch, stem: 'cifar' }, optimizer: OPTIMIZER },
    { imageSize: [32, 32], channels: 3, numClasses: 10 },
    1,
  );
  return { step: (batch) => method.trainStep(batch).loss, dispose: () => method.dispose() };
}

interface Row {
  arch: Arch;
  method: BenchMethod;
  batch: number;
  tfjs?: { imagesPerSec: number; stepMs: number[]; cpuMsPerStep: number[]; loss: number; numTensors: number; numBytesMB: number; leakedTensorsPerStep: number };
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
  try {
    runner.step(batch); // warm-up: builds XNNPACK operators, optimiser slots
    const tensors0 = tf.memory().numTensors;
    const times: number[] = [];
    const cpu: number[] = [];
    let loss = NaN;
    for (let i = 0; i < opts.steps; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      loss = runner.step(batch);
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const mem = tf.memory();
    if (opts.profile && profileOut.length === 0) {
      const info = await tf.profile(() => {
        runner.step(batch);
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
  }
}

function torchAvailable(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function benchTorch(arch: Arch, method: BenchMethod, b: number, opts: Options): Row['torch'] {
  const cfg = method === 'encoder' ? { dim: 128 } : BENCH_CONFIGS[method];
  const script = path.join(__dirname, 'torch', 'bench_torch.py');
  const r = spawnSync(
    'python3',
    [script, '--arch', arch, '--method', method, '--batch', String(b), '--steps', String(opts.steps), '--threads', String(opts.torchThreads), '--config', JSON.stringify(cfg)],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`bench_torch.py failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Data loading + two-view augmentation throughput, from helper B's bench/data.ts when present. */
async function benchDataRow(opts: Options): Promise<Record<string, unknown>> {
  const file = path.join(__dirname, 'data.ts');
  if (!fs.existsSync(file)) return { error: 'bench/data.ts (benchData) does not exist yet' };
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

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.backend === 'wasm' && opts.wasmThreads > 1) {
    const { useThreadedWasm } = await import('../src/backend/wasm-threads');
    await useThreadedWasm(opts.wasmThreads);
  }
  const report = await initBackend(opts.backend, { quiet: true });
  if (opts.fusedBn) useFusedBn();
  if (report.backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    report.device = report.device.replace(/1 thread/, `${wasm.getThreadsCount()} thread${wasm.getThreadsCount() > 1 ? 's' : ''}`);
  }
  const torchVersion = opts.torch ? torchAvailable() : undefined;
  const log = (s: string) => {
    if (!opts.json) process.stdout.write(`${s}\n`);
  };
  log(`backend: ${report.backend} (${report.device})${opts.fusedBn ? ', fused BN' : ''}; PyTorch: ${torchVersion ? `${torchVersion}, ${opts.torchThreads} threads` : 'not used'}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const rows: Row[] = [];
  const profiles: unknown[] = [];
  for (const arch of opts.archs) {
    for (const b of opts.batches) {
      for (const method of opts.methods) {
        const row: Row = { arch, method, batch: b };
        try {
          row.tfjs = await benchTfjs(arch, method, b, opts, profiles);
        } catch (e) {
          row.tfjsError = (e as Error).message.split('\n')[0];
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
        log(
          `${arch.padEnd(8)} ${method.padEnd(7)} B=${String(b).padEnd(4)} tfjs ${fmt(row.tfjs?.imagesPerSec).padStart(7)} img/s ` +
            `(step ${fmt(row.tfjs ? median(row.tfjs.stepMs) : undefined, 0)} ms, cpu ${fmt(row.tfjs ? median(row.tfjs.cpuMsPerStep) : undefined, 0)} ms, ` +
            `${row.tfjs?.numTensors ?? '-'} tensors, ${fmt(row.tfjs?.numBytesMB)} MB)  ` +
            `torch ${fmt(row.torch?.imagesPerSec).padStart(7)} img/s (step ${fmt(row.torch ? median(row.torch.stepMs) : undefined, 0)} ms, ` +
            `cpu ${fmt(row.torch ? median(row.torch.cpuMsPerStep) : undefined, 0)} ms)  ratio ${fmt(row.ratio, 2)}` +
            (row.tfjsError ? `  [tfjs: ${row.tfjsError}]` : '') +
            (row.torchError ? `  [torch: ${row.torchError}]` : ''),
        );
      }
    }
  }
  const data = opts.data ? await benchDataRow(opts) : undefined;
  if (data) log(`data loading + two-view augmentation: ${JSON.stringify(data)}`);
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  log(`peak RSS (node): ${peakRssMB.toFixed(0)} MB; tf.memory(): ${JSON.stringify(tf.memory())}`);
  for (const p of profiles) log(`profile: ${JSON.stringify(p, null, 1)}`);
  const json = JSON.stringify(
    { backend: report, fusedBn: opts.fusedBn, loadAverage: os.loadavg(), torch: torchVersion ?? null, torchThreads: opts.torchThreads, rows, data, peakRssMB, memory: tf.memory(), profiles },
    null,
    1,
  );
  if (opts.json) process.stdout.write(`${json}\n`);
  if (opts.out) fs.writeFileSync(opts.out, `${json}\n`);
}

// Exit explicitly: the threaded wasm backend's worker threads keep the event loop alive.
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
