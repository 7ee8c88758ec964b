/**
 * Conv2DBackpropFilter for the wasm backend, as one forward XNNPACK convolution.
 *
 * dW[ky,kx,c,o] = sum_{n,oy,ox} x[n, oy*s + ky - padTop, ox*s + kx - padLeft, c] * dy[n, oy, ox, o]
 *
 * Read c as a batch index and n as an input channel: this is a forward conv of
 * x' = x^T [C, H, W, N] with the filter dy' [OH, OW, N, O], dilation s (the forward stride), stride 1,
 * padding top/left as the forward pass, bottom/right chosen so the output is [C, fh, fw, O].
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dAnyPad, convGeometry, free, runWasm, transpose, type Info } from './kernel-util';

export function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs ?? {};
  const filterShape = attrs.filterShape as number[];
  const info = convGeometry('Conv2DBackpropFilter', x.shape, filterShape, attrs);
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const [, h, w] = x.shape;
  if (dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== info.outChannels || dy.shape[0] !== x.shape[0]) {
    throw new Error(
      `wasm-kernels Conv2DBackpropFilter: dy shape [${dy.shape}] does not match the forward output ` +
        `[${x.shape[0]},${oh},${ow},${info.outChannels}] of input [${x.shape}] and filter [${filterShape}]`,
    );
  }
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [C, H, W, N]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, N, O]
  const pads = {
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: fh + sh * (oh - 1) - h - info.padInfo.top,
    right: fw + sw * (ow - 1) - w - info.padInfo.left,
  };
  const g = conv2dAnyPad(backend, xT, dyT, pads, [sh, sw]); // [C, fh, fw, O]
  free(backend, xT, dyT);
  if (g === null) {
    return runWasm('Fill', backend, {}, { shape: filterShape, value: 0, dtype: 'float32' });
  }
  const dW = transpose(backend, g, [1, 2, 0, 3]); // [fh, fw, C, O]
  free(backend, g);
  return dW;
}
