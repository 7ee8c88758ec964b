/**
 * The wasm training kernels (src/backend/wasm-kernels.ts) against the cpu backend: conv2d input and
 * filter gradients over strides, paddings, kernel sizes and odd spatial sizes; UnsortedSegmentSum
 * and the gradient of gather; a small ResNet-style model that trains on wasm; no leaked tensors.
 */
import * as assert from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** max |a - b| / max(|b|, 1e-6) over all elements. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length, 'length mismatch');
  let d = 0;
  let m = 1e-6;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/** Runs f on the given backend and returns its outputs as plain arrays. */
async function onBackend(name: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const outs = tf.tidy(f);
  const vals = await Promise.all(outs.map(async (t) => new Float32Array(await t.data())));
  tf.dispose(outs);
  return vals;
}

function rand(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
}

/** Gradients of sum(conv2d(x, w) * r) w.r.t. x and w (r fixed random), and the forward output. */
function convGrads(xv: Float32Array, xs: number[], wv: Float32Array, ws: number[], rv: Float32Array, ys: number[], stride: number, pad: Pad) {
  return (): tf.Tensor[] => {
    const x = tf.tensor4d(xv, xs as [number, number, number, number]);
    const w = tf.tensor4d(wv, ws as [number, number, number, number]);
    const r = tf.tensor(rv, ys);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf
        .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)
        .mul(r)
        .sum();
    const [gx, gw] = tf.grads(f)([x, w]);
    return [tf.conv2d(x, w, stride, pad), gx, gw];
  };
}

