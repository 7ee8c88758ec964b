/**
 * A sweep with its results: runs every point (or only `opts.index`) with the sweep engine of
 * experiments/sweep.ts, and returns its result with a `ResultsTable` of exactly the sweep's points
 * that are on disk, in point order.
 */
import type { RunConfig } from '../experiments/config';
import { runSweep, type Grid, type PointSpec, type SweepOptions, type SweepResult } from '../experiments/sweep';
import { ResultsTable } from './table';

export interface SweepTableResult extends SweepResult {
  /** The records of the sweep's points (a point not started yet is left out). */
  table: ResultsTable;
}

/**
 * Run a sweep: skips complete runs and resumes an unfinished one. Returns the points, the runs of
 * this call, one row per point (pending ones included), the rows as a DataFrame, and the table of
 * the points' records: `res.table.where({ sweep: 'K' }).series('K', 'knnAcc')`.
 */
export async function sweep(
  base: RunConfig,
  spec: Grid | (PointSpec | Record<string, unknown>)[],
  opts: SweepOptions = {},
): Promise<SweepTableResult> {
  const res = await runSweep(base, spec, opts);
  // Assigned onto the result itself: copying it would build its lazy DataFrame.
  return Object.assign(res, { table: ResultsTable.ofRunDirs(res.points.map((p) => p.dir)) });
}
