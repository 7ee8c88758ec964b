/** Builds a Method from the plain-JSON configs of src/types.ts. */
import type { EncoderConfig, Method, MethodConfig, OptimizerConfig } from '../types';
import type { DataShape } from './base';
import { CrossEntropyBaseline } from './ce';
import { Mixco } from './mixco';
import { Moco } from './moco';
import { Mochi } from './mochi';
import { checkMethodConfig } from './params';
import { Simclr } from './simclr';
import { Supcon } from './supcon';

export function createMethod(
  cfg: { method: MethodConfig; encoder: EncoderConfig; optimizer: OptimizerConfig },
  data: DataShape,
  seed: number,
): Method {
  const init = { encoder: cfg.encoder, optimizer: cfg.optimizer, data, seed };
  const m = cfg.method;
  checkMethodConfig(m);
  switch (m.name) {
    case 'moco':
      return new Moco(m, init);
    case 'mochi':
      return new Mochi(m, init);
    case 'mixco':
      return new Mixco(m, init);
    case 'simclr':
      return new Simclr(m, init);
    case 'supcon':
      return new Supcon(m, init);
    case 'ce':
      return new CrossEntropyBaseline(m, init);
    default:
      throw new Error(`method.name: unknown method '${(m as MethodConfig).name}' (moco, mochi, mixco, simclr, supcon, ce)`);
  }
}
