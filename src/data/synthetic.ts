/**
 * A seeded synthetic dataset for tests and smoke runs, in two flavours (`colour`):
 *
 * - `'class'` (default): each class is one (shape, colour) pair drawn on a noisy textured
 *   background, with random position, size and small colour shifts per image. Easy: even the
 *   features of a random-init network separate the classes by hue (a ConvNet scores ~60% kNN on 8
 *   classes before training), which suits smoke runs and probe tests.
 * - `'random'`: the class is the shape alone (8 shapes; classes 9-16 are their hollow outlines);
 *   foreground hue, brightness, background tint and texture phase are drawn per image. Colour
 *   carries no label, so a random-init network sits near chance and a contrastive method has to
 *   learn shape: the augmentations' colour jitter and greyscale make the two views of an image
 *   agree on shape only. This is the set on which self-supervised training visibly helps.
 */
import type { Split } from '../types';
import { Rng } from '../util/rng';

export interface SyntheticOptions {
  perClass: number;
  size: number;
  classes: number;
  channels: number;
  seed: number;
  /** `'class'`: the class fixes the hue (easy); `'random'`: hue is random, the class is the shape. */
  colour?: SyntheticColour;
}

export type SyntheticColour = 'class' | 'random';

export const SYNTHETIC_DEFAULTS = { perClass: 64, testPerClass: 16, size: 32, classes: 10, channels: 3, colour: 'class' as SyntheticColour };

const SHAPES = ['disk', 'square', 'triangle', 'ring', 'cross', 'stripes', 'diamond', 'checker'] as const;

/** RGB in 0..1 of hue h (0..1) at full saturation and value v. */
function hueToRgb(h: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

function inside(shape: (typeof SHAPES)[number], dx: number, dy: number, r: number): boolean {
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  switch (shape) {
    case 'disk':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      return ax <= r * 0.85 && ay <= r * 0.85;
    case 'triangle':
      return dy <= r * 0.8 && dy >= -r && ax <= (dy + r) * 0.6;
    case 'ring': {
      const d = Math.sqrt(dx * dx + dy * dy);
      return d <= r && d >= r * 0.55;
    }
    case 'cross':
      return (ax <= r * 0.3 && ay <= r) || (ay <= r * 0.3 && ax <= r);
    case 'stripes':
      return ax <= r && ay <= r && Math.floor((dy + r) / (r / 2.5)) % 2 === 0;
    case 'diamond':
      return ax + ay <= r;
    case 'checker':
      return ax <= r && ay <= r && (Math.floor((dx + r) / (r / 2)) + Math.floor((dy + r) / (r / 2))) % 2 === 0;
  }
}

/** Generate one split: NHWC uint8 pixels and labels (images ordered class by class, then shuffled). */
export function generateSynthetic(opts: SyntheticOptions, split: Split): { images: Uint8Array; labels: Int32Array; n: number } {
  const { perClass, size, classes, channels } = opts;
  const colour = opts.colour ?? 'class';
  const random = colour === 'random';
  if (colour !== 'class' && colour !== 'random') throw new Error(`synthetic.colour must be 'class' or 'random', got ${JSON.stringify(colour)}`);
  const maxClasses = colour === 'class' ? SHAPES.length * 4 : SHAPES.length * 2;
  if (!(classes >= 2 && classes <= maxClasses)) throw new Error(`synthetic.classes must be 2..${maxClasses} with colour '${colour}', got ${classes}`);
  if (!(size >= 8)) throw new Error(`synthetic.size must be at least 8, got ${size}`);
  if (channels !== 1 && channels !== 3) throw new Error(`synthetic.channels must be 1 or 3, got ${channels}`);
  if (!(perClass >= 1)) throw new Error(`synthetic perClass must be at least 1, got ${perClass}`);
  const rng = new Rng((opts.seed * 2 + (split === 'train' ? 0 : 1)) >>> 0);
  const n = perClass * classes;
  const order = rng.permutation(n);
  const images = new Uint8Array(n * size * size * channels);
  const labels = new Int32Array(n);
  const colours = Math.ceil(classes / SHAPES.length);
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const c = k % classes;
    labels[i] = c;
    const shape = SHAPES[c % SHAPES.length];
    // 'class': hue spread over the classes sharing a shape, plus a small per-image shift.
    const baseHue = random ? rng.next() : (Math.floor(c / SHAPES.length) / colours + (c % SHAPES.length) * 0.13) % 1;
    const fg = hueToRgb((baseHue + (random ? 0 : rng.uniform(-0.03, 0.03)) + 1) % 1, rng.uniform(random ? 0.55 : 0.75, 1));
    const bgTint = hueToRgb(rng.next(), rng.uniform(0.1, 0.3));
    const hollow = random && c >= SHAPES.length;
    const phase = random ? rng.uniform(0, 2 * Math.PI) : c;
    const greyFg = random ? rng.uniform(0.5, 0.95) : 0.45 + 0.5 * ((c + 1) / classes);
    const cx = size * rng.uniform(0.35, 0.65);
    const cy = size * rng.uniform(0.35, 0.65);
    const r = size * (random ? rng.uniform(0.3, 0.42) : rng.uniform(0.22, 0.33));
    const base = i * size * size * channels;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const on = inside(shape, dx, dy, r) && !(hollow && inside(shape, dx / 0.6, dy / 0.6, r));
        const noise = rng.uniform(-0.08, 0.08);
        const texture = 0.05 * Math.sin((x + y) * 0.9 + phase);
        const rgb = on ? fg : bgTint;
        const p = base + (y * size + x) * channels;
        if (channels === 3) {
          for (let ch = 0; ch < 3; ch++) images[p + ch] = Math.max(0, Math.min(255, Math.round(255 * (rgb[ch] + noise + texture))));
        } else {
          const grey = on ? greyFg : 0.15 + 0.2 * (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
          images[p] = Math.max(0, Math.min(255, Math.round(255 * (grey + noise + texture))));
        }
      }
    }
  }
  return { images, labels, n };
}

export function syntheticClassNames(classes: number, colour: SyntheticColour = 'class'): string[] {
  if (colour === 'random') return Array.from({ length: classes }, (_, c) => `${SHAPES[c % SHAPES.length]}${c >= SHAPES.length ? '-hollow' : ''}`);
  return Array.from({ length: classes }, (_, c) => `${SHAPES[c % SHAPES.length]}-${Math.floor(c / SHAPES.length)}`);
}
