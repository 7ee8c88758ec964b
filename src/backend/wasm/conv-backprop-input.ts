/**
 * Conv2DBackpropInput for the wasm backend, as forward XNNPACK convolutions (the shipped kernel is
 * a naive loop, about 11x slower than the forward conv).
 *
 * Forward (one spatial axis; the other is the same): y[o] = sum_k x[o*s + k - p] * W[k].
 * Hence dx[i] = sum_{o,k : o*s + k = i + p} dy[o] * W[k]. Write j = i + p = q*s + r (0 <= r < s):
 * then k = r + s*t and o = q - t, so for each phase r
 *   dx[q*s + r - p] = sum_t dy[q - t] * W[r + s*t],   t = 0 .. T_r - 1,  T_r = ceil((fh - r) / s)
 * which is a stride-1 forward conv of dy with the flipped sub-filter W[r + s*t] (channels swapped).
 * Stride 1 is one phase (a "full" conv with the flipped filter); stride 2 is four small convs
 * (for a 3x3 filter: 2x2, 2x1, 1x2, 1x1 taps), so no work is spent on inserted zeros. The phase
 * results are interleaved into dx.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dAnyPad, convGeometry, free, runWasm, transpose, type Info } from './kernel-util';

interface AxisPlan {
  /** First and count of the q indices that land inside dx. */
  q0: number;
  count: number;
  /** Taps of each phase r = 0..s-1. */
  taps: number[];
}

function planAxis(size: number, pad: number, stride: number, filter: number): AxisPlan {
  const q0 = Math.floor(pad / stride);
  const q1 = Math.floor((size - 1 + pad) / stride);
  const taps = Array.from({ length: stride }, (_, r) => Math.max(0, Math.ceil((filter - r) / stride)));
  return { q0, count: q1 - q0 + 1, taps };
}

export function conv2DBackpropInputWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs ?? {};
  const inputShape = attrs.inputShape as number[];
  const info = convGeometry('Conv2DBackpropInput', inputShape, filter.shape, attrs);
  const [n, h, w, c] = inputShape;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const o = info.outChannels;
  if (dy.shape[0] !== n || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== o) {
    throw new Error(
      `wasm-kernels Conv2DBackpropInput: dy shape [${dy.shape}] does not match the forward output ` +
        `[${n},${oh},${ow},${o}] of input [${inputShape}] and filter [${filter.shape}]`,
    );
  }
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const rows = planAxis(h, pt, sh, fh);
  const cols = planAxis(w, pl, sw, fw);

  const wT = transpose(backend, filter, [0, 1, 3, 2]); // [fh, fw, O, C]
  const wRev = runWasm('Reverse', backend, { x: wT }, { dims: [0, 1] }); // flipped in space
  free(backend, wT);

  // One stride-1 conv per phase (ry, rx): z[n, qy, qx, c] = dx[n, (q0y+qy)*sh + ry - pt, (q0x+qx)*sw + rx - pl, c].
  const phases: { ry: number; rx: number; z: Info }[] = [];
  try {
    for (let ry = 0; ry < sh; ry++) {
      for (let rx = 0; rx < sw; rx++) {
        const ty = rows.taps[ry];
        const tx = cols.taps[rx];
        if (ty === 0 || tx === 0) continue; // this phase gets no gradient (e.g. 1x1 filter, stride 2)
        let sub = wRev;
        if (sh > 1 || sw > 1) {
          const by = fh - 1 - ry - sh * (ty - 1);
          const bx = fw - 1 - rx - sw * (tx - 1);
          sub = runWasm(
            'StridedSlice',
            backend,
            { x: wRev },
            {
              begin: [by, bx, 0, 0],
              end: [fh - ry, fw - rx, o, c],
              strides: [sh, sw, 1, 1],
              beginMask: 0,
              endMask: 0,
              ellipsisMask: 0,
              newAxisMask: 0,
              shrinkAxisMask: 0,
            },
          ); // [ty, tx, O, C]
        }
        const z = conv2dAnyPad(backend, dy, sub, {
          top: ty - 1 - rows.q0,
          bottom: rows.count + rows.q0 - oh,
          left: tx - 1 - cols.q0,
          right: cols.count + cols.q0 - ow,
        });
        if (sub !== wRev) free(backend, sub);
        if (z === null) continue;
        if (z.shape[1] !== rows.count || z.shape[2] !== cols.count) {
          free(backend, z);
          throw new Error(
            `wasm-kernels Conv2DBackpropInput: internal shape error, phase (${ry},${rx}) gave [${z.shape}], ` +
              `expected [${n},${rows.count},${cols.count},${c}]`,
          );
        }
        phases.push({ ry, rx, z });
      }
    }
  } catch (e) {
    free(backend, wRev, ...phases.map((p) => p.z));
    throw e;
  }
  free(backend, wRev);

  // Stride 1: the single phase already is dx.
  if (sh === 1 && sw === 1 && phases.length === 1 && rows.count === h && cols.count === w) {
    return phases[0].z;
  }
  const dx = backend.makeOutput(inputShape, 'float32');
  // Views are taken after every allocation (a heap growth would detach them).
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  if (phases.length < sh * sw) out.fill(0);
  for (const { ry, rx, z } of phases) {
    const src = backend.typedArrayFromHeap(z) as Float32Array;
    let s = 0;
    for (let b = 0; b < n; b++) {
      for (let qy = 0; qy < rows.count; qy++) {
        const y = (rows.q0 + qy) * sh + ry - pt;
        if (y < 0 || y >= h) {
          s += cols.count * c;
          continue;
        }
        const rowBase = (b * h + y) * w;
        for (let qx = 0; qx < cols.count; qx++, s += c) {
          const x = (cols.q0 + qx) * sw + rx - pl;
          if (x < 0 || x >= w) continue;
          out.set(src.subarray(s, s + c), (rowBase + x) * c);
        }
      }
    }
    free(backend, z);
  }
  return dx;
}
