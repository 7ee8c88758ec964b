/**
 * A run is described by one typed JSON `RunConfig`; `validateConfig` checks every field and fails
 * naming the field at fault (`method.K must be a positive integer, got -3`). The run id is derived
 * from the config (readable name + stable hash), so running the same config again finds the run.
 */
import { createHash } from 'node:crypto';
import {
  ARCHS,
  AUGMENT_PRESET_NAMES,
  DATASET_NAMES,
  METHOD_NAMES,
  type AugmentPresetName,
  type DatasetConfig,
  type EncoderConfig,
  type MethodConfig,
  type OptimizerConfig,
  type ScheduleConfig,
} from '../types';
import type { LinearProbeConfig } from '../eval/linear-probe';
import { methodParamProblems } from '../methods/params';
import { bool, checkObject, int, isInt, nonNeg, nonNegInt, oneOf, optional, positive, posInt, show, str, unit01 } from '../util/validate';
import { segmentProblem } from './paths';

export interface EvalConfig {
  /** Run the kNN monitor every this many epochs (and after the last); 0 = only after the last. */
  knnEvery: number;
  /** Neighbours k and temperature T of the kNN monitor (MoCo demo: 200, 0.1). */
  knnK: number;
  knnT: number;
  /** Features of the kNN monitor: the demo uses the normalised projection output. */
  knnFeatures?: 'projection' | 'backbone';
  /** Use only the first n train images as the kNN bank (all when absent). */
  knnBankLimit?: number;
  /** Linear probe on frozen backbone features after training (none when absent or false). */
  linear?: LinearProbeConfig | false;
  /** Alignment and uniformity (Wang & Isola) on held-out images after training. */
  alignUniform?: boolean;
  /** Number of test images for alignment/uniformity (default 1000). */
  alignUniformLimit?: number;
  /** Number of test images whose embeddings are projected to 2-D (PCA) after training; 0 = none. */
  embeddings?: number;
  /** Save the confusion matrix of the final kNN (or linear) predictions. */
  confusion?: boolean;
  /** Batch size of feature extraction. */
  batchSize?: number;
}

export interface RunConfig {
  /** Groups runs: results/<experiment>/<run-id>/ (an ablation name for sweeps). */
  experiment: string;
  /** Readable run name (part of the run id). */
  name: string;
  dataset: DatasetConfig;
  /** Augmentation preset of the training views. */
  augmentation: AugmentPresetName;
  encoder: EncoderConfig;
  method: MethodConfig;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  epochs: number;
  batchSize: number;
  seed: number;
  eval: EvalConfig;
  /** Save a checkpoint every this many epochs (default 1) and always after the last. */
  checkpointEvery?: number;
  /** Also save a checkpoint every this many training steps inside an epoch (long epochs on CPU). */
  checkpointEverySteps?: number;
  /** Labels of a sweep point (e.g. {K: 4096}); copied into the report rows. */
  params?: Record<string, string | number | boolean>;
}

