/**
 * Every method's parameters in one table: its reference defaults and its schema, both defined
 * beside the method (moco.ts, mochi.ts, ...). Run-config validation and `createMethod` check a
 * method config here, so each rule is written once.
 */
import type { MethodConfig, MethodName } from '../types';
import { checkObject } from '../util/validate';
import { CE_DEFAULTS, CE_SCHEMA } from './ce';
import { MIXCO_DEFAULTS, MIXCO_SCHEMA } from './mixco';
import { MOCHI_DEFAULTS, MOCHI_SCHEMA } from './mochi';
import { MOCO_DEFAULTS, MOCO_SCHEMA } from './moco';
import type { ParamSchema } from './params-schema';
import { SIMCLR_DEFAULTS, SIMCLR_SCHEMA } from './simclr';
import { SUPCON_DEFAULTS, SUPCON_SCHEMA } from './supcon';

export type { ParamSchema } from './params-schema';

export const METHOD_PARAMS: { [N in MethodName]: { defaults: Extract<MethodConfig, { name: N }>; schema: ParamSchema } } = {
  moco: { defaults: MOCO_DEFAULTS, schema: MOCO_SCHEMA },
  mochi: { defaults: MOCHI_DEFAULTS, schema: MOCHI_SCHEMA },
  mixco: { defaults: MIXCO_DEFAULTS, schema: MIXCO_SCHEMA },
  simclr: { defaults: SIMCLR_DEFAULTS, schema: SIMCLR_SCHEMA },
  supcon: { defaults: SUPCON_DEFAULTS, schema: SUPCON_SCHEMA },
  ce: { defaults: CE_DEFAULTS, schema: CE_SCHEMA },
};

const names = () => Object.keys(METHOD_PARAMS).join(', ');

/** The reference defaults of `name`, with `overrides` applied (unknown fields are an error). */
export function defaultMethodConfig<N extends MethodName>(
  name: N,
  overrides: Partial<Omit<Extract<MethodConfig, { name: N }>, 'name'>> = {},
): Extract<MethodConfig, { name: N }> {
  const entry = METHOD_PARAMS[name];
  if (!entry) throw new Error(`method.name: unknown method '${name}' (${names()})`);
  const base = entry.defaults;
  for (const key of Object.keys(overrides)) {
    if (!(key in base)) throw new Error(`defaultMethodConfig('${name}'): unknown field '${key}' (fields: ${Object.keys(base).join(', ')})`);
  }
  return { ...base, ...overrides, name } as Extract<MethodConfig, { name: N }>;
}

/** Every problem of a method config, each naming its field under `path` (`method.K must be ...`). */
export function methodParamProblems(o: Record<string, unknown>, path = 'method'): string[] {
  const entry = METHOD_PARAMS[o.name as MethodName];
  if (!entry) return [`${path}.name must be one of ${names()}, got ${JSON.stringify(o.name)}`];
  const errors: string[] = [];
  if (checkObject(path, o, entry.schema.fields, errors) && entry.schema.rules) errors.push(...entry.schema.rules(o, path));
  return errors;
}

/** Throws one error listing every problem of a method config. */
export function checkMethodConfig(cfg: MethodConfig): void {
  const errors = methodParamProblems(cfg as unknown as Record<string, unknown>);
  if (errors.length) throw new Error(errors.length === 1 ? errors[0] : `invalid method config: ${errors.join('; ')}`);
}
