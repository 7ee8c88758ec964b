/** How a method states its parameters: field checks (unknown fields are errors) and cross-field rules. */
import type { Spec } from '../util/validate';

export interface ParamSchema {
  fields: Spec;
  /** Problems between fields (e.g. MoCHi's N <= K), each a sentence naming the field under `path`. */
  rules?: (o: Record<string, unknown>, path: string) => string[];
}
