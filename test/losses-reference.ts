/**
 * Float64 references for the loss tests: plain loops, written from the papers' formulas
 * independently of the TF.js implementations, plus central-difference gradients.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../src/util/rng';

/** n standard normals rounded to float32 (so TF.js and the reference see the same inputs). */
export function randn(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from(Float32Array.from({ length: n }, () => rng.normal() * scale));
}

/** Rows of an [n, d] array normalised to unit length, then rounded to float32. */
export function unitRows(rng: Rng, n: number, d: number): Float64Array {
  const a = randn(rng, n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += a[i * d + j] ** 2;
    for (let j = 0; j < d; j++) a[i * d + j] /= Math.sqrt(s);
  }
  return Float64Array.from(Float32Array.from(a));
}

export function dot(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) s += a[i * d + c] * b[j * d + c];
  return s;
}

export function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** Central differences of f at xs (every entry of every array), step h. */
export function numericGrads(f: (xs: Float64Array[]) => number, xs: Float64Array[], h = 1e-6): Float64Array[] {
  return xs.map((x, a) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const orig = x[i];
      x[i] = orig + h;
      const fp = f(xs);
      x[i] = orig - h;
      const fm = f(xs);
      x[i] = orig;
      g[i] = (fp - fm) / (2 * h);
    }
    void a;
    return g;
  });
}

/** max |a - b| / max(max |b|, 1e-12): relative error in the max norm. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} and ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-12);
}

export function relErrScalar(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

export function t2(a: Float64Array, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(a), [rows, cols]);
}

/** Value and gradients of a TF.js function of several tensors. */
export function tfValueAndGrads(f: (...xs: tf.Tensor[]) => tf.Scalar, xs: tf.Tensor[]): { value: number; grads: Float32Array[] } {
  const { value, grads } = tf.valueAndGrads(f as (...a: tf.Tensor[]) => tf.Tensor)(xs);
  const out = { value: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
  tf.dispose([value, ...grads]);
  return out;
}
