/**
 * Statistics of the training views the workbench makes from a parity data export, to hold beside
 * bench/torch/augment_stats.py (torchvision's):
 *
 *   npx tsx bench/torch/augment-stats.ts --data DIR [--n 2000] [--seed 0]
 *
 * prints one JSON line with the same fields.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { augment } from '../../src/data/augment/augment';
import type { AugmentPipeline } from '../../src/data/augment/presets';
import { Rng } from '../../src/util/rng';
import { requiredArg } from '../args';

async function main(): Promise<void> {
  const dir = requiredArg('augment-stats', 'data');
  const n = Number(requiredArg('augment-stats', 'n', '2000'));
  const seed = Number(requiredArg('augment-stats', 'seed', '0'));
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as {
    imageSize: [number, number];
    channels: number;
    mean: number[];
    std: number[];
    augmentation: AugmentPipeline;
  };
  const [h, w] = meta.imageSize;
  const c = meta.channels;
  const raw = fs.readFileSync(path.join(dir, 'train.u8')).subarray(0, n * h * w * c);
  const x = tf.tensor4d(Int32Array.from(raw), [n, h, w, c], 'int32');
  const rng = new Rng(seed);
  const info = { channels: c, mean: meta.mean, std: meta.std };
  const v1 = augment(x, meta.augmentation, rng, info);
  const v2 = augment(x, meta.augmentation, rng, info);
  const std = tf.tensor1d(meta.std);
  const mean = tf.tensor1d(meta.mean);
  const r = v1.mul(std).add(mean);
  const d01 = r
    .slice([0, 0, 0, 0], [-1, -1, -1, 1])
    .sub(r.slice([0, 0, 0, 1], [-1, -1, -1, 1]))
    .abs()
    .max([1, 2, 3]);
  const d12 = r
    .slice([0, 0, 0, 1], [-1, -1, -1, 1])
    .sub(r.slice([0, 0, 0, 2], [-1, -1, -1, 1]))
    .abs()
    .max([1, 2, 3]);
  const grey = d01.less(1e-3).logicalAnd(d12.less(1e-3)).toFloat().mean();
  const m = tf.moments(v1, [0, 1, 2]);
  const perImage = tf
    .moments(r.reshape([n, -1]), 1)
    .variance.sqrt()
    .mean();
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  // Sample std (N - 1), as torch.std.
  const cnt = n * h * w;
  const out = {
    mean: Array.from(await m.mean.data()).map(round),
    std: Array.from(await m.variance.data()).map((v) => round(Math.sqrt((v * cnt) / (cnt - 1)))),
    viewL1: round((await v1.sub(v2).abs().mean().data())[0]),
    greyShare: round((await grey.data())[0]),
    pixelStdPerImage: round((await perImage.data())[0] * Math.sqrt((h * w * c) / (h * w * c - 1))),
  };
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
