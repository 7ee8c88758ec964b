/**
 * Step-for-step check of one parity config against the PyTorch twin. The workbench trains N steps
 * and writes down everything random it used: the initial weights and queue, and each step's
 * augmented views, labels, key-shuffle permutations, mixing draws and learning rate. It also writes its per-step
 * losses and metrics, and its weights and BN statistics after the last step.
 * bench/torch/lockstep.py replays the same inputs through the twin's method, in float32 and
 * float64, and reports how far the sides drift apart.
 *
 *   DATA_DIR=... npx tsx bench/torch/lockstep.ts --method moco --K 4096 --steps 40 --out DIR [--budget parity] [--seed 0] [--backend tensorflow]
 *   python3 bench/torch/lockstep.py --dir DIR
 *
 * --augment-seed N draws the views from a loader of seed N over the run's own order of images, and
 * --init-seed N builds the initial weights and queue (and the step's draws) from seed N;
 * `lockstep.py --torchvision-views EXPORT_DIR` trains the twin on torchvision's views of the same
 * images. Together they compare the two augmentations from one start.
 *
 * Every parity method: moco, moco-v1, mochi (mixing from the first step), mixco, mixco-simclr,
 * simclr, supcon and ce; MoCHi's and MixCo's mixing draws are recorded too. With the same inputs the losses of the two sides agree to float32 rounding at every step;
 * where they part, the step's maths differs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/init';
import { disposeBatch, Loader } from '../../src/data/loader';
import { methodForRun, trainLoader } from '../../src/experiments/evaluation';
import { PARITY_BUDGETS, type ParityBudget, type ParityMethod, parityConfig } from '../../src/experiments/parity';
import { loadDatasetCached } from '../../src/experiments/runner';
import type { MethodBase } from '../../src/methods/base';
import { disposeDraws, drawMochi } from '../../src/methods/losses/mochi';
import type { KeyQueue } from '../../src/models/queue';
import type { Network } from '../../src/models/network';
import { learningRateAt } from '../../src/optim/schedule';
import type { Rng } from '../../src/util/rng';
import { requiredArg } from '../args';

/** The parity methods the replay covers (all of them). */
export const STEP_METHODS = ['moco', 'moco-v1', 'mochi', 'mixco', 'mixco-simclr', 'simclr', 'supcon', 'ce'] as const;
export type StepMethod = (typeof STEP_METHODS)[number] & ParityMethod;

