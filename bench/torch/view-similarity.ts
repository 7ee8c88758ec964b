/**
 * How alike the two training views of an image are, seen by an encoder: the mean cosine similarity
 * of the backbone features (and of the projections) of view 1 and view 2 over the first N images of
 * a parity data export, for the workbench's augmentation and for torchvision's views written by
 * `python3 bench/torch/augment_stats.py --data DIR --dump FILE`. A weaker augmentation on one side
 * shows as a higher similarity.
 *
 *   npx tsx bench/torch/view-similarity.ts --run RUN_DIR --data DIR --views FILE [--n 2000] [--seeds 0,1] [--steps JSON] [--initial]
 *
 * RUN_DIR is a finished run of the export's config; its checkpoint is the encoder (--initial: the
 * same network at initialisation instead). --steps replaces the export's pipeline (for one
 * augmentation at a time); pass the same to augment_stats.py.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/init';
import { augment } from '../../src/data/augment/augment';
import type { AugmentPipeline } from '../../src/data/augment/presets';
import { loadCheckpoint } from '../../src/experiments/checkpoint';
import { methodForRun } from '../../src/experiments/evaluation';
import type { RunConfig } from '../../src/experiments/config';
import { l2Normalize } from '../../src/ops/normalize';
import type { DatasetInfo, Method } from '../../src/types';
import { readJson } from '../../src/util/fsx';
import { Rng } from '../../src/util/rng';
import { requiredArg } from '../args';

/** Mean over images of cos(f(v1_i), f(v2_i)) for backbone features and projections. */
async function similarity(m: Method, v1: tf.Tensor4D, v2: tf.Tensor4D, batch = 250): Promise<{ backbone: number; projection: number }> {
  const n = v1.shape[0];
  const out = { backbone: 0, projection: 0 };
  for (const which of ['backbone', 'projection'] as const) {
    for (let i = 0; i < n; i += batch) {
      const b = Math.min(batch, n - i);
      const s = tf.tidy(() => {
        const a = l2Normalize(m.features(v1.slice([i], [b]), which));
        const c = l2Normalize(m.features(v2.slice([i], [b]), which));
        return a.mul(c).sum();
      });
      out[which] += (await s.data())[0];
      s.dispose();
    }
    out[which] /= n;
  }
  return out;
}

async function main(): Promise<void> {
  await initBackend(requiredArg('view-similarity', 'backend', process.env.CWB_BACKEND ?? 'auto'));
  const runDir = requiredArg('view-similarity', 'run');
  const dataDir = requiredArg('view-similarity', 'data');
  const n = Number(requiredArg('view-similarity', 'n', '2000'));
  const cfg = readJson<RunConfig>(path.join(runDir, 'config.json'));
  const meta = readJson<{
    imageSize: [number, number];
    channels: number;
    numClasses: number;
    mean: number[];
    std: number[];
    augmentation: AugmentPipeline;
  }>(path.join(dataDir, 'meta.json'));
  const pipeline: AugmentPipeline = process.argv.includes('--steps')
    ? { name: meta.augmentation.name, steps: JSON.parse(requiredArg('view-similarity', 'steps')) }
    : meta.augmentation;
  const [h, w] = meta.imageSize;
  const c = meta.channels;
  const info = {
    name: cfg.dataset.name,
    imageSize: meta.imageSize,
    channels: c,
    numClasses: meta.numClasses,
    mean: meta.mean,
    std: meta.std,
  } as DatasetInfo;
  const m = methodForRun(cfg, info);
  if (!process.argv.includes('--initial')) {
    const ck = loadCheckpoint(runDir);
    if (!ck) throw new Error(`view-similarity: ${runDir} has no checkpoint`);
    m.setState(ck.state);
  }
  const raw = fs.readFileSync(path.join(dataDir, 'train.u8')).subarray(0, n * h * w * c);
  const x = tf.tensor4d(Int32Array.from(raw), [n, h, w, c], 'int32');
  const round = (r: { backbone: number; projection: number }) => ({ backbone: +r.backbone.toFixed(4), projection: +r.projection.toFixed(4) });
  for (const seed of requiredArg('view-similarity', 'seeds', '0,1').split(',').map(Number)) {
    const rng = new Rng(seed);
    const v1 = augment(x, pipeline, rng, { channels: c, mean: meta.mean, std: meta.std });
    const v2 = augment(x, pipeline, rng, { channels: c, mean: meta.mean, std: meta.std });
    console.log(JSON.stringify({ side: 'workbench', seed, ...round(await similarity(m, v1, v2)) }));
    tf.dispose([v1, v2]);
  }
  const file = requiredArg('view-similarity', 'views');
  const buf = fs.readFileSync(file);
  if (buf.byteLength !== 2 * n * h * w * c * 4)
    throw new Error(`view-similarity: ${file} holds ${buf.byteLength} bytes, expected 2 x ${n} x ${h}x${w}x${c} float32`);
  const views = tf.tensor5d(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), [2, n, h, w, c]);
  const [t1, t2] = tf.unstack(views) as tf.Tensor4D[];
  console.log(JSON.stringify({ side: 'torchvision', file: path.basename(file), ...round(await similarity(m, t1, t2)) }));
  tf.dispose([x, views, t1, t2]);
  m.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