describe('wasm training kernels', function () {
  this.timeout(600000);

  before(async () => {
    await initBackend('wasm', { quiet: true });
  });
  after(async () => {
    await tf.setBackend('wasm');
  });

  it('initBackend("wasm") succeeds, self-test with conv gradients included', async () => {
    const report = await initBackend('wasm', { quiet: true });
    assert.strictEqual(report.backend, 'wasm');
    assert.strictEqual(tf.getBackend(), 'wasm');
  });

  const cases: { x: number[]; k: number; cout: number; stride: number; pad: Pad }[] = [
    { x: [2, 7, 9, 3], k: 3, cout: 4, stride: 1, pad: 'same' },
    { x: [2, 7, 9, 3], k: 3, cout: 4, stride: 2, pad: 'same' },
    { x: [2, 7, 9, 3], k: 3, cout: 5, stride: 2, pad: 'valid' },
    { x: [3, 8, 8, 4], k: 1, cout: 6, stride: 1, pad: 'same' },
    { x: [3, 8, 8, 4], k: 1, cout: 6, stride: 2, pad: 'same' },
    { x: [1, 9, 7, 2], k: 1, cout: 3, stride: 2, pad: 'valid' },
    { x: [2, 11, 10, 3], k: 5, cout: 4, stride: 1, pad: 'valid' },
    { x: [2, 11, 10, 3], k: 5, cout: 4, stride: 2, pad: 'same' },
    { x: [1, 13, 12, 2], k: 7, cout: 3, stride: 2, pad: 'same' },
    { x: [1, 13, 12, 2], k: 7, cout: 3, stride: 1, pad: 'valid' },
    {
      x: [2, 9, 7, 3],
      k: 3,
      cout: 4,
      stride: 1,
      pad: [
        [0, 0],
        [2, 0],
        [1, 3],
        [0, 0],
      ],
    },
    {
      x: [2, 11, 10, 2],
      k: 7,
      cout: 3,
      stride: 2,
      pad: [
        [0, 0],
        [3, 2],
        [1, 4],
        [0, 0],
      ],
    },
    {
      x: [2, 10, 9, 3],
      k: 3,
      cout: 4,
      stride: 2,
      pad: [
        [0, 0],
        [4, 0],
        [0, 5],
        [0, 0],
      ],
    },
    { x: [4, 32, 32, 16], k: 3, cout: 8, stride: 2, pad: 'same' },
  ];
  for (const c of cases) {
    const name = `conv2d ${c.x.join('x')} * ${c.k}x${c.k}x${c.x[3]}x${c.cout}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;
    it(`${name}: value and gradients match cpu to 1e-4`, async () => {
      const ws = [c.k, c.k, c.x[3], c.cout];
      const xv = rand(c.x, 11);
      const wv = rand(ws, 12);
      const ys = tf.tidy(() => tf.conv2d(tf.zeros<tf.Rank>(c.x) as tf.Tensor4D, tf.zeros<tf.Rank>(ws) as tf.Tensor4D, c.stride, c.pad).shape);
      const rv = rand(ys, 13);
      const f = convGrads(xv, c.x, wv, ws, rv, ys, c.stride, c.pad);
      const wasm = await onBackend('wasm', f);
      const cpu = await onBackend('cpu', f);
      ['conv2d', 'dx', 'dw'].forEach((what, i) => {
        const e = relErr(wasm[i], cpu[i]);
        assert.ok(e < 1e-4, `${name}: ${what} relative error ${e}`);
      });
    });
  }

  it('conv gradients leak no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const f = convGrads(rand([2, 9, 7, 3], 1), [2, 9, 7, 3], rand([3, 3, 3, 4], 2), [3, 3, 3, 4], rand([2, 5, 4, 4], 3), [2, 5, 4, 4], 2, 'same');
    tf.dispose(tf.tidy(f)); // warm-up
    const before = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    tf.dispose(tf.tidy(f));
    assert.strictEqual(tf.memory().numTensors, before);
    assert.strictEqual(tf.backend().numDataIds(), buffers);
  });

  it('rejects dilations other than 1 and NCHW with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 5, 5, 2]);
    const dy = tf.zeros([1, 5, 5, 3]);
    const w = tf.zeros([3, 3, 2, 3]);
    const base = { strides: [1, 1], pad: 'same', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...base, dataFormat: 'NHWC', dilations: [2, 2], filterShape: [3, 3, 2, 3] }),
      /Conv2DBackpropFilter: dilations \[2,2\] are not supported/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...base, dataFormat: 'NCHW', inputShape: [1, 5, 5, 2] }),
      /Conv2DBackpropInput: dataFormat 'NCHW' is not supported/,
    );
    tf.dispose([x, dy, w]);
  });

  it('UnsortedSegmentSum matches cpu (ids out of range dropped, float32 and int32)', async () => {
    const xv = rand([12, 5], 7);
    const ids = [2, 0, 7, 2, -1, 0, 1, 2, 0, 5, 5, 1];
    const f = () => [
      tf.unsortedSegmentSum(tf.tensor2d(xv, [12, 5]), tf.tensor1d(ids, 'int32'), 6),
      tf.unsortedSegmentSum(tf.tensor2d(xv, [12, 5]).reshape([12, 1, 5]), tf.tensor1d(ids, 'int32'), 3),
      tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([1, 1, 0, 3], 'int32'), 4).toFloat(),
    ];
    const wasm = await onBackend('wasm', f);
    const cpu = await onBackend('cpu', f);
    for (let i = 0; i < cpu.length; i++) assert.ok(relErr(wasm[i], cpu[i]) < 1e-6, `output ${i}`);
    assert.deepStrictEqual(Array.from(wasm[2]), [3, 3, 0, 4]);
    // Segment 3 gets nothing (7, -1 and 5 >= 3 are dropped in the second call): a zero row.
    assert.deepStrictEqual(Array.from(wasm[0].slice(15, 20)), [0, 0, 0, 0, 0]);
  });

  it('gradient of gather (axis 0 and 1, repeated indices) matches cpu', async () => {
    const tv = rand([6, 4, 3], 8);
    const rv0 = rand([5, 4, 3], 9);
    const rv1 = rand([6, 2, 3, 3], 10);
    const f = () => {
      const t = tf.tensor3d(tv, [6, 4, 3]);
      const g0 = tf.grad((a: tf.Tensor) =>
        tf
          .gather(a, tf.tensor1d([0, 5, 0, 2, 0], 'int32'), 0)
          .mul(tf.tensor(rv0, [5, 4, 3]))
          .sum(),
      )(t);
      const g1 = tf.grad((a: tf.Tensor) =>
        tf
          .gather(a, tf.tensor2d([3, 1, 3, 3, 0, 1], [2, 3], 'int32'), 1)
          .mul(tf.tensor(rv1, [6, 2, 3, 3]))
          .sum(),
      )(t);
      return [g0, g1];
    };
    const wasm = await onBackend('wasm', f);
    const cpu = await onBackend('cpu', f);
    for (let i = 0; i < cpu.length; i++) assert.ok(relErr(wasm[i], cpu[i]) < 1e-5, `gather grad ${i}: ${relErr(wasm[i], cpu[i])}`);
  });

  describe('a small ResNet-style model', () => {
    // conv3x3-BN-ReLU stem, one residual block with a stride-2 1x1 projection shortcut,
    // global average pool, dense. Parameters are plain tensors so both backends can build them.
    const shapes: Record<string, number[]> = {
      stem: [3, 3, 3, 8],
      c1: [3, 3, 8, 16],
      c2: [3, 3, 16, 16],
      proj: [1, 1, 8, 16],
      fc: [16, 4],
    };
    const init: Record<string, Float32Array> = {};
    Object.entries(shapes).forEach(([k, s], i) => {
      const fanIn = s.slice(0, -1).reduce((a, b) => a * b, 1);
      init[k] = rand(s, 100 + i).map((v) => v * Math.sqrt(2 / fanIn));
    });
    const images = rand([8, 9, 9, 3], 200);
    const labels = [0, 1, 2, 3, 0, 1, 2, 3];

    function bnRelu(x: tf.Tensor4D, relu = true): tf.Tensor4D {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = x.sub(mean).div(variance.add(1e-5).sqrt()) as tf.Tensor4D;
      return relu ? y.relu() : y;
    }
    function loss(p: Record<string, tf.Tensor>, x: tf.Tensor4D, y: tf.Tensor): tf.Scalar {
      const h = bnRelu(tf.conv2d(x, p.stem as tf.Tensor4D, 1, 'same')); // [8, 9, 9, 8]
      const a = bnRelu(tf.conv2d(h, p.c1 as tf.Tensor4D, 2, 'same')); // [8, 5, 5, 16]
      const b = bnRelu(tf.conv2d(a, p.c2 as tf.Tensor4D, 1, 'same'), false);
      const s = bnRelu(tf.conv2d(h, p.proj as tf.Tensor4D, 2, 'same'), false); // shortcut [8, 5, 5, 16]
      const pooled = b.add(s).relu().mean([1, 2]) as tf.Tensor2D; // [8, 16]
      const logits = pooled.matMul(p.fc as tf.Tensor2D); // [8, 4]
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    }

    it('has the same parameter gradients on wasm as on cpu', async () => {
      const f = () => {
        const names = Object.keys(shapes);
        const params = names.map((k) => tf.tensor(init[k], shapes[k]));
        const x = tf.tensor4d(images, [8, 9, 9, 3]);
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4);
        const g = tf.grads((...ps: tf.Tensor[]) => loss(Object.fromEntries(names.map((k, i) => [k, ps[i]])), x, y))(params);
        return g;
      };
      const wasm = await onBackend('wasm', f);
      const cpu = await onBackend('cpu', f);
      Object.keys(shapes).forEach((k, i) => {
        const e = relErr(wasm[i], cpu[i]);
        assert.ok(e < 1e-3, `gradient of ${k}: relative error ${e}`);
      });
    });

    it('trains end to end on wasm with SGD: the loss goes down', async () => {
      await tf.setBackend('wasm');
      const vars = Object.fromEntries(Object.keys(shapes).map((k) => [k, tf.variable(tf.tensor(init[k], shapes[k]), true, `resnet_${k}`)]));
      const x = tf.tensor4d(images, [8, 9, 9, 3]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4);
      const opt = tf.train.sgd(0.1);
      const losses: number[] = [];
      for (let step = 0; step < 8; step++) {
        const l = opt.minimize(() => loss(vars, x, y), true) as tf.Scalar;
        losses.push((await l.data())[0]);
        l.dispose();
      }
      tf.dispose([x, y, ...Object.values(vars)]);
      opt.dispose();
      assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
      assert.ok(losses[losses.length - 1] < 0.8 * losses[0], `loss did not go down: ${losses.map((v) => v.toFixed(4))}`);
    });
  });
});
