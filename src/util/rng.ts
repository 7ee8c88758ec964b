/**
 * Seeded, serialisable random numbers for everything the host decides (shuffles, mix pairs,
 * augmentation parameters). Tensor-side randomness takes its seeds from here (`nextSeed`), so one
 * run seed fixes the whole run and a checkpoint can store the generator state and resume it.
 *
 * The generator is sfc32 (small fast counter), seeded through splitmix32.
 */
export interface RngState {
  s: [number, number, number, number];
}

function splitmix32(a: number): () => number {
  return () => {
    a |= 0;
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t = t ^ (t >>> 15);
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

export class Rng {
  private s: Uint32Array;

  constructor(seed: number | RngState = 0) {
    this.s = new Uint32Array(4);
    if (typeof seed === 'number') {
      const sm = splitmix32(seed >>> 0);
      for (let i = 0; i < 4; i++) this.s[i] = sm();
      for (let i = 0; i < 12; i++) this.nextUint32();
    } else {
      this.setState(seed);
    }
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const t = (((s[0] + s[1]) >>> 0) + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
    s[2] = (s[2] + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A seed for a TF.js random op (tf.randomUniform(..., seed)). */
  nextSeed(): number {
    return this.nextUint32();
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** An independent generator derived from this one (advances this one by 4 draws). */
  fork(): Rng {
    return new Rng({ s: [this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32() | 1] });
  }

  getState(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]] };
  }

  setState(state: RngState): void {
    if (!state || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new Error(`Rng.setState: expected {s: [4 numbers]}, got ${JSON.stringify(state)}`);
    }
    for (let i = 0; i < 4; i++) this.s[i] = state.s[i] >>> 0;
  }
}

/**
 * A seed for TF.js's random ops derived from an integer seed. TF.js treats a falsy seed (0) as
 * "no seed" and draws from Math.random, so seed 0 must never reach it directly.
 */
export function tfSeedOf(seed: number): number {
  return new Rng(seed).nextUint32() || 1;
}
