/**
 * Seeded, class-balanced subsets: each class's indices are shuffled, then classes are taken in
 * turn (round robin) until n indices are chosen, so every class gets floor(n/C) or one more
 * (as long as it has that many images). The chosen indices come back in a seeded random order, not
 * sorted: image folders list the images class by class, so a sorted subset would be sorted by class
 * (the first queries of a retrieval all airplanes, the first n of a kNN bank a few classes only).
 */
import { Rng } from '../util/rng';

export function classBalancedSubset(labels: Int32Array, numClasses: number, n: number, seed: number): Int32Array {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`subset size must be a positive integer, got ${n}`);
  if (n >= labels.length) return Int32Array.from({ length: labels.length }, (_, i) => i);
  const rng = new Rng(seed >>> 0);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const shuffled = byClass.map((idx) => {
    const p = rng.permutation(idx.length);
    return Array.from(p, (j) => idx[j]);
  });
  const chosen: number[] = [];
  for (let round = 0; chosen.length < n; round++) {
    for (let c = 0; c < numClasses && chosen.length < n; c++) {
      if (round < shuffled[c].length) chosen.push(shuffled[c][round]);
    }
  }
  const order = rng.permutation(chosen.length);
  return Int32Array.from(order, (j) => chosen[j]);
}

/** Copy the images and labels at `idx` out of NHWC arrays with `px` bytes per image. */
export function gatherImages(
  images: Uint8Array,
  labels: Int32Array,
  idx: Int32Array,
  px: number,
): { images: Uint8Array; labels: Int32Array } {
  const outIm = new Uint8Array(idx.length * px);
  const outLb = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    outIm.set(images.subarray(idx[k] * px, (idx[k] + 1) * px), k * px);
    outLb[k] = labels[idx[k]];
  }
  return { images: outIm, labels: outLb };
}
