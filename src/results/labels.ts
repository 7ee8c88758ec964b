/**
 * Labels and axes of results: a group's name in the papers' notation, the params that vary
 * between groups shown together, an experiment's name without its budget, and how a swept
 * parameter is drawn on x.
 */
import type { ParamValue } from '../experiments/sweep';

/** The experiment name without its budget suffix (`moco-queue-quick` -> `moco-queue`). */
export function experimentBase(experiment: string): string {
  return experiment.replace(/-(smoke|quick|paper)$/, '');
}

const num = (v: unknown): string => (typeof v === 'number' ? String(v) : String(v));

/**
 * A group's label in the papers' notation: `MoCo K=4096, m=0.99`, `MoCHi (256, 256, 64)`,
 * `MoCo v2 + oracle`, `MixCo beta=1 / MoCo`, `SupCon T=0.1`, `CE`; other params as `k=v`.
 * `vary` (the params that differ between the groups shown together) keeps labels short: a param
 * every group shares (e.g. the encoder) is left out.
 */
export function groupLabel(params: Record<string, ParamValue>, vary?: string[]): string {
  const p = params;
  const shows = (k: string) => !vary || vary.includes(k);
  if (typeof p.variant === 'string') {
    // MoCHi ablation: variant 'MoCo v2', 'MoCHi', 'MoCo v2 + oracle', 'MoCHi + oracle'.
    const mochi = p.variant.startsWith('MoCHi');
    const triple = mochi && p.N !== undefined ? ` (${num(p.N)}, ${num(p.s)}, ${num(p.sPrime)})` : '';
    return mochi ? `MoCHi${triple}${p.oracle ? ' + oracle' : ''}` : p.variant;
  }
  if (p.base !== undefined && p.beta !== undefined) {
    const base = p.base === 'simclr' ? 'SimCLR' : p.base === 'moco' ? 'MoCo' : String(p.base);
    const enc = shows('encoder') && p.encoder !== undefined ? `, ${num(p.encoder)}${p.arch !== undefined ? ` (${num(p.arch)})` : ''}` : '';
    return `${Number(p.beta) > 0 ? `MixCo beta=${num(p.beta)} / ` : ''}${base}${enc}`;
  }
  if (typeof p.loss === 'string') return p.loss === 'CE' ? 'CE' : `${p.loss} T=${num(p.T)}`;
  if (p.K !== undefined || p.m !== undefined) {
    const parts = (['K', 'm'] as const).filter((k) => p[k] !== undefined && (shows(k) || !vary)).map((k) => `${k}=${num(p[k])}`);
    return `MoCo ${parts.join(', ')}`.trim();
  }
  const keys = Object.keys(p).filter((k) => k !== 'sweep' && k !== 'seed' && shows(k));
  return keys.length ? keys.map((k) => `${k}=${num(p[k])}`).join(', ') : 'run';
}

/** Params whose values differ between the groups. */
export function varyingParams(groups: { params: Record<string, ParamValue> }[]): string[] {
  const keys = [...new Set(groups.flatMap((g) => Object.keys(g.params)))];
  return keys.filter((k) => new Set(groups.map((g) => String(g.params[k]))).size > 1);
}

/** True when `values` are positive and span at least `ratio` (then a log axis shows them apart). */
export function wantsLogAxis(values: number[], ratio = 20): boolean {
  return values.length >= 2 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= ratio;
}

/**
 * How a swept parameter is drawn on x: momentum m as 1 - m (0.9 ... 0.9999 are 0.1 ... 1e-4 apart on a
 * log scale, not crowded into [0.9, 1]); everything else as is. The axis is log when the values
 * drawn (ours and the paper's together) span a factor of 20 or more.
 */
export function sweepAxis(param: string, values: number[]): { title: string; map: (v: number) => number; log: boolean } {
  if (param === 'm') {
    const mapped = values.map((v) => 1 - v).filter((v) => v > 0);
    return { title: '1 - m (momentum; log scale)', map: (v) => 1 - v, log: wantsLogAxis(mapped, 5) };
  }
  const log = wantsLogAxis(values);
  return { title: `${param}${log ? ' (log scale)' : ''}`, map: (v) => v, log };
}
