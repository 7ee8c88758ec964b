/** Properties of the batched augmentations (on wasm) and torchvision-compatible values. */
import * as assert from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import {
  AUGMENT_PRESETS,
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  augment,
  colorJitter,
  flipHorizontal,
  gaussianBlur,
  pipelineOutputSize,
  randomResizedCrop,
  sampleCropParams,
  toGrayscale,
} from '../src/data/augment';
import type { AugmentPresetName } from '../src/types';
import { Rng } from '../src/util/rng';

const info3 = { channels: 3, mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
const info1 = { channels: 1, mean: [0.286], std: [0.353] };

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

/** torchvision's _rgb2hsv / _hsv2rgb hue shift of one pixel, in float64. */
function refHue([r, g, b]: number[], shift: number): number[] {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  const cr = maxc - minc;
  const s = cr / (maxc === minc ? 1 : maxc);
  const d = maxc === minc ? 1 : cr;
  const rc = (maxc - r) / d;
  const gc = (maxc - g) / d;
  const bc = (maxc - b) / d;
  let h = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
  h = (((h / 6 + 1) % 1) + shift + 1) % 1;
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const v = maxc;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  return [[v, q, p, p, t, v][i], [t, v, v, q, p, p][i], [p, p, t, v, v, q][i]];
}

describe('data augmentations', () => {
  let x: tf.Tensor4D; // [6, 12, 10, 3] in 0..1
  before(async () => {
    await initBackend('wasm', { quiet: true });
    x = tf.randomUniform([6, 12, 10, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  });
  after(() => x.dispose());

  it('flip is an involution and mirrors only the chosen samples', () => {
    const mask = [true, false, true, true, false, false];
    const once = flipHorizontal(x, mask);
    const twice = flipHorizontal(once, mask);
    assert.ok(maxAbsDiff(twice, x) < 1e-5);
    const ref = tf.tidy(() => tf.concat(mask.map((m, i) => (m ? tf.reverse(x.slice([i], [1]), 2) : x.slice([i], [1])))));
    assert.ok(maxAbsDiff(once, ref) < 1e-5);
    tf.dispose([once, twice, ref]);
  });

  it('RandomResizedCrop params stay inside the image and follow torchvision (scale, ratio, fallback)', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 2000; t++) {
      const H = 8 + rng.int(40);
      const W = 8 + rng.int(40);
      const c = sampleCropParams(H, W, [0.08, 1], [3 / 4, 4 / 3], rng);
      assert.ok(
        c.top >= 0 && c.left >= 0 && c.top + c.height <= H && c.left + c.width <= W && c.height > 0 && c.width > 0,
        JSON.stringify({ H, W, c }),
      );
    }
    // An impossible scale range forces the centre-crop fallback: the whole image for ratio 1.
    assert.deepStrictEqual(sampleCropParams(10, 10, [2, 3], [3 / 4, 4 / 3], rng), { top: 0, left: 0, height: 10, width: 10 });
    // 20/10 is wider than the largest ratio 4/3: height 10, width round(10 * 4/3) = 13, centred.
    assert.deepStrictEqual(sampleCropParams(10, 20, [2, 3], [3 / 4, 4 / 3], rng), { top: 0, left: 3, height: 10, width: 13 });
  });

  it('a crop of the whole image at the same size is the identity, and a crop is the resized region', () => {
    const whole = tf.tidy(() => {
      const rng = new Rng(1);
      return randomResizedCrop(x, { scale: [1, 1], ratio: [10 / 12, 10 / 12] }, rng).out;
    });
    // scale 1 with the image's own ratio gives the full 12x10 crop.
    assert.ok(maxAbsDiff(whole, x) < 1e-5);
    whole.dispose();
    const out = tf.tidy(() => randomResizedCrop(x, { size: 4, scale: [0.08, 1] }, new Rng(2)).out);
    assert.deepStrictEqual(out.shape, [6, 4, 4, 3]);
    const v = out.dataSync();
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    assert.ok(lo >= -1e-6 && hi <= 1 + 1e-6, `crop values stay in the image range (no black padding): ${lo}..${hi}`);
    out.dispose();
  });

  it('greyscale gives equal channels equal to the luma', () => {
    const g = toGrayscale(x, [true, true, false, true, true, true]);
    const chosen = tf.concat([g.slice([0], [2]), g.slice([3], [3])]); // sample 2 was not selected
    const [r, gg, b] = tf.split(chosen, 3, 3);
    assert.ok(maxAbsDiff(r, gg) < 1e-6 && maxAbsDiff(gg, b) < 1e-6);
    const luma = tf.tidy(() => x.mul(tf.tensor1d([0.299, 0.587, 0.114])).sum(3, true));
    assert.ok(maxAbsDiff(r.slice([0], [1]), luma.slice([0], [1])) < 1e-5);
    assert.ok(maxAbsDiff(g.slice([2], [1]), x.slice([2], [1])) < 1e-6, 'unselected sample unchanged');
    tf.dispose([g, chosen, r, gg, b, luma]);
  });

  it('jitter with strength 0 (or p 0) is the identity; factor 1 ops are the identity', () => {
    const zero = colorJitter(x, { brightness: 0, contrast: 0, saturation: 0, hue: 0, p: 1 }, new Rng(3));
    assert.strictEqual(maxAbsDiff(zero, x), 0);
    const never = colorJitter(x, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0 }, new Rng(3));
    assert.strictEqual(maxAbsDiff(never, x), 0);
    const ones = Array(6).fill(1);
    for (const op of [adjustBrightness, adjustContrast, adjustSaturation]) {
      const y = op(x, ones);
      assert.ok(maxAbsDiff(y, x) < 1e-6, op.name);
      y.dispose();
    }
    const h0 = adjustHue(x, Array(6).fill(0));
    assert.ok(maxAbsDiff(h0, x) < 1e-5);
    tf.dispose([zero, never, h0]);
  });

  it('brightness / contrast / saturation / hue match torchvision formulas', () => {
    const img = tf.tensor4d([0.2, 0.5, 0.9, 0.7, 0.1, 0.3, 0.4, 0.4, 0.4, 1, 0, 0.5], [1, 2, 2, 3]);
    const px = [
      [0.2, 0.5, 0.9],
      [0.7, 0.1, 0.3],
      [0.4, 0.4, 0.4],
      [1, 0, 0.5],
    ];
    const luma = (p: number[]) => 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    const clip = (v: number) => Math.min(1, Math.max(0, v));
    const mean = px.reduce((a, p) => a + luma(p), 0) / 4;
    const check = (t: tf.Tensor, f: (p: number[], c: number) => number) => {
      const v = t.dataSync();
      px.forEach((p, i) => {
        p.forEach((_, c) => {
          assert.ok(Math.abs(v[i * 3 + c] - f(p, c)) < 1e-5, `${i},${c}: ${v[i * 3 + c]} vs ${f(p, c)}`);
        });
      });
      t.dispose();
    };
    check(adjustBrightness(img, [1.3]), (p, c) => clip(1.3 * p[c]));
    check(adjustContrast(img, [0.6]), (p, c) => clip(0.6 * p[c] + 0.4 * mean));
    check(adjustSaturation(img, [1.4]), (p, c) => clip(1.4 * p[c] - 0.4 * luma(p)));
    for (const shift of [0.1, -0.1, 0.37, -0.5]) check(adjustHue(img, [shift]), (p, c) => refHue(p, shift)[c]);
    // Random colours too.
    const rnd = tf.randomUniform([4, 5, 5, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const shifts = [0.08, -0.03, 0.25, -0.41];
    const out = adjustHue(rnd, shifts).dataSync();
    const src = rnd.dataSync();
    for (let i = 0; i < src.length / 3; i++) {
      const ref = refHue([src[3 * i], src[3 * i + 1], src[3 * i + 2]], shifts[Math.floor(i / 25)]);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(out[3 * i + c] - ref[c]) < 1e-4);
    }
    tf.dispose([img, rnd]);
  });

  it('Gaussian blur: sigma 0 is the identity, blur keeps constant images and averages', () => {
    const none = gaussianBlur(x, Array(6).fill(0));
    assert.strictEqual(maxAbsDiff(none, x), 0);
    const flat = tf.fill([2, 9, 9, 3], 0.3) as tf.Tensor4D;
    const b = gaussianBlur(flat, [1.5, 0.7]);
    assert.ok(maxAbsDiff(b, flat) < 1e-5);
    const some = gaussianBlur(x, [0, 2, 0, 0, 0, 0]);
    assert.ok(maxAbsDiff(some.slice([0], [1]), x.slice([0], [1])) < 1e-6, 'unblurred sample unchanged');
    const varOf = (t: tf.Tensor) => tf.tidy(() => tf.moments(t).variance.dataSync()[0]);
    assert.ok(varOf(some.slice([1], [1])) < 0.5 * varOf(x.slice([1], [1])), 'blur lowers the variance of noise');
    tf.dispose([none, flat, b, some]);
  });

  it('same seed gives the same views, different seeds differ; every preset runs and leaks nothing', () => {
    const u8 = tf.tidy(() => x.mul(255).round().toInt()) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (const name of Object.keys(AUGMENT_PRESETS) as AugmentPresetName[]) {
      if (name === 'moco-v1' || name === 'moco-v2') continue; // 224 px: covered below at a small batch
      const a = augment(u8, name, new Rng(5), info3);
      const b = augment(u8, name, new Rng(5), info3);
      const c = augment(u8, name, new Rng(6), info3);
      assert.deepStrictEqual(a.shape, [6, ...pipelineOutputSize(name, [12, 10]), 3]);
      assert.strictEqual(maxAbsDiff(a, b), 0, name);
      if (name !== 'test') assert.ok(maxAbsDiff(a, c) > 1e-3, `${name}: different seeds differ`);
      tf.dispose([a, b, c]);
    }
    const two = u8.slice([0], [2]) as tf.Tensor4D;
    const big = augment(two, 'moco-v2', new Rng(1), info3);
    assert.deepStrictEqual(big.shape, [2, 224, 224, 3]);
    tf.dispose([two, big]);
    assert.strictEqual(tf.memory().numTensors, before);
    u8.dispose();
  });

  it('greyscale images work with every preset', () => {
    const g = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    for (const name of Object.keys(AUGMENT_PRESETS) as AugmentPresetName[]) {
      const y = augment(g, name, new Rng(1), info1);
      assert.strictEqual(y.shape[3], 1, name);
      assert.ok(y.dataSync().every(Number.isFinite), name);
      y.dispose();
    }
    assert.throws(() => augment(g, 'test', new Rng(1), info3), /1 channels but the dataset info says 3/);
    assert.throws(() => augment(g, 'nope' as AugmentPresetName, new Rng(1), info1), /unknown augmentation preset 'nope'/);
    g.dispose();
  });

  it('processing in chunks of samples gives the same views as one pass', () => {
    for (const name of ['moco-v2-cifar', 'moco-v1'] as AugmentPresetName[]) {
      const whole = augment(x, name, new Rng(4), info3);
      const chunked = augment(x, name, new Rng(4), info3, { chunkValues: 2 * 12 * 10 * 3 });
      assert.ok(maxAbsDiff(whole, chunked) < 1e-5, name);
      tf.dispose([whole, chunked]);
    }
  });

  it('the flip folded into the crop equals a crop then a flip', () => {
    const crop = { op: 'randomResizedCrop' as const, scale: [0.3, 1] as [number, number] };
    const folded = augment(x, { steps: [crop, { op: 'flip', p: 0.5 }] }, new Rng(9), info3);
    // Same draws: the crop step draws the flips first, then the crop params.
    const rng = new Rng(9);
    const flips = Array.from({ length: 6 }, () => rng.next() < 0.5);
    const c = randomResizedCrop(x, { scale: [0.3, 1] }, rng).out;
    const ref = flipHorizontal(c, flips);
    assert.ok(maxAbsDiff(folded, ref) < 1e-4);
    tf.dispose([folded, c, ref]);
  });
});
