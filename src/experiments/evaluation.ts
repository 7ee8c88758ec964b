/**
 * Evaluation of a run's method on its dataset, for `run` (the kNN monitor between epochs and the
 * final evaluation after the last) and for `evaluateCheckpoint` (the final evaluation again):
 *   kNN       weighted kNN of test features against the train bank (Wu et al. 2018, as in the
 *             MoCo demo), with the confusion matrix of its predictions
 *   linear    a linear probe on frozen backbone features
 *   alignment and uniformity (Wang & Isola 2020) of projections of two augmented views
 *   embeddings a 2-D PCA of test projections
 * Nothing here writes files: the run writes what these return. The randomness of every part
 * (probe head, shuffles, view pairs, PCA start) comes from the config seed only.
 */
import { Loader } from '../data/loader';
import { createMethod } from '../methods';
import type { DatasetInfo, ImageSet, Method } from '../types';
import { Rng, tfSeedOf } from '../util/rng';
import { alignment, uniformity } from '../eval/align-uniform';
import { confusionMatrix } from '../eval/confusion';
import { extractFeatures, extractViewPairs, headOf, type FeatureFn } from '../eval/features';
import { knnEvaluate } from '../eval/knn';
import type { LinearProbeConfig } from '../eval/linear-probe';
import { linearProbe } from '../eval/probe';
import { pca2d } from '../eval/projection';
import type { RunConfig } from './config';
import type { MetricsRecord } from './metrics-log';

/** The method a run trains, built from its config and its dataset's shape (initial weights from cfg.seed). */
export function methodForRun(cfg: RunConfig, info: DatasetInfo): Method {
  return createMethod(
    { method: cfg.method, encoder: cfg.encoder, optimizer: cfg.optimizer },
    { imageSize: info.imageSize, channels: info.channels, numClasses: info.numClasses },
    cfg.seed,
  );
}

/**
 * The loader a run trains with: its batch size, augmentation and `views` views per image, shuffled
 * every epoch, last incomplete batch dropped, order from `seed` (a fresh run's: the first draw of
 * the config seed's RNG; a resumed run passes the one its checkpoint holds).
 */
export function trainLoader(cfg: RunConfig, train: ImageSet, views: number, seed = new Rng(cfg.seed).nextUint32()): Loader {
  return new Loader(train, { batchSize: cfg.batchSize, views, preset: cfg.augmentation, shuffle: true, dropLast: true, seed });
}

/** Alignment and uniformity of fn's features of two augmented views of the first `limit` images. */
export async function alignUniform(
  fn: FeatureFn,
  set: ImageSet,
  opts: Parameters<typeof extractViewPairs>[2],
): Promise<{ alignment: number; uniformity: number }> {
  const pairs = await extractViewPairs(fn, set, opts);
  try {
    return { alignment: await alignment(pairs.x, pairs.y), uniformity: await uniformity(pairs.x) };
  } finally {
    pairs.x.dispose();
    pairs.y.dispose();
  }
}

/** What is evaluated: a method (trained on `train`) with its run's config. */
export interface EvalSubject {
  method: Method;
  train: ImageSet;
  test: ImageSet;
  /** Its eval settings, augmentation preset and seed are read. */
  cfg: RunConfig;
  /** Batch size of feature extraction, kNN and probe (256 when absent). */
  batchSize?: number;
}

export interface KnnPass {
  accuracy: number;
  k: number;
  T: number;
  seconds: number;
  /** Confusion matrix [true][predicted] of the kNN predictions, when asked for. */
  confusion?: number[][];
}

/** kNN accuracy with the run's monitor features (`eval.knnFeatures`) and bank (`eval.knnBankLimit`). */
export async function knnPass(s: EvalSubject, opts: { confusion?: boolean } = {}): Promise<KnnPass> {
  const t0 = Date.now();
  const { cfg, batchSize } = s;
  const which = cfg.eval.knnFeatures ?? 'projection';
  const fn: FeatureFn = (x) => s.method.features(x, which);
  const info = s.train.info;
  const bank = await extractFeatures(fn, cfg.eval.knnBankLimit ? headOf(s.train, cfg.eval.knnBankLimit) : s.train, { batchSize });
  try {
    const q = await extractFeatures(fn, s.test, { batchSize });
    try {
      const res = await knnEvaluate(bank.features, bank.labels, q.features, q.labels, info.numClasses, {
        k: cfg.eval.knnK,
        T: cfg.eval.knnT,
        batchSize,
      });
      const seconds = (Date.now() - t0) / 1000;
      const confusion = opts.confusion ? await confusionMatrix(q.labels, res.predictions, info.numClasses) : undefined;
      return { accuracy: res.accuracy, k: res.k, T: res.T, seconds, ...(confusion ? { confusion } : {}) };
    } finally {
      q.features.dispose();
    }
  } finally {
    bank.features.dispose();
  }
}

