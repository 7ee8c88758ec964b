/**
 * The whole-sweep ETA: each point's wall time is recorded when the next one starts (or at the
 * end); points that return at once (complete on disk) are not counted as trained. The estimate is
 * the mean time of the trained points times the points still to go.
 */
export interface SweepEta {
  /** Call when point `index` (0-based) of `total` starts; returns the ETA line for the sweep. */
  start(index: number, total: number): string;
  /** Seconds per trained point so far (undefined before the first one). */
  readonly perPoint: number | undefined;
}

/** Points that took less than this were skipped (complete on disk), not trained. */
const SKIPPED_S = 3;

/** A duration for people: seconds under 90 s, minutes under 90 min, else hours. */
export function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function sweepEta(now: () => number = Date.now): SweepEta {
  const trained: number[] = [];
  let startedAt: number | undefined;
  const eta: SweepEta = {
    start(index: number, total: number): string {
      const t = now();
      if (startedAt !== undefined) {
        const s = (t - startedAt) / 1000;
        if (s >= SKIPPED_S) trained.push(s);
      }
      startedAt = t;
      const left = total - index;
      const per = eta.perPoint;
      if (per === undefined) return `sweep: point ${index + 1}/${total}, no ETA yet (no point trained so far)`;
      return `sweep: point ${index + 1}/${total}, about ${duration(per * left)} left (${left} point${left === 1 ? '' : 's'} at ${duration(per)} each, from ${trained.length} trained)`;
    },
    get perPoint() {
      return trained.length ? trained.reduce((a, b) => a + b, 0) / trained.length : undefined;
    },
  };
  return eta;
}
