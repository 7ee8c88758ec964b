/**
 * Field checks for plain-JSON configs: each returns the problem as a sentence naming the field
 * (`method.K must be a positive integer, got -3`), or undefined when the value is fine.
 */

export type Check = (path: string, v: unknown) => string | undefined;

export const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : JSON.stringify(v));
export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export const posInt: Check = (p, v) => (isInt(v) && v > 0 ? undefined : `${p} must be a positive integer, got ${show(v)}`);
export const nonNegInt: Check = (p, v) => (isInt(v) && v >= 0 ? undefined : `${p} must be a non-negative integer, got ${show(v)}`);
export const int: Check = (p, v) => (isInt(v) ? undefined : `${p} must be an integer, got ${show(v)}`);
export const positive: Check = (p, v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : `${p} must be a positive number, got ${show(v)}`;
export const nonNeg: Check = (p, v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : `${p} must be a non-negative number, got ${show(v)}`;
export const unit01: Check = (p, v) => (typeof v === 'number' && v >= 0 && v < 1 ? undefined : `${p} must be a number in [0, 1), got ${show(v)}`);
export const bool: Check = (p, v) => (typeof v === 'boolean' ? undefined : `${p} must be true or false, got ${show(v)}`);
export const str: Check = (p, v) => (typeof v === 'string' && v.length > 0 ? undefined : `${p} must be a non-empty string, got ${show(v)}`);
export const oneOf =
  (values: readonly string[]): Check =>
  (p, v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `${p} must be one of ${values.join(', ')}, got ${show(v)}`;
export const optional =
  (c: Check): Check =>
  (p, v) =>
    v === undefined ? undefined : c(p, v);

export interface Spec {
  [key: string]: Check;
}

/** Checks every field of an object against a spec; unknown fields are errors too (typos). */
export function checkObject(path: string, v: unknown, spec: Spec, errors: string[], extraKnown: string[] = []): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    errors.push(`${path} must be an object, got ${show(v)}`);
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const [k, check] of Object.entries(spec)) {
    const e = check(path ? `${path}.${k}` : k, o[k]);
    if (e) errors.push(e);
  }
  const known = new Set([...Object.keys(spec), ...extraKnown]);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) {
      const near = [...known].find((kk) => kk.toLowerCase() === k.toLowerCase());
      errors.push(`${path ? `${path}.${k}` : k} is not a known field${near ? ` (did you mean ${near}?)` : ''}`);
    }
  }
  return true;
}
