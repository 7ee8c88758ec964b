/**
 * The workbench's augmentation ops beside torchvision's, one op at a time with the same parameters
 * (drawn and applied on the torchvision side by bench/torch/augment_ops.py): per op, the mean and
 * largest absolute pixel difference, the mean signed difference (workbench - torchvision) and
 * both sides' pixel std, in [0, 1] units.
 *
 *   python3 bench/torch/augment_ops.py --data EXPORT_DIR --out DIR
 *   npx tsx bench/torch/augment-ops.ts --data EXPORT_DIR --params DIR
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/init';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, toGrayscale } from '../../src/data/augment/color';
import { cropResize } from '../../src/data/augment/crop';
import { requiredArg } from '../args';

export interface OpDifference {
  op: string;
  meanAbs: number;
  maxAbs: number;
  meanSigned: number;
  stdWorkbench: number;
  stdTorchvision: number;
}

interface OpsFile {
  n: number;
  ops: string[];
  shape: [number, number, number];
  params: Record<string, number[] | number[][]>;
}

/** Applies each op of `paramsDir`/params.json to the first n images of the export and compares with torch.f32. */
export async function compareOps(exportDir: string, paramsDir: string): Promise<OpDifference[]> {
  const file = path.join(paramsDir, 'params.json');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as OpsFile;
  const [H, W, C] = meta.shape;
  const size = meta.n * H * W * C;
  const raw = fs.readFileSync(path.join(exportDir, 'train.u8'));
  if (raw.length < size) throw new Error(`${exportDir}/train.u8: ${raw.length} bytes, fewer than the ${meta.n} images of ${file}`);
  const refBytes = fs.readFileSync(path.join(paramsDir, 'torch.f32'));
  if (refBytes.length !== meta.ops.length * size * 4)
    throw new Error(`${paramsDir}/torch.f32: ${refBytes.length} bytes, expected ${meta.ops.length} ops x ${size} floats`);
  const ref = new Float32Array(refBytes.buffer, refBytes.byteOffset, refBytes.length / 4);
  const p = meta.params;
  const x = tf.tensor4d(
    Float32Array.from(raw.subarray(0, size), (v) => v / 255),
    [meta.n, H, W, C],
  );
  const ops: Record<string, () => tf.Tensor4D> = {
    crop: () =>
      cropResize(
        x,
        (p.crop as number[][]).map(([top, left, height, width]) => ({ top, left, height, width })),
        H,
        W,
      ),
    brightness: () => adjustBrightness(x, p.brightness as number[]),
    contrast: () => adjustContrast(x, p.contrast as number[]),
    saturation: () => adjustSaturation(x, p.saturation as number[]),
    hue: () => adjustHue(x, p.hue as number[]),
    grayscale: () => toGrayscale(x, new Array(meta.n).fill(true)),
  };
  const out: OpDifference[] = [];
  try {
    for (const [k, op] of meta.ops.entries()) {
      if (!(op in ops)) throw new Error(`${file}: op '${op}' is not one of ${Object.keys(ops).join(', ')}`);
      const t = ops[op]();
      const wb = await t.data();
      t.dispose();
      const tv = ref.subarray(k * size, (k + 1) * size);
      let abs = 0;
      let max = 0;
      let signed = 0;
      const s = [0, 0, 0, 0];
      for (let i = 0; i < size; i++) {
        const d = wb[i] - tv[i];
        abs += Math.abs(d);
        signed += d;
        if (Math.abs(d) > max) max = Math.abs(d);
        s[0] += wb[i];
        s[1] += wb[i] * wb[i];
        s[2] += tv[i];
        s[3] += tv[i] * tv[i];
      }
      const sd = (a: number, b: number) => Math.sqrt(Math.max(0, b / size - (a / size) ** 2));
      out.push({ op, meanAbs: abs / size, maxAbs: max, meanSigned: signed / size, stdWorkbench: sd(s[0], s[1]), stdTorchvision: sd(s[2], s[3]) });
    }
  } finally {
    x.dispose();
  }
  return out;
}

async function main(): Promise<void> {
  await initBackend(requiredArg('augment-ops', 'backend', process.env.CWB_BACKEND ?? 'auto'));
  const rows = await compareOps(requiredArg('augment-ops', 'data'), requiredArg('augment-ops', 'params'));
  console.log('| op | mean abs diff | max abs diff | mean diff (wb - tv) | std workbench | std torchvision |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const f = (v: number, d = 5) => v.toFixed(d);
    console.log(`| ${r.op} | ${f(r.meanAbs)} | ${f(r.maxAbs, 4)} | ${f(r.meanSigned)} | ${f(r.stdWorkbench, 4)} | ${f(r.stdTorchvision, 4)} |`);
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
