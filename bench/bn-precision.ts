/**
 * What centring the input of TensorFlow's fused BatchNorm buys, and what it costs, on the
 * `tensorflow` backend. `batchNormTrain` hands FusedBatchNormV3 the input minus its batch mean
 * (BN is invariant to a constant shift per channel). This compares that with the kernels on the
 * raw input, for the split-BN views of the ConvNet's three stages at batch 128 and 4 splits, with
 * x ~ N(3, 1) (a channel mean large against its spread), gamma ~ U(0.5, 1.5), ReLU, dy ~ N(0, 1e-4):
 *   y diff       max |y_raw - y_centred| / max |y_centred|
 *   mask flips   elements whose ReLU mask differs (y within float32 rounding of 0)
 *   dx diff      max |dx_raw - dx_centred| / max |dx_centred|, and the same over unflipped elements
 *   ms           forward + backward of one BN + ReLU, raw and centred (median of --reps)
 *
 *   npx tsx bench/bn-precision.ts [--reps 15]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { tensorflowNative } from '../src/ops/tensorflow-native';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function maxOf(t: tf.Tensor): Promise<number> {
  const m = t.max();
  const v = (await m.data())[0];
  tf.dispose([t, m]);
  return v;
}

async function main(): Promise<void> {
  const reps = arg('reps', 15);
  await initBackend('tensorflow', { quiet: true });
  const nat = tensorflowNative();
  if (!nat) throw new Error('bench/bn-precision: needs the tensorflow backend (npm run setup:tensorflow)');
  const S = 4;
  const B = 128;
  console.log('| view [N/S, H*W, 1, S*C] | y diff | mask flips | dx diff | dx diff, unflipped | ms raw | ms centred |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [H, C] of [
    [32, 32],
    [16, 64],
    [8, 128],
  ]) {
    const shape: [number, number, number, number] = [B / S, H * H, 1, S * C];
    const x = tf.randomNormal(shape, 3, 1, 'float32', 5) as tf.Tensor4D;
    const g = tf.randomUniform([S * C], 0.5, 1.5, 'float32', 6) as tf.Tensor1D;
    const b = tf.zeros([S * C]) as tf.Tensor1D;
    const dy = tf.randomNormal(shape, 0, 1e-4, 'float32', 7) as tf.Tensor4D;
    const pass = (centre: boolean) =>
      tf.tidy(() => {
        const shift = centre ? x.mean([0, 1, 2]) : undefined;
        const xs = (shift ? x.sub(shift) : x) as tf.Tensor4D;
        const r = nat.fusedBatchNorm(xs, g, b, 1e-5);
        const y = tf.relu(r.y);
        const [dx] = nat.fusedBatchNormGrad(nat.reluGrad(dy, y) as tf.Tensor4D, xs, g, r.reserve, 1e-5);
        return [y, dx];
      });
    const [yR, dxR] = pass(false);
    const [yC, dxC] = pass(true);
    const flipped = tf.tidy(() => yR.greater(0).notEqual(yC.greater(0)));
    const top = (t: tf.Tensor) => maxOf(t.abs());
    const yTop = await top(yC);
    const dxTop = await top(dxC);
    const yDiff = (await maxOf(tf.tidy(() => yR.sub(yC).abs()))) / yTop;
    const flips = await maxOf(tf.tidy(() => flipped.sum()));
    const dxDiff = (await maxOf(tf.tidy(() => dxR.sub(dxC).abs()))) / dxTop;
    const dxUnflipped = (await maxOf(tf.tidy(() => tf.where(flipped, tf.zerosLike(dxR), dxR.sub(dxC).abs())))) / dxTop;
    const time = async (centre: boolean) => {
      const ms: number[] = [];
      for (let i = 0; i < reps + 2; i++) {
        const t0 = performance.now();
        const out = pass(centre);
        await out[1].data();
        tf.dispose(out);
        if (i >= 2) ms.push(performance.now() - t0);
      }
      return ms.sort((p, q) => p - q)[Math.floor(ms.length / 2)];
    };
    const [msRaw, msCentred] = [await time(false), await time(true)];
    const e = (v: number) => v.toExponential(1);
    console.log(
      `| [${shape}] | ${e(yDiff)} | ${flips} of ${x.size} | ${e(dxDiff)} | ${e(dxUnflipped)} | ${msRaw.toFixed(1)} | ${msCentred.toFixed(1)} |`,
    );
    tf.dispose([x, g, b, dy, yR, dxR, yC, dxC, flipped]);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