/** Appends float32 tensors to one binary file and notes where each one is. */
class TensorFile {
  private readonly fd: number;
  private offset = 0;
  readonly index: { name: string; shape: number[]; offset: number; dtype: string }[] = [];

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  async add(name: string, t: tf.Tensor): Promise<void> {
    const data = await t.data();
    const buf = data instanceof Float32Array ? data : data instanceof Int32Array ? data : Float32Array.from(data as Uint8Array);
    const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    fs.writeSync(this.fd, bytes);
    this.index.push({ name, shape: t.shape, offset: this.offset, dtype: buf instanceof Int32Array ? 'int32' : 'float32' });
    this.offset += bytes.byteLength;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface StepRecordOptions {
  method: StepMethod;
  budget: ParityBudget;
  seed: number;
  /** Augmentation draws from a loader of this seed, over the run's own data order (for A/B checks of the augmentation). */
  augmentSeed?: number;
  /** Initial weights, queue and step draws from this seed instead of the run's (for A/B checks of the initialisation). */
  initSeed?: number;
  steps: number;
  /** Folder for lockstep.json and tensors.f32. */
  out: string;
  K?: number;
  log?: (line: string) => void;
}

/** Trains `steps` steps of the parity config on the active backend and writes what lockstep.py replays. */
export async function recordSteps(o: StepRecordOptions): Promise<void> {
  if (!(STEP_METHODS as readonly string[]).includes(o.method)) {
    throw new Error(
      `lockstep: --method ${o.method}: the step-for-step replay covers ${STEP_METHODS.join(', ')} (the others draw mixing weights inside the step)`,
    );
  }
  if (!(Number.isInteger(o.steps) && o.steps > 0)) throw new Error(`lockstep: --steps must be a positive integer, got ${o.steps}`);
  // MoCHi mixes from the first step, so that the recorded steps exercise the synthetic negatives.
  const overrides = o.method === 'mochi' ? { 'method.warmupEpochs': 0 } : undefined;
  const cfg = parityConfig(o.method, o.budget, o.seed, { K: o.K, overrides });
  fs.mkdirSync(o.out, { recursive: true });
  const train = await loadDatasetCached(cfg.dataset, 'train');
  const m = methodForRun(o.initSeed === undefined ? cfg : { ...cfg, seed: o.initSeed }, train.info) as MethodBase;
  // The key path of MoCo, MoCHi and MixCo on MoCo (null for the others).
  const keyed = m as unknown as { keyNet?: Network | null; queue?: KeyQueue | null };
  const moco = keyed.keyNet && keyed.queue ? { keyNet: keyed.keyNet, queue: keyed.queue } : null;
  const rng = (m as unknown as { rng: Rng }).rng;
  // The step's random draws, in the order the twin makes them: key-shuffle permutations, MixCo's
  // lambdas (rng.next outside a permutation) and the seeds of MoCHi's draws.
  const perms: number[][] = [];
  const nexts: number[] = [];
  const seeds: number[] = [];
  const { permutation, next, nextSeed } = { permutation: rng.permutation.bind(rng), next: rng.next.bind(rng), nextSeed: rng.nextSeed.bind(rng) };
  let inPermutation = 0;
  rng.permutation = (n: number) => {
    inPermutation += 1;
    try {
      const p = permutation(n);
      perms.push(Array.from(p));
      return p;
    } finally {
      inPermutation -= 1;
    }
  };
  rng.next = () => {
    const v = next();
    if (inPermutation === 0) nexts.push(Math.fround(v));
    return v;
  };
  rng.nextSeed = () => {
    const v = nextSeed();
    seeds.push(v);
    return v;
  };
  const file = new TensorFile(path.join(o.out, 'tensors.f32'));
  try {
    for (const [n, v] of m.net.params) await file.add(`init.${n}`, v);
    if (moco) await file.add('init.queue', moco.queue.keys);
    // The run's own loader (the runner's), so that these are the first steps `cwb parity` trains.
    const loader = trainLoader(cfg, train, m.viewsPerImage);
    const views = o.augmentSeed === undefined ? loader : new Loader(train, { ...loader.opts, seed: o.augmentSeed });
    async function* batches(epoch: number) {
      const order = loader.order(epoch);
      for (let i = 0; i < loader.stepsPerEpoch; i++) yield views.batch(epoch, i, order);
    }
    const records: Record<string, unknown>[] = [];
    let step = 0;
    for (let epoch = 0; step < o.steps; epoch++) {
      m.setEpoch(epoch);
      for await (const batch of batches(epoch)) {
        const lr = learningRateAt(cfg.schedule, cfg.optimizer.lr, epoch, step % loader.stepsPerEpoch, loader.stepsPerEpoch, cfg.epochs);
        for (let v = 0; v < batch.views.length; v++) await file.add(`step${step}.x${v + 1}`, batch.views[v]);
        await file.add(`step${step}.labels`, batch.labels);
        await file.add(`step${step}.indices`, batch.indices);
        m.setLearningRate(lr);
        perms.length = nexts.length = seeds.length = 0;
        const res = await m.trainStep(batch);
        const B = batch.size;
        disposeBatch(batch);
        const draws = { rand: 0, randint: 0 };
        // Each writes its tensor and disposes of it.
        const put = async (name: string, t: tf.Tensor) => {
          try {
            await file.add(name, t);
          } finally {
            t.dispose();
          }
        };
        const rand = (t: tf.Tensor) => put(`step${step}.rand${draws.rand++}`, t);
        const randint = (t: tf.Tensor) => put(`step${step}.randint${draws.randint++}`, t);
        if (o.method === 'mixco' || o.method === 'mixco-simclr') {
          // One lambda per pair of halves: torch.rand(B / 2), once (MoCo base) or twice (SimCLR base).
          const h = B / 2;
          for (let i = 0; i < nexts.length; i += h) await rand(tf.tensor1d(nexts.slice(i, i + h)));
        }
        for (const seed of seeds) {
          // MoCHi: regenerate the step's draws from their seed, in the twin's order of calls.
          const { N, s, sPrime } = cfg.method as unknown as { N: number; s: number; sPrime: number };
          const d = drawMochi(B, N, s, sPrime, seed);
          await rand(d.alpha.reshape([B, s, 1]));
          await randint(d.i);
          await randint(d.j);
          await rand(d.beta.mul(2).reshape([B, sPrime, 1]));
          await randint(d.jPrime);
          disposeDraws(d); // alpha and beta (the others went with randint)
        }
        records.push({ step, lr, loss: res.loss, ...res.metrics, perms: [...perms], draws });
        // One optimiser update, before rounding differences compound: the sharpest check of the gradients.
        if (step === 0) for (const [n, v] of m.net.params) await file.add(`first.${n}`, v);
        o.log?.(`[lockstep] workbench step ${step + 1}/${o.steps} loss ${res.loss.toFixed(5)}`);
        step += 1;
        if (step >= o.steps) break;
      }
    }
    for (const [n, v] of m.net.params) await file.add(`final.${n}`, v);
    for (const [n, v] of m.net.buffers) await file.add(`final_buffer.${n}`, v);
    if (moco) {
      for (const [n, v] of moco.keyNet.params) await file.add(`final_k.${n}`, v);
      await file.add('final.queue', moco.queue.keys);
    }
    const { dataRoot: _root, ...dataset } = cfg.dataset;
    fs.writeFileSync(
      path.join(o.out, 'lockstep.json'),
      JSON.stringify({
        config: { ...cfg, dataset },
        numClasses: train.info.numClasses,
        channels: train.info.channels,
        tensors: file.index,
        steps: records,
      }),
    );
  } finally {
    file.close();
    m.dispose();
  }
}

/** The replay script beside this file. */
export const REPLAY_SCRIPT = path.join(__dirname, 'lockstep.py');

async function main(): Promise<void> {
  const method = requiredArg('lockstep', 'method', 'moco') as StepMethod;
  const budget = requiredArg('lockstep', 'budget', 'parity') as ParityBudget;
  if (!(PARITY_BUDGETS as readonly string[]).includes(budget)) throw new Error(`lockstep: --budget must be one of ${PARITY_BUDGETS.join(', ')}`);
  await initBackend(requiredArg('lockstep', 'backend', process.env.CWB_BACKEND ?? 'auto'));
  await recordSteps({
    method,
    budget,
    seed: Number(requiredArg('lockstep', 'seed', '0')),
    steps: Number(requiredArg('lockstep', 'steps', '20')),
    out: requiredArg('lockstep', 'out'),
    K: process.argv.includes('--K') ? Number(requiredArg('lockstep', 'K')) : undefined,
    augmentSeed: process.argv.includes('--augment-seed') ? Number(requiredArg('lockstep', 'augment-seed')) : undefined,
    initSeed: process.argv.includes('--init-seed') ? Number(requiredArg('lockstep', 'init-seed')) : undefined,
    log: (l) => process.stderr.write(`${l}\n`),
  });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
