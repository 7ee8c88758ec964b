/**
 * Parity with PyTorch: the same RunConfig trained by the workbench (`run`) and by the PyTorch twin
 * (bench/torch/train.py) for several seeds, on the same pixels (the images the workbench loaded
 * for the config are written out for the twin), with per-epoch loss, kNN and train img/s of both
 * sides, their mean and spread over seeds, and the workbench - PyTorch difference with a
 * t-interval over seeds (seed s of one side paired with seed s of the other; the runs are
 * independent, so the pairing only fixes the count).
 *
 * Budgets:
 *   parity  CIFAR-10, 500 train / 200 test images per class (class-balanced subset, dataset seed 0),
 *           ConvNet width 1, batch 128, 15 epochs, SGD 0.06 / 0.9 / 5e-4, cosine per step, kNN
 *           (k 200, T 0.1, backbone features) every epoch, 'fast' linear probe at the end.
 *   tiny    synthetic shapes (16 px, 24 train / 8 test per class), batch 32, 2 epochs: seconds per
 *           side, for the test suite.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolvePipeline } from '../data/augment/presets';
import { MIXCO_LR } from '../methods/mixco';
import { defaultMethodConfig } from '../methods/params';
import type { ImageSet, MethodConfig } from '../types';
import { readJson, writeJsonAtomic } from '../util/fsx';
import { canonicalJson, configHash, runId as runIdOf, validateConfig, type RunConfig } from './config';
import { readMetrics } from './metrics-log';
import { resultsRoot } from './paths';
import { readSummary } from './records';
import { loadDatasetCached, run, type RunOptions } from './runner';

export const PARITY_METHODS = ['moco', 'moco-v1', 'mochi', 'mixco', 'mixco-simclr', 'simclr', 'supcon', 'ce'] as const;
export type ParityMethod = (typeof PARITY_METHODS)[number];
export const PARITY_BUDGETS = ['parity', 'tiny'] as const;
export type ParityBudget = (typeof PARITY_BUDGETS)[number];

export interface ParityOptions {
  method: ParityMethod;
  budget: ParityBudget;
  /** Number of seeds (default 3): firstSeed..firstSeed+seeds-1. */
  seeds?: number;
  /** The first seed (default 0); a saved comparison takes more seeds through `saveParity`. */
  firstSeed?: number;
  /** Queue size of the MoCo-style methods (default 4096 at the parity budget, 64 tiny). */
  K?: number;
  /** Override the number of epochs (shorter suspect tests). */
  epochs?: number;
  /** Extra dotted overrides applied to every config ({'method.bnSplits': 8}). */
  overrides?: Record<string, unknown>;
  /** Python interpreter (default $CWB_PYTHON, then python3). */
  python?: string;
  /** Threads of the PyTorch side (default 2). */
  threads?: number;
  /** Which sides to run (default both). */
  sides?: ('workbench' | 'torch')[];
  /** Rerun both sides even when results exist. */
  force?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  run?: Pick<RunOptions, 'resultsDir' | 'dataDir' | 'backend' | 'quiet'>;
}

/** One side of one seed, per epoch. */
export interface SideRun {
  seed: number;
  epochs: { epoch: number; loss: number; knnAcc?: number; imagesPerSec: number }[];
  knnAcc: number | null;
  linearAcc: number | null;
  imagesPerSec: number | null;
}

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

export interface Difference {
  /** Mean over seeds of workbench - PyTorch. */
  mean: number;
  /** 95% t-interval over seeds (null with one seed). */
  ci95: [number, number] | null;
  n: number;
}

export interface ParityMetricRow {
  metric: 'loss' | 'knnAcc';
  epoch: number;
  workbench: Stat | null;
  torch: Stat | null;
  diff: Difference | null;
}

export interface ParityResult {
  method: ParityMethod;
  budget: ParityBudget;
  K?: number;
  seeds: number[];
  config: RunConfig;
  configHash: string;
  workbench: SideRun[];
  torch: SideRun[];
  curves: ParityMetricRow[];
  final: Record<'knnAcc' | 'linearAcc' | 'loss' | 'imagesPerSec', { workbench: Stat | null; torch: Stat | null; diff: Difference | null }>;
  backend: string;
  torchVersion: string | null;
  dir: string;
}

