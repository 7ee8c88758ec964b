/**
 * stopGradient(x): the value of x, with zero gradient (TF.js has no stop_gradient op, see
 * docs/references.md#stop-gradient). Used for MoCHi's detached query inside h' and for the detached row max of SupCon.
 */
import * as tf from '@tensorflow/tfjs';

const sg = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return sg(x) as T;
}

/**
 * Runs `fn(...inputs)` so that its result is a constant for every gradient tape: the ops inside
 * run within a custom-gradient kernel (not recorded) and the gradient to each input is zero. Used
 * for MoCHi's synthetic negatives, whose top-N selection and index gathers (int32) must not be on
 * the tape at all.
 */
export function detached<T extends tf.Tensor>(fn: (...xs: tf.Tensor[]) => T, ...inputs: tf.Tensor[]): T {
  const f = tf.customGrad(((...xs: tf.Tensor[]) => ({
    value: fn(...xs.slice(0, inputs.length)),
    gradFunc: () => inputs.map((x) => tf.zerosLike(x)),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(...inputs) as T;
}

/**
 * `detached` for a function of several float outputs: they are computed once, inside one
 * custom-gradient kernel, and come back as constants in the order `fn` returns them.
 */
export function detachedMany(fn: (...xs: tf.Tensor[]) => tf.Tensor[], ...inputs: tf.Tensor[]): tf.Tensor[] {
  let shapes: number[][] = [];
  const packed = detached(
    (...xs) => {
      const outs = fn(...xs);
      for (const o of outs) if (o.dtype !== 'float32') throw new Error(`detachedMany: outputs must be float32, got ${o.dtype}`);
      shapes = outs.map((o) => o.shape);
      const flat = outs.filter((o) => o.size > 0).map((o) => o.reshape([-1]));
      return (flat.length ? tf.concat(flat) : tf.zeros([0])) as tf.Tensor1D;
    },
    ...inputs,
  );
  let offset = 0;
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const part = size > 0 ? packed.slice(offset, size).reshape(shape) : tf.zeros(shape);
    offset += size;
    return part;
  });
}
