/**
 * Colour augmentations with torchvision semantics, batched with per-sample factors:
 * - brightness b: x * b;  contrast c: c * x + (1 - c) * mean(grey(x));
 *   saturation s: s * x + (1 - s) * grey(x);  each clipped to [0, 1] (torchvision `_blend`);
 * - hue h: shift the HSV hue by h (mod 1);
 * - ColorJitter draws b, c, s in [max(0, 1 - strength), 1 + strength], h in [-hue, hue] and a
 *   random order of the four per sample, and as `RandomApply(..., p)` runs only with probability p;
 * - RandomGrayscale(p): grey = 0.299 R + 0.587 G + 0.114 B (PIL's 'L') copied to the 3 channels.
 * Greyscale (1-channel) images skip saturation, hue and greyscale, which are no-ops on them.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';

const LUMA = [0.299, 0.587, 0.114];

/*
 * The wasm backend runs some ops (1x1 convolutions, same-shape arithmetic, clip, relu, products
 * with a [B, 1, 1, 1] factor) far faster than others (channel broadcasting, tile, equal, where,
 * split, floor). So channel mixing here is a 1x1 convolution, per-sample choices are blends with a
 * [B, 1, 1, 1] mask, and max / min / mod are written with relu and clip.
 */

/** A 1x1 convolution mixing channels: out[..., o] = sum_i x[..., i] * m[i][o]. */
function mix(x: tf.Tensor4D, m: number[][]): tf.Tensor4D {
  return tf.tidy(() => tf.conv2d(x, tf.tensor4d(m.flat(), [1, 1, m.length, m[0].length]), 1, 'valid'));
}

/** Luma [B, H, W, 1] of x [B, H, W, C] (x itself when C = 1). */
export function grey(x: tf.Tensor4D): tf.Tensor4D {
  if (x.shape[3] === 1) return x.clone();
  return mix(x, LUMA.map((l) => [l]));
}

/** Luma copied into all C channels, [B, H, W, C]. */
function grey3(x: tf.Tensor4D): tf.Tensor4D {
  if (x.shape[3] === 1) return x.clone();
  return mix(x, LUMA.map((l) => [l, l, l]));
}

/** A per-sample value as a [B, 1, 1, 1] tensor. */
function perSample(values: number[]): tf.Tensor4D {
  return tf.tensor4d(values, [values.length, 1, 1, 1]);
}

/** where(mask, a, b) for a per-sample mask, as b + m (a - b). */
export function selectSamples(mask: boolean[], a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => b.add(perSample(mask.map((m) => (m ? 1 : 0))).mul(a.sub(b))) as tf.Tensor4D);
}

/** clip(a x + (1 - a) ref, 0, 1): torchvision's `_blend`. */
function blend(x: tf.Tensor4D, ref: tf.Tensor | number, a: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const mixed = typeof ref === 'number' && ref === 0 ? x.mul(a) : x.mul(a).add(tf.scalar(1).sub(a).mul(ref));
    return mixed.clipByValue(0, 1) as tf.Tensor4D;
  });
}

export function adjustBrightness(x: tf.Tensor4D, factors: number[]): tf.Tensor4D {
  return tf.tidy(() => blend(x, 0, perSample(factors)));
}

/** Mean luma of each sample, [B, 1, 1, 1] (the contrast reference). */
function meanGrey(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W] = x.shape;
  // A reduction over the last axis only: wasm reduces other axes through a slow transpose.
  return tf.tidy(() => grey(x).reshape([B, H * W]).mean(1).reshape([B, 1, 1, 1]) as tf.Tensor4D);
}

export function adjustContrast(x: tf.Tensor4D, factors: number[]): tf.Tensor4D {
  return tf.tidy(() => blend(x, meanGrey(x), perSample(factors)));
}

export function adjustSaturation(x: tf.Tensor4D, factors: number[]): tf.Tensor4D {
  if (x.shape[3] === 1) return x.clone();
  return tf.tidy(() => blend(x, grey3(x), perSample(factors)));
}

/** clip(min(k, 4 - k), 0, 1) for k in [-2, 6): the HSV -> RGB ramp. */
const bump = (k: tf.Tensor) => k.clipByValue(0, 1).add(tf.scalar(4).sub(k).clipByValue(0, 1)).sub(1);

