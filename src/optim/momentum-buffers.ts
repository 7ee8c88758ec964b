/** Zero-initialised momentum buffers, one per parameter, with checkpoint helpers shared by SGD and LARS. */
import * as tf from '@tensorflow/tfjs';

export class MomentumBuffers {
  readonly bufs = new Map<string, tf.Variable>();

  constructor(params: Map<string, tf.Variable>) {
    for (const [name, p] of params)
      this.bufs.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false, `cwb/opt/${name}/${bufCounter++}`)),
      );
  }

  get(name: string): tf.Variable {
    const b = this.bufs.get(name);
    if (!b) throw new Error(`optimizer: no momentum buffer for parameter '${name}'`);
    return b;
  }

  save(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, b] of this.bufs) out[`${name}.momentum_buffer`] = b.clone();
    return out;
  }

  load(tensors: Record<string, tf.Tensor>): void {
    for (const [name, b] of this.bufs) {
      const t = tensors[`${name}.momentum_buffer`];
      if (!t) throw new Error(`optimizer.setState: missing tensor '${name}.momentum_buffer'`);
      if (!tf.util.arraysEqual(t.shape, b.shape)) {
        throw new Error(`optimizer.setState: '${name}.momentum_buffer' has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(b.shape)}`);
      }
      b.assign(t);
    }
  }

  dispose(): void {
    for (const b of this.bufs.values()) b.dispose();
    this.bufs.clear();
  }
}

let bufCounter = 0;