const MOCO_LIKE = new Set<ParityMethod>(['moco', 'moco-v1', 'mochi', 'mixco']);

/** The method block of a parity run (the project's CIFAR recipe: MoCo v2 head, T 0.1, m 0.99, 4 BN splits; MixCo at its own temperatures). */
function parityMethod(method: ParityMethod, K: number, epochs: number): MethodConfig {
  const moco = { K, m: 0.99, T: 0.1, dim: 128, bnSplits: 4 };
  switch (method) {
    case 'moco':
      return defaultMethodConfig('moco', { ...moco, mlp: true });
    case 'moco-v1':
      return defaultMethodConfig('moco', { ...moco, mlp: false });
    case 'mochi':
      // MoCHi's N / s / s' scaled to the small queue; mixing starts after a fifth of the epochs.
      return defaultMethodConfig('mochi', { ...moco, mlp: true, N: Math.min(256, K), s: 256, sPrime: 32, warmupEpochs: Math.floor(epochs / 5) });
    // MixCo's temperatures are its reference's (and the mixco ablation's): T 0.2 with mix T 0.05 on
    // MoCo, 0.5 and 0.5 on SimCLR. On MoCo it also trains at its reference's learning rate (MIXCO_LR).
    case 'mixco':
      return defaultMethodConfig('mixco', { ...moco, T: 0.2, mlp: true, base: 'moco', beta: 1, mixT: 0.05 });
    case 'mixco-simclr':
      return defaultMethodConfig('mixco', { ...moco, mlp: true, base: 'simclr', beta: 1, mixT: 0.5, T: 0.5 });
    case 'simclr':
      return defaultMethodConfig('simclr', { T: 0.5, dim: 128, mlp: true });
    case 'supcon':
      return defaultMethodConfig('supcon', { T: 0.1, baseT: 0.07, dim: 128, mlp: true });
    case 'ce':
      return defaultMethodConfig('ce', {});
    default:
      throw new Error(`parity: unknown method '${method as string}' (${PARITY_METHODS.join(', ')})`);
  }
}

function presetOf(method: ParityMethod): RunConfig['augmentation'] {
  if (method === 'simclr' || method === 'mixco-simclr') return 'simclr-cifar';
  if (method === 'supcon' || method === 'ce') return 'supcon-cifar';
  return 'moco-cifar-demo';
}

/** The RunConfig of one parity cell (method, budget, K, seed). */
export function parityConfig(
  method: ParityMethod,
  budget: ParityBudget,
  seed: number,
  opts: { K?: number; epochs?: number; overrides?: Record<string, unknown> } = {},
): RunConfig {
  if (!(PARITY_METHODS as readonly string[]).includes(method))
    throw new Error(`parity: --method must be one of ${PARITY_METHODS.join(', ')}, got '${method}'`);
  if (!(PARITY_BUDGETS as readonly string[]).includes(budget))
    throw new Error(`parity: --budget must be one of ${PARITY_BUDGETS.join(', ')}, got '${budget}'`);
  const tiny = budget === 'tiny';
  const epochs = opts.epochs ?? (tiny ? 2 : 15);
  const K = opts.K ?? (tiny ? 64 : 4096);
  const cfg: RunConfig = {
    experiment: `parity-${budget}`,
    name: `${method}${MOCO_LIKE.has(method) ? `-K${K}` : ''}-e${epochs}-s${seed}`,
    dataset: tiny
      ? { name: 'synthetic', synthetic: { perClass: 24, testPerClass: 8, size: 16, classes: 4, channels: 3, colour: 'random' }, seed: 0 }
      : { name: 'cifar10', trainSubset: 5000, testSubset: 2000, seed: 0 },
    augmentation: presetOf(method),
    encoder: { arch: 'convnet', width: tiny ? 0.25 : 1 },
    method: parityMethod(method, K, epochs),
    optimizer: { name: 'sgd', lr: method === 'mixco' ? MIXCO_LR : 0.06, momentum: 0.9, weightDecay: 5e-4 },
    schedule: { name: 'cosine', perStep: true },
    epochs,
    batchSize: tiny ? 32 : 128,
    seed,
    eval: { knnEvery: 1, knnK: 200, knnT: 0.1, knnFeatures: 'backbone', linear: { protocol: 'fast', ...(tiny ? { epochs: 5 } : {}) } },
    params: { method, budget, seed, ...(MOCO_LIKE.has(method) ? { K } : {}) },
  };
  let out = cfg as unknown as Record<string, unknown>;
  for (const [p, v] of Object.entries(opts.overrides ?? {})) {
    const keys = p.split('.');
    out = JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
    let o = out;
    for (const k of keys.slice(0, -1)) {
      if (typeof o[k] !== 'object' || o[k] === null) throw new Error(`parity override ${p}: ${k} is not an object`);
      o = o[k] as Record<string, unknown>;
    }
    o[keys[keys.length - 1]] = v;
  }
  return validateConfig(out);
}