/**
 * Shift the hue of each sample by `shifts[i]` (a fraction of a turn, torchvision's hue_factor in
 * [-0.5, 0.5]), keeping saturation and value: torchvision's rgb -> hsv -> rgb round trip, in
 * closed form. With M = max, m = min, the hue (in sixths) is (g-b)/(M-m) when red is the max,
 * 2 + (b-r)/(M-m) when green is, 4 + (r-g)/(M-m) otherwise (torchvision's priority), and channel
 * n in (5, 3, 1) of the result is M - (M-m) clip(min(k, 4-k), 0, 1), k = (n + 6 (h + shift)) mod 6.
 */
export function adjustHue(x: tf.Tensor4D, shifts: number[]): tf.Tensor4D {
  if (x.shape[3] === 1) return x.clone();
  return tf.tidy(() => {
    const x1 = mix(x, [[0, 0, 1], [1, 0, 0], [0, 1, 0]]); // (g, b, r)
    const x2 = mix(x, [[0, 1, 0], [0, 0, 1], [1, 0, 0]]); // (b, r, g)
    // max / min through relu (tf.maximum and tf.minimum are slow on wasm); they may be off by an
    // ulp, so the argmax is found from exact sign tests instead of M == x.
    const max2 = (a: tf.Tensor, b: tf.Tensor) => a.add(b.sub(a).relu());
    const min2 = (a: tf.Tensor, b: tf.Tensor) => a.sub(a.sub(b).relu());
    const M = max2(max2(x, x1), x2); // every channel = max
    const m = min2(min2(x, x1), x2); // every channel = min
    const cr = M.sub(m);
    const ratio = x1.sub(x2).div(cr.add(1e-30)); // (g-b, b-r, r-g) / (M - m); 0 where grey
    // One-hot of the first channel holding the max (r before g before b): ge(a, b) = [a - b >= 0].
    const ge = (a: tf.Tensor, b: tf.Tensor) => a.sub(b).mul(1e30).add(1).clipByValue(0, 1);
    const isMax = ge(x, x1).mul(ge(x, x2)) as tf.Tensor4D;
    const before = mix(isMax, [[0, 1, 1], [0, 0, 1], [0, 0, 0]]); // maxima in earlier channels
    const first = isMax.mul(tf.scalar(1).sub(before).relu()) as tf.Tensor4D;
    // k_c = h6 + n_c + 6 shift, h6 = hue in sixths in [-1, 5], n = (5, 3, 1), in channel c.
    const ones = [[1, 1, 1], [1, 1, 1], [1, 1, 1]];
    // Row i (the max channel) of the second matrix is offset_i + n_c with offset = (0, 2, 4).
    const h6 = mix(first.mul(ratio) as tf.Tensor4D, ones).add(mix(first, [[5, 3, 1], [7, 5, 3], [9, 7, 5]]));
    const k = h6.add(perSample(shifts.map((s) => (((6 * s) % 6) + 6) % 6))); // in [0, 16)
    // The ramp of (k mod 6), for k in [0, 18): bump is non-zero only on (0, 4).
    const f = bump(k).add(bump(k.sub(6))).add(bump(k.sub(12)));
    return M.sub(cr.mul(f)) as tf.Tensor4D;
  });
}

export interface JitterSpec {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  /** Probability that the jitter runs at all (RandomApply). */
  p: number;
}

/** Kinds in torchvision's fn_idx numbering. */
const BRIGHTNESS = 0;
const CONTRAST = 1;
const SATURATION = 2;
const HUE = 3;

/** The per-sample draw of ColorJitter: whether it runs, the order, and the four factors. */
export interface JitterDraw {
  apply: boolean;
  order: number[];
  factors: [number, number, number, number];
}

