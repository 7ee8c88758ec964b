/**
 * stopGradient(x): the value of x, with zero gradient (TF.js has no stop_gradient op, see
 * papers.md §0.2). Used for MoCHi's detached query inside h' and for the detached row max of SupCon.
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
