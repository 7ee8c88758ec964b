/**
 * CIFAR-10 / CIFAR-100 in the authors' binary format (`cifar-10-batches-bin`, `cifar-100-binary`).
 * A record is the label byte(s) then 3072 pixel bytes: the 1024 red, 1024 green, 1024 blue values
 * of a 32x32 image, each plane row-major. CIFAR-100 records carry the coarse label then the fine
 * label; we use the fine (100-class) one.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Split } from '../types';

export type CifarVariant = 'cifar10' | 'cifar100';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** The fine CIFAR-100 classes in label order (as in fine_label_names.txt). */
export const CIFAR100_CLASSES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle ' +
  'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant ' +
  'flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man ' +
  'maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree ' +
  'plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail ' +
  'snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout ' +
  'tulip turtle wardrobe whale willow_tree wolf woman worm'
).split(' ');

const PIXELS = 32 * 32 * 3;

/** Files of each split inside the extracted folder. */
export function cifarBinaryFiles(variant: CifarVariant, split: Split): string[] {
  if (variant === 'cifar10') {
    return split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
  }
  return [split === 'train' ? 'train.bin' : 'test.bin'];
}

/**
 * Parse one binary batch into NHWC uint8 pixels and int32 labels. Errors name `file` and say what
 * is wrong (size not a whole number of records, label out of range).
 */
export function parseCifarBinary(
  buf: Uint8Array,
  file: string,
  variant: CifarVariant,
): { images: Uint8Array; labels: Int32Array; n: number } {
  const labelBytes = variant === 'cifar10' ? 1 : 2;
  const record = labelBytes + PIXELS;
  const numClasses = variant === 'cifar10' ? 10 : 100;
  if (buf.length === 0 || buf.length % record !== 0) {
    throw new Error(
      `${file}: ${buf.length} bytes is not a whole number of ${record}-byte records ` +
        `(${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + 32x32x3 pixels); the file is truncated or not a ${variant} binary batch`,
    );
  }
  const n = buf.length / record;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * record;
    if (variant === 'cifar100' && buf[r] >= 20) {
      throw new Error(`${file}: record ${i} has coarse label ${buf[r]}, outside 0..19`);
    }
    const label = buf[r + labelBytes - 1];
    if (label >= numClasses) throw new Error(`${file}: record ${i} has label ${label}, outside 0..${numClasses - 1}`);
    labels[i] = label;
    const src = r + labelBytes;
    const dst = i * PIXELS;
    // CHW planes -> HWC interleaved.
    for (let p = 0; p < 1024; p++) {
      images[dst + 3 * p] = buf[src + p];
      images[dst + 3 * p + 1] = buf[src + 1024 + p];
      images[dst + 3 * p + 2] = buf[src + 2048 + p];
    }
  }
  return { images, labels, n };
}

/** Class names from the folder's meta file when present, else the built-in list. */
export function cifarClassNames(dir: string, variant: CifarVariant): string[] {
  const builtin = variant === 'cifar10' ? CIFAR10_CLASSES : CIFAR100_CLASSES;
  const meta = path.join(dir, variant === 'cifar10' ? 'batches.meta.txt' : 'fine_label_names.txt');
  if (!fs.existsSync(meta)) return builtin;
  const names = fs
    .readFileSync(meta, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length === builtin.length ? names : builtin;
}

/** Load a split from an extracted binary folder. */
export function loadCifarBinary(
  dir: string,
  variant: CifarVariant,
  split: Split,
): { images: Uint8Array; labels: Int32Array; n: number } {
  const parts = cifarBinaryFiles(variant, split).map((f) => {
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: the ${variant} binary folder ${dir} is incomplete`);
    return parseCifarBinary(fs.readFileSync(file), file, variant);
  });
  const n = parts.reduce((a, p) => a + p.n, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * PIXELS);
    labels.set(p.labels, at);
    at += p.n;
  }
  return { images, labels, n };
}