/** Alignment and uniformity of the projections of the first `limit` test images (default eval.alignUniformLimit, else 1000). */
export function projectionAlignUniform(
  s: EvalSubject,
  limit = s.cfg.eval.alignUniformLimit ?? 1000,
): Promise<{ alignment: number; uniformity: number }> {
  return alignUniform((x) => s.method.features(x, 'projection'), s.test, {
    preset: s.cfg.augmentation,
    limit,
    batchSize: s.batchSize,
    seed: s.cfg.seed,
  });
}

/** A kNN monitor line of metrics.jsonl. */
export interface MonitorRecord extends MetricsRecord {
  type: 'eval';
  knnAcc: number;
  knnK: number;
  knnT: number;
  seconds: number;
  alignment?: number;
  uniformity?: number;
}

/**
 * The monitor's metrics.jsonl record after `epoch` completed epochs: kNN, plus alignment and
 * uniformity (when asked for) on at most 512 test images (the final values use alignUniformLimit).
 */
export async function monitorPass(s: EvalSubject, epoch: number): Promise<MonitorRecord> {
  const knn = await knnPass(s);
  const rec: MonitorRecord = { type: 'eval', epoch, knnAcc: knn.accuracy, knnK: knn.k, knnT: knn.T, seconds: knn.seconds };
  if (s.cfg.eval.alignUniform) Object.assign(rec, await projectionAlignUniform(s, Math.min(s.cfg.eval.alignUniformLimit ?? 1000, 512)));
  return rec;
}

/** Which parts the final evaluation runs (kNN always). */
export interface FinalPlan {
  linear?: LinearProbeConfig | false;
  alignUniform?: boolean;
  confusion?: boolean;
  /** Test images projected to 2-D; 0 or absent: none. */
  embeddings?: number;
}

/** confusion.json */
export interface ConfusionFile {
  source: 'knn';
  classNames: string[];
  matrix: number[][];
}

/** embeddings.json */
export interface EmbeddingsFile {
  features: 'projection';
  explainedVariance: [number, number];
  classNames: string[];
  labels: number[];
  points: [number, number][];
}

export interface FinalEvaluation {
  knn: KnnPass;
  linear?: { accuracy: number; trainAccuracy: number; epochs: number; protocol: string };
  alignUniform?: { alignment: number; uniformity: number };
  confusion?: ConfusionFile;
  embeddings?: EmbeddingsFile;
}

export type FinalStage = 'knn' | 'linear' | 'alignUniform' | 'embeddings';

/** The final evaluation; `before` is called before each part that runs (to report it or stop there). */
export async function finalEvaluation(s: EvalSubject, plan: FinalPlan, before: (stage: FinalStage) => void = () => {}): Promise<FinalEvaluation> {
  const { cfg, batchSize } = s;
  const classNames = s.train.info.classNames;
  before('knn');
  const { confusion: matrix, ...knn } = await knnPass(s, { confusion: plan.confusion });
  const out: FinalEvaluation = { knn };
  if (matrix) out.confusion = { source: 'knn', classNames, matrix };
  if (plan.linear) {
    before('linear');
    const lin = await linearProbe((x) => s.method.features(x, 'backbone'), s.train, s.test, { seed: cfg.seed, ...plan.linear }, { batchSize });
    out.linear = { accuracy: lin.accuracy, trainAccuracy: lin.trainAccuracy, epochs: lin.config.epochs, protocol: lin.config.protocol };
  }
  if (plan.alignUniform) {
    before('alignUniform');
    out.alignUniform = await projectionAlignUniform(s);
  }
  if (plan.embeddings) {
    before('embeddings');
    const emb = await extractFeatures((x) => s.method.features(x, 'projection'), s.test, { limit: plan.embeddings, batchSize });
    try {
      const p = await pca2d(emb.features, { seed: tfSeedOf(cfg.seed) });
      out.embeddings = {
        features: 'projection',
        explainedVariance: p.explainedVariance,
        classNames,
        labels: Array.from(emb.labels),
        points: p.points,
      };
    } finally {
      emb.features.dispose();
    }
  }
  return out;
}

/** The final evaluation's metrics.jsonl record after `epoch` completed epochs. */
export function finalRecord(epoch: number, r: FinalEvaluation): MetricsRecord {
  return {
    type: 'eval',
    epoch,
    final: true,
    knnAcc: r.knn.accuracy,
    knnK: r.knn.k,
    knnT: r.knn.T,
    seconds: r.knn.seconds,
    ...(r.linear ? { linearAcc: r.linear.accuracy, linearTrainAcc: r.linear.trainAccuracy, linearEpochs: r.linear.epochs } : {}),
    ...(r.alignUniform ?? {}),
  };
}