/** Whether the PyTorch side can run: python with torch and torchvision. Returns the reason when not. */
export function torchAvailable(python = process.env.CWB_PYTHON ?? 'python3'): { ok: true; version: string } | { ok: false; reason: string } {
  const r = spawnSync(python, ['-c', 'import torch, torchvision, PIL; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, reason: `${python}: ${r.error.message}` };
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return { ok: false, reason: `${python} cannot import torch, torchvision and PIL (${last}); pip install -r bench/torch/requirements.txt` };
  }
  return { ok: true, version: r.stdout.trim() };
}

/** The twin's script (bench/torch/train.py from the package root). */
export function twinScript(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const f = path.join(dir, 'bench', 'torch', 'train.py');
    if (fs.existsSync(f)) return f;
    dir = path.dirname(dir);
  }
  throw new Error(`parity: bench/torch/train.py not found above ${__dirname}`);
}

/** Writes the images of a train/test pair as the twin reads them (train.u8, test.u8, meta.json). */
export function exportParityData(dir: string, train: ImageSet, test: ImageSet, augmentation: RunConfig['augmentation']): void {
  fs.mkdirSync(dir, { recursive: true });
  const info = train.info;
  const split = (s: ImageSet) => ({ n: s.n, labels: Array.from(s.labels) });
  fs.writeFileSync(path.join(dir, 'train.u8'), train.images);
  fs.writeFileSync(path.join(dir, 'test.u8'), test.images);
  writeJsonAtomic(path.join(dir, 'meta.json'), {
    imageSize: info.imageSize,
    channels: info.channels,
    numClasses: info.numClasses,
    mean: info.mean,
    std: info.std,
    augmentation: resolvePipeline(augmentation),
    train: split(train),
    test: split(test),
  });
}