/** Evaluation defaults: the MoCo demo's kNN monitor every epoch, no linear probe. */
export function defaultEvalConfig(overrides: Partial<EvalConfig> = {}): EvalConfig {
  return { knnEvery: 1, knnK: 200, knnT: 0.1, knnFeatures: 'projection', ...overrides };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function checkMethod(v: unknown, errors: string[]): void {
  if (typeof v !== 'object' || v === null) {
    errors.push(`method must be an object, got ${show(v)}`);
    return;
  }
  const name = (v as { name?: unknown }).name;
  const e = oneOf(METHOD_NAMES)('method.name', name);
  if (e) {
    errors.push(e);
    return;
  }
  errors.push(...methodParamProblems(v as Record<string, unknown>, 'method'));
}

function checkLinear(path: string, v: unknown, errors: string[]): void {
  if (v === undefined || v === false) return;
  checkObject(
    path,
    v,
    {
      protocol: oneOf(['moco', 'supcon', 'fast']),
      epochs: optional(posInt),
      lr: optional(positive),
      momentum: optional(unit01),
      weightDecay: optional(nonNeg),
      batchSize: optional(posInt),
      milestones: optional((p, x) =>
        Array.isArray(x) && x.every((m) => isInt(m) && m >= 0) ? undefined : `${p} must be a list of epochs, got ${show(x)}`,
      ),
      gamma: optional(positive),
      cosine: optional(bool),
      standardize: optional(bool),
      cache: optional(bool),
      seed: optional(int),
    },
    errors,
  );
}

/**
 * Check a run config. Returns it typed when valid; otherwise throws one Error listing every
 * problem, each naming its field (`method.K must be a positive integer, got -3`).
 */
export function validateConfig(cfg: unknown): RunConfig {
  const errors: string[] = [];
  if (
    !checkObject(
      '',
      cfg,
      {
        experiment: (p, v) =>
          typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v) && !segmentProblem(v)
            ? undefined
            : `${p} must be a folder name of letters, digits, '.', '_' or '-' (not '.' or '..'), got ${show(v)}`,
        name: str,
        dataset: () => undefined,
        augmentation: oneOf(AUGMENT_PRESET_NAMES),
        encoder: () => undefined,
        method: () => undefined,
        optimizer: () => undefined,
        schedule: () => undefined,
        epochs: posInt,
        batchSize: posInt,
        seed: int,
        eval: () => undefined,
        checkpointEvery: optional(posInt),
        checkpointEverySteps: optional(posInt),
        params: optional((p, v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : `${p} must be an object, got ${show(v)}`)),
      },
      errors,
    )
  ) {
    throw new Error(`invalid run config: ${errors.join('; ')}`);
  }
  const c = cfg as Record<string, unknown>;
  const ds = c.dataset as Record<string, unknown> | undefined;
  checkObject(
    'dataset',
    ds,
    {
      name: oneOf(DATASET_NAMES),
      dataRoot: optional(str),
      path: optional(str),
      trainSubset: optional(posInt),
      testSubset: optional(posInt),
      resize: optional(posInt),
      channels: optional((p, v) => (v === 1 || v === 3 ? undefined : `${p} must be 1 or 3, got ${show(v)}`)),
      synthetic: optional((p, v) => (typeof v === 'object' && v !== null ? undefined : `${p} must be an object, got ${show(v)}`)),
      seed: optional(int),
    },
    errors,
  );
  if (ds?.synthetic && typeof ds.synthetic === 'object') {
    checkObject(
      'dataset.synthetic',
      ds.synthetic,
      {
        perClass: optional(posInt),
        testPerClass: optional(posInt),
        size: optional(posInt),
        classes: optional((p, v) => (isInt(v) && v >= 2 ? undefined : `${p} must be an integer >= 2, got ${show(v)}`)),
        channels: optional((p, v) => (v === 1 || v === 3 ? undefined : `${p} must be 1 or 3, got ${show(v)}`)),
        colour: optional(oneOf(['class', 'random'])),
      },
      errors,
    );
  }
  if (ds && ds.channels !== undefined && !['folder', 'cifar10', 'cifar100'].includes(ds.name as string)) {
    errors.push(`dataset.channels applies to class-folder datasets (folder, or CIFAR stored as class folders), not ${show(ds.name)}`);
  }
  if (ds && ds.name === 'folder' && ds.path === undefined) errors.push(`dataset.path is required when dataset.name is "folder"`);
  checkObject('encoder', c.encoder, { arch: oneOf(ARCHS), stem: optional(oneOf(['cifar', 'imagenet'])), width: optional(positive) }, errors);
  checkMethod(c.method, errors);
  checkObject(
    'optimizer',
    c.optimizer,
    {
      name: oneOf(['sgd', 'lars']),
      lr: positive,
      momentum: unit01,
      weightDecay: nonNeg,
      nesterov: optional(bool),
      trustCoefficient: optional(positive),
    },
    errors,
  );
  checkObject(
    'schedule',
    c.schedule,
    {
      name: oneOf(['cosine', 'step', 'constant']),
      warmupEpochs: optional(nonNegInt),
      warmupFrom: optional(nonNeg),
      milestones: optional((p, v) =>
        Array.isArray(v) && v.every((m, i) => isInt(m) && m >= 0 && (i === 0 || m > (v[i - 1] as number)))
          ? undefined
          : `${p} must be an increasing list of epochs, got ${show(v)}`,
      ),
      gamma: optional(positive),
      minLrFraction: optional(nonNeg),
      perStep: optional(bool),
    },
    errors,
  );
  const ev = c.eval;
  if (
    checkObject(
      'eval',
      ev,
      {
        knnEvery: nonNegInt,
        knnK: posInt,
        knnT: positive,
        knnFeatures: optional(oneOf(['projection', 'backbone'])),
        knnBankLimit: optional(posInt),
        linear: () => undefined,
        alignUniform: optional(bool),
        alignUniformLimit: optional((p, v) => (isInt(v) && v >= 2 ? undefined : `${p} must be an integer >= 2, got ${show(v)}`)),
        embeddings: optional(nonNegInt),
        confusion: optional(bool),
        batchSize: optional(posInt),
      },
      errors,
    )
  ) {
    checkLinear('eval.linear', (ev as Record<string, unknown>).linear, errors);
  }
  const m = c.method as Record<string, unknown> | undefined;
  if (m && isInt(m.bnSplits) && isInt(c.batchSize) && m.bnSplits > 0 && (c.batchSize as number) % m.bnSplits !== 0) {
    errors.push(`batchSize (${c.batchSize}) must be a multiple of method.bnSplits (${m.bnSplits})`);
  }
  if (m && isInt(c.batchSize)) checkQueueAndSplits(m, c.batchSize as number, errors);
  if (errors.length) throw new Error(errors.length === 1 ? errors[0] : `invalid run config: ${errors.join('; ')}`);
  return cfg as unknown as RunConfig;
}