export function sampleJitter(n: number, spec: JitterSpec, rng: Rng): JitterDraw[] {
  const range = (s: number): [number, number] => [Math.max(0, 1 - s), 1 + s];
  return Array.from({ length: n }, () => {
    const apply = rng.next() < spec.p;
    const order = Array.from(rng.permutation(4));
    const b = spec.brightness > 0 ? rng.uniform(...range(spec.brightness)) : 1;
    const c = spec.contrast > 0 ? rng.uniform(...range(spec.contrast)) : 1;
    const s = spec.saturation > 0 ? rng.uniform(...range(spec.saturation)) : 1;
    const h = spec.hue > 0 ? rng.uniform(-spec.hue, spec.hue) : 0;
    return { apply, order, factors: [b, c, s, h] };
  });
}

/**
 * Apply drawn jitter to x [B, H, W, C]. Each sample's blend ops (brightness, contrast, saturation)
 * run in its own order: the ops before its hue step go in up to 3 "pre" slots, those after in up to
 * 3 "post" slots, and one hue step sits between; a slot where a sample has no op is the identity
 * blend (factor 1). Slots no sample uses are skipped.
 */
export function applyJitter(x: tf.Tensor4D, draws: JitterDraw[], spec: JitterSpec): tf.Tensor4D {
  const [B, , , C] = x.shape;
  const enabled = (k: number) =>
    (k === BRIGHTNESS && spec.brightness > 0) ||
    (k === CONTRAST && spec.contrast > 0) ||
    (k === SATURATION && spec.saturation > 0 && C === 3) ||
    (k === HUE && spec.hue > 0 && C === 3);
  const pre: number[][] = [];
  const post: number[][] = [];
  const hueOn: boolean[] = [];
  for (const d of draws) {
    const ops = d.apply ? d.order.filter(enabled) : [];
    const hi = ops.indexOf(HUE);
    pre.push(hi < 0 ? ops : ops.slice(0, hi));
    post.push(hi < 0 ? [] : ops.slice(hi + 1));
    hueOn.push(hi >= 0);
  }
  const slot = (kinds: (number | undefined)[], out: tf.Tensor4D): tf.Tensor4D => {
    if (kinds.every((k) => k === undefined)) return out;
    const a = kinds.map((k, i) => (k === undefined ? 1 : draws[i].factors[k]));
    const wC = kinds.map((k) => (k === CONTRAST ? 1 : 0));
    const wS = kinds.map((k) => (k === SATURATION ? 1 : 0));
    return tf.tidy(() => {
      let ref: tf.Tensor | number = 0;
      if (wC.some(Boolean)) ref = perSample(wC).mul(meanGrey(out)); // [B, 1, 1, 1]
      if (wS.some(Boolean) && C === 3) {
        const sat = perSample(wS).mul(grey3(out)); // [B, H, W, 3]
        ref = typeof ref === 'number' ? sat : sat.add(ref);
      }
      return blend(out, ref, perSample(a));
    });
  };
  return tf.tidy(() => {
    let out = x;
    for (let s = 0; s < 3; s++) out = slot(pre.map((p) => p[p.length - 3 + s]), out); // right-aligned
    if (hueOn.some(Boolean)) {
      const shifted = adjustHue(out, draws.map((d, i) => (hueOn[i] ? d.factors[HUE] : 0)));
      out = selectSamples(hueOn, shifted, out);
    }
    for (let s = 0; s < 3; s++) out = slot(post.map((p) => p[s]), out); // left-aligned
    return out === x ? x.clone() : out;
  });
}

/** ColorJitter(brightness, contrast, saturation, hue) under RandomApply(p), per sample. */
export function colorJitter(x: tf.Tensor4D, spec: JitterSpec, rng: Rng): tf.Tensor4D {
  return applyJitter(x, sampleJitter(x.shape[0], spec, rng), spec);
}

/** Replace the samples whose `mask` is true by their luma in every channel. */
export function toGrayscale(x: tf.Tensor4D, mask: boolean[]): tf.Tensor4D {
  const [B, , , C] = x.shape;
  if (mask.length !== B) throw new Error(`toGrayscale: mask of ${mask.length} for a batch of ${B}`);
  if (C === 1 || !mask.some(Boolean)) return x.clone();
  return tf.tidy(() => selectSamples(mask, grey3(x), x));
}

export function randomGrayscale(x: tf.Tensor4D, p: number, rng: Rng): tf.Tensor4D {
  return toGrayscale(x, Array.from({ length: x.shape[0] }, () => rng.next() < p));
}