function runTwin(python: string, args: string[], log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(python, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let tail = '';
    p.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.startsWith('[torch]')) log(line);
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${python} ${args.join(' ')} exited with ${code}:\n${tail}`))));
  });
}

function workbenchSide(dir: string, seed: number): SideRun {
  const recs = readMetrics(path.join(dir, 'metrics.jsonl'));
  const summary = readSummary(dir);
  if (!summary) throw new Error(`parity: ${dir} has no summary.json (the workbench run did not finish)`);
  const epochs: SideRun['epochs'] = [];
  for (const r of recs) {
    if (r.type === 'epoch') epochs.push({ epoch: r.epoch as number, loss: r.loss as number, imagesPerSec: r.imagesPerSec as number });
  }
  for (const r of recs) {
    if (r.type === 'eval' && typeof r.knnAcc === 'number') {
      const e = epochs.find((x) => x.epoch === r.epoch);
      if (e) e.knnAcc = r.knnAcc;
    }
  }
  return { seed, epochs, knnAcc: summary.knnAcc, linearAcc: summary.linearAcc, imagesPerSec: summary.imagesPerSec };
}

function torchSide(file: string, seed: number): SideRun {
  const r = readJson<{ epochs: SideRun['epochs']; knnAcc: number | null; linearAcc: number | null; imagesPerSec: number | null }>(file);
  return { seed, epochs: r.epochs, knnAcc: r.knnAcc, linearAcc: r.linearAcc, imagesPerSec: r.imagesPerSec };
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08,
  2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function stat(xs: number[]): Stat | null {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

/** Mean of a - b over pairs and its 95% t-interval. */
export function difference(a: number[], b: number[]): Difference | null {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i] - b[i]);
  const s = stat(d);
  if (!s) return null;
  if (s.n < 2) return { mean: s.mean, ci95: null, n: s.n };
  const t = s.n - 1 <= 30 ? T975[s.n - 2] : 1.96;
  const h = (t * s.std) / Math.sqrt(s.n);
  return { mean: s.mean, ci95: [s.mean - h, s.mean + h], n: s.n };
}

function pairUp(wb: SideRun[], pt: SideRun[], f: (r: SideRun) => number | null | undefined) {
  const seeds = wb.map((r) => r.seed).filter((s) => pt.some((p) => p.seed === s));
  const val = (r: SideRun | undefined) => (r ? (f(r) ?? NaN) : NaN);
  return {
    workbench: stat(wb.map((r) => val(r))),
    torch: stat(pt.map((r) => val(r))),
    diff: difference(
      seeds.map((s) => val(wb.find((r) => r.seed === s))),
      seeds.map((s) => val(pt.find((r) => r.seed === s))),
    ),
  };
}

/** Per-epoch curves and final figures of both sides over the seeds they share. */
function compareSides(wb: SideRun[], pt: SideRun[], epochs: number): Pick<ParityResult, 'curves' | 'final'> {
  const curves: ParityMetricRow[] = [];
  for (const metric of ['loss', 'knnAcc'] as const) {
    for (let e = 1; e <= epochs; e++) {
      const p = pairUp(wb, pt, (r) => r.epochs.find((x) => x.epoch === e)?.[metric]);
      curves.push({ metric, epoch: e, ...p });
    }
  }
  const final = {
    knnAcc: pairUp(wb, pt, (r) => r.knnAcc),
    linearAcc: pairUp(wb, pt, (r) => r.linearAcc),
    loss: pairUp(wb, pt, (r) => r.epochs[r.epochs.length - 1]?.loss),
    imagesPerSec: pairUp(wb, pt, (r) => r.imagesPerSec),
  };
  return { curves, final };
}

/** Runs (or reuses) both sides for every seed and compares them. */
export async function parity(opts: ParityOptions): Promise<ParityResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const nSeeds = opts.seeds ?? 3;
  if (!(Number.isInteger(nSeeds) && nSeeds >= 1)) throw new Error(`parity: seeds must be a positive integer, got ${nSeeds}`);
  const sides = opts.sides ?? ['workbench', 'torch'];
  const python = opts.python ?? process.env.CWB_PYTHON ?? 'python3';
  const first = opts.firstSeed ?? 0;
  if (!(Number.isInteger(first) && first >= 0)) throw new Error(`parity: firstSeed must be a non-negative integer, got ${first}`);
  const seeds = Array.from({ length: nSeeds }, (_, i) => first + i);
  const configs = seeds.map((s) => parityConfig(opts.method, opts.budget, s, { K: opts.K, epochs: opts.epochs, overrides: opts.overrides }));
  const root = resultsRoot(opts.run?.resultsDir);
  const cellKey = configHash({ ...configs[0], seed: 0, name: '', params: {} });
  const dir = path.join(root, configs[0].experiment, `compare-${configs[0].name.replace(/-s\d+$/, '')}-${cellKey}`);
  fs.mkdirSync(dir, { recursive: true });
  let torchVersion: string | null = null;
  if (sides.includes('torch')) {
    const t = torchAvailable(python);
    if (!t.ok) throw new Error(`parity: the PyTorch side cannot run: ${t.reason}`);
    torchVersion = t.version;
  }

  const wb: SideRun[] = [];
  const pt: SideRun[] = [];
  let backend = '';
  for (const cfg of configs) {
    if (sides.includes('workbench')) {
      log(`[parity] workbench ${cfg.name}`);
      const r = await run(cfg, { ...opts.run, force: opts.force });
      if (!r.summary) throw new Error(`parity: workbench run ${r.runId} did not complete`);
      backend = r.summary.backend;
      wb.push(workbenchSide(r.dir, cfg.seed));
    }
    if (sides.includes('torch')) {
      const dataset = { ...cfg.dataset, dataRoot: cfg.dataset.dataRoot ?? opts.run?.dataDir };
      const { dataRoot: _root, ...ds } = cfg.dataset;
      const dataKey = createHash('sha256')
        .update(canonicalJson({ ds, augmentation: cfg.augmentation }))
        .digest('hex')
        .slice(0, 8);
      const dataDir = path.join(root, cfg.experiment, `twin-data-${dataKey}`);
      const out = path.join(dir, `torch-${runIdOf(cfg)}.json`);
      if (opts.force || !fs.existsSync(out)) {
        if (!fs.existsSync(path.join(dataDir, 'meta.json'))) {
          const train = await loadDatasetCached(dataset, 'train');
          const test = await loadDatasetCached(dataset, 'test');
          exportParityData(dataDir, train, test, cfg.augmentation);
        }
        const cfgFile = path.join(dir, `config-${runIdOf(cfg)}.json`);
        writeJsonAtomic(cfgFile, cfg);
        log(`[parity] pytorch ${cfg.name}`);
        await runTwin(
          python,
          [twinScript(), '--config', cfgFile, '--data', dataDir, '--out', out, '--threads', String(opts.threads ?? 1), '--progress'],
          log,
        );
      }
      pt.push(torchSide(out, cfg.seed));
    }
  }

  const result: ParityResult = {
    method: opts.method,
    budget: opts.budget,
    ...(MOCO_LIKE.has(opts.method) ? { K: (configs[0].method as { K: number }).K } : {}),
    seeds,
    config: configs[0],
    configHash: cellKey,
    workbench: wb,
    torch: pt,
    ...compareSides(wb, pt, configs[0].epochs),
    backend,
    torchVersion,
    dir,
  };
  writeJsonAtomic(path.join(dir, 'parity.json'), result);
  return result;
}

const fmt = (s: Stat | null, scale = 1, d = 2) => (s ? `${(s.mean * scale).toFixed(d)} ± ${(s.std * scale).toFixed(d)}` : '-');
const fmtDiff = (x: Difference | null, scale = 1, d = 2) =>
  x ? `${(x.mean * scale).toFixed(d)}${x.ci95 ? ` [${(x.ci95[0] * scale).toFixed(d)}, ${(x.ci95[1] * scale).toFixed(d)}]` : ''}` : '-';

/** The side-by-side table (per-epoch curves, then the final figures) as plain text. */
export function parityTable(r: ParityResult): string {
  const lines: string[] = [];
  lines.push(
    `parity ${r.method}${r.K ? ` K=${r.K}` : ''} budget ${r.budget}, seeds ${r.seeds.join(',')} (workbench ${r.backend || '-'}, torch ${r.torchVersion ?? '-'})`,
  );
  lines.push('epoch | loss workbench | loss torch | diff [95% CI] | kNN% workbench | kNN% torch | diff [95% CI]');
  for (let e = 1; e <= r.config.epochs; e++) {
    const l = r.curves.find((c) => c.metric === 'loss' && c.epoch === e)!;
    const k = r.curves.find((c) => c.metric === 'knnAcc' && c.epoch === e)!;
    lines.push(
      `${e} | ${fmt(l.workbench, 1, 3)} | ${fmt(l.torch, 1, 3)} | ${fmtDiff(l.diff, 1, 3)} | ${fmt(k.workbench, 100)} | ${fmt(k.torch, 100)} | ${fmtDiff(k.diff, 100)}`,
    );
  }
  const f = r.final;
  lines.push(`final kNN %: workbench ${fmt(f.knnAcc.workbench, 100)}, torch ${fmt(f.knnAcc.torch, 100)}, diff ${fmtDiff(f.knnAcc.diff, 100)}`);
  lines.push(`linear %: workbench ${fmt(f.linearAcc.workbench, 100)}, torch ${fmt(f.linearAcc.torch, 100)}, diff ${fmtDiff(f.linearAcc.diff, 100)}`);
  lines.push(`train img/s: workbench ${fmt(f.imagesPerSec.workbench, 1, 0)}, torch ${fmt(f.imagesPerSec.torch, 1, 0)}`);
  return lines.join('\n');
}

/** Per-epoch mean curves of both sides (for a figure): {name, x, y, error}. */
export function parityCurves(r: ParityResult, metric: 'loss' | 'knnAcc'): { name: string; x: number[]; y: number[]; error: number[] }[] {
  const rows = r.curves.filter((c) => c.metric === metric);
  const side = (which: 'workbench' | 'torch', name: string) => {
    const pts = rows.filter((c) => c[which]);
    return { name, x: pts.map((c) => c.epoch), y: pts.map((c) => c[which]!.mean), error: pts.map((c) => c[which]!.std) };
  };
  return [side('workbench', `workbench (${r.backend || 'tfjs'})`), side('torch', `PyTorch ${r.torchVersion ?? ''}`.trim())].filter(
    (s) => s.x.length > 0,
  );
}

/**
 * The comparison without what is specific to the machine that ran it (its folders and data
 * root), for keeping beside the code: `cwb parity --save data/parity` writes one file per method,
 * K and budget, which the notebooks read (`parityStatement`).
 */
export function portableParity(r: ParityResult): Omit<ParityResult, 'dir'> {
  const { dir: _dir, ...rest } = r;
  const { dataRoot: _root, ...dataset } = r.config.dataset;
  return { ...rest, config: { ...r.config, dataset } };
}

/** File name of a saved comparison: parity-<method>[-K<k>]-<budget>.json. */
export function savedParityFile(r: Pick<ParityResult, 'method' | 'K' | 'budget'>): string {
  return `parity-${r.method}${r.K ? `-K${r.K}` : ''}-${r.budget}.json`;
}

/**
 * One comparison from two of the same cell (method, budget, K and recipe: the same configHash) run
 * by the same backend and PyTorch version: the seeds of both, `b`'s where both hold a seed, and
 * the curves and final figures over them all. `what` names `a` in the error for a mismatch.
 */
export function mergeParity<T extends Omit<ParityResult, 'dir'>>(a: Omit<ParityResult, 'dir'>, b: T, what = 'the first comparison'): T {
  for (const field of ['method', 'budget', 'K', 'configHash', 'backend', 'torchVersion'] as const) {
    if (a[field] !== b[field]) {
      throw new Error(
        `parity: ${what} has ${field} ${JSON.stringify(a[field])}, this one ${JSON.stringify(b[field])}: only seeds of the same cell, backend and PyTorch version are merged`,
      );
    }
  }
  const merge = (x: SideRun[], y: SideRun[]) => [...x.filter((r) => !y.some((n) => n.seed === r.seed)), ...y].sort((p, q) => p.seed - q.seed);
  const wb = merge(a.workbench, b.workbench);
  const pt = merge(a.torch, b.torch);
  const seeds = [...new Set([...a.seeds, ...b.seeds])].sort((p, q) => p - q);
  // The config of the lowest seed stands for the cell, as in a run of all the seeds at once.
  const config = Math.min(...a.seeds) < Math.min(...b.seeds) ? a.config : b.config;
  return { ...b, seeds, config, workbench: wb, torch: pt, ...compareSides(wb, pt, b.config.epochs) };
}

/**
 * Writes the portable comparison into `dir` (created if needed); returns the file and the seeds it
 * holds. Where that file holds the same cell with other seeds (`--first-seed`), the two are merged
 * (`mergeParity`; a different backend or PyTorch version is refused and the file kept); a file of
 * another recipe (configHash) is replaced.
 */
export function saveParity(r: ParityResult, dir: string): { file: string; seeds: number[] } {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, savedParityFile(r));
  let out = portableParity(r);
  if (fs.existsSync(file)) {
    const saved = readJson<Omit<ParityResult, 'dir'>>(file);
    if (saved.configHash === r.configHash) out = mergeParity(saved, out, file);
  }
  writeJsonAtomic(file, out);
  return { file, seeds: out.seeds };
}