/** Keys a queue-based method enqueues per step (2B for symmetric MoCo), or undefined without a queue. */
function keysPerStep(m: Record<string, unknown>, batchSize: number): number | undefined {
  if (m.name === 'moco' || m.name === 'mochi') return m.symmetric === true ? 2 * batchSize : batchSize;
  if (m.name === 'mixco' && m.base === 'moco') return batchSize;
  return undefined;
}

/**
 * What the reference implementations assert: a queue holds at least one step's keys
 * (`assert K % batch == 0` in MoCo's dequeue_and_enqueue), and MixCo's query forward of
 * B + B/2 images (views and mixes) splits evenly into the BN splits.
 */
function checkQueueAndSplits(m: Record<string, unknown>, batchSize: number, errors: string[]): void {
  const keys = keysPerStep(m, batchSize);
  if (keys !== undefined && isInt(m.K) && m.K > 0 && m.K < keys) {
    errors.push(
      `method.K (${m.K}) must be at least the keys enqueued per step (${keys}: batchSize ${batchSize}${keys > batchSize ? ' x 2, symmetric' : ''}); ` +
        `the reference asserts K % batch == 0`,
    );
  }
  if (m.name === 'mixco') {
    if (batchSize % 2 !== 0) errors.push(`batchSize (${batchSize}) must be even for mixco (half-split mixing: B/2 mixed images)`);
    else if (m.base === 'moco' && isInt(m.bnSplits) && m.bnSplits > 0 && (batchSize / 2) % m.bnSplits !== 0) {
      errors.push(
        `method.bnSplits (${m.bnSplits}) must divide the ${batchSize / 2} mixed images of a batch of ${batchSize} ` +
          `(mixco's query forward of ${batchSize + batchSize / 2} images is split into bnSplits sub-batches)`,
      );
    }
  }
}

/**
 * Settings that are valid but probably not meant (one line each): a queue size that is not a
 * multiple of the keys per step (the reference asserts it; here the queue wraps around), a
 * learning-rate warm-up or a MoCHi warm-up that lasts the whole run.
 */
export function configWarnings(cfg: RunConfig): string[] {
  const out: string[] = [];
  const m = cfg.method as unknown as Record<string, unknown>;
  const keys = keysPerStep(m, cfg.batchSize);
  if (keys !== undefined && isInt(m.K) && m.K >= keys && m.K % keys !== 0) {
    out.push(
      `method.K (${m.K}) is not a multiple of the ${keys} keys enqueued per step (the reference asserts K % batch == 0; here the queue wraps around)`,
    );
  }
  const w = cfg.schedule.warmupEpochs ?? 0;
  if (w > 0 && w >= cfg.epochs) {
    out.push(`schedule.warmupEpochs (${w}) is not shorter than the run (epochs ${cfg.epochs}): the learning rate never reaches optimizer.lr`);
  }
  if (m.name === 'mochi' && isInt(m.warmupEpochs) && m.warmupEpochs > 0 && m.warmupEpochs >= cfg.epochs) {
    out.push(
      `method.warmupEpochs (${m.warmupEpochs}) is not shorter than the run (epochs ${cfg.epochs}): no hard negatives are ever mixed (this trains plain MoCo)`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run ids and overrides
// ---------------------------------------------------------------------------------------------

/** JSON with sorted keys (stable across key order). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Stable hash of what determines a run's results (everything but where the data lives). */
export function configHash(cfg: RunConfig): string {
  const { dataRoot: _dataRoot, ...dataset } = cfg.dataset;
  const key = canonicalJson({ ...cfg, dataset });
  return createHash('sha256').update(key).digest('hex').slice(0, 10);
}

export function slug(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'run'
  );
}

/** `<readable-name>-<hash>`: the folder name of the run under results/<experiment>/. */
export function runId(cfg: RunConfig): string {
  return `${slug(cfg.name)}-${configHash(cfg)}`;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Apply overrides given by dotted paths ({'method.K': 4096, 'optimizer.lr': 0.1}); a whole
 * sub-object may be replaced too ({method: {...}}). Returns a new config.
 */
export function applyOverrides<T extends object>(base: T, overrides: Record<string, unknown>): T {
  const out = clone(base) as Record<string, unknown>;
  for (const [path, value] of Object.entries(overrides)) {
    const keys = path.split('.');
    let o = out;
    for (let i = 0; i < keys.length - 1; i++) {
      const next = o[keys[i]];
      if (next === undefined) o[keys[i]] = {};
      else if (typeof next !== 'object' || next === null) throw new Error(`override ${path}: ${keys.slice(0, i + 1).join('.')} is not an object`);
      o = o[keys[i]] as Record<string, unknown>;
    }
    o[keys[keys.length - 1]] = value === undefined ? undefined : clone(value);
  }
  return out as unknown as T;
}
