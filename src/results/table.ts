/**
 * A table of run records: filter by params (`where`), aggregate over seeds (`groups`), draw
 * mean +- std per value of a param (`series`), or take one CSV row per run (`rows`).
 */
import type { Series } from '../plots/figure';
import type { ParamValue } from '../experiments/sweep';
import { aggregate, groupSeries, type GroupRow } from './aggregate';
import { listRuns, readRunRecord, runRow, type ReportRow, type RunRecord } from './records';

export class ResultsTable {
  /** The runs of the table, in their order (a sweep's: its point order). */
  readonly records: readonly RunRecord[];

  constructor(records: readonly RunRecord[]) {
    this.records = [...records];
  }

  /** Every run of one experiment on disk. */
  static read(resultsDir: string | undefined, experiment: string): ResultsTable {
    return new ResultsTable(listRuns(resultsDir, experiment));
  }

  /** The runs of these run folders, in that order; a folder without config.json (not started) is left out. */
  static ofRunDirs(dirs: string[]): ResultsTable {
    return new ResultsTable(dirs.map(readRunRecord).filter((r): r is RunRecord => r !== undefined));
  }

  /** Number of runs. */
  get size(): number {
    return this.records.length;
  }

  /** The runs whose params (config.params) equal every given value: `where({ sweep: 'K' })`. */
  where(filter: Record<string, ParamValue>): ResultsTable {
    const keep = (r: RunRecord) => Object.entries(filter).every(([k, v]) => (r.config.params ?? {})[k] === v);
    return new ResultsTable(this.records.filter(keep));
  }

  /** Finished runs grouped by their params except the seed: mean and std of each metric. */
  groups(): GroupRow[] {
    return aggregate(this.records);
  }

  /**
   * One series per combination of the `by` params: x = the numeric param `x`, y = the metric's
   * mean over seeds, with its std as error bars when a point has several seeds.
   */
  series(x: string, metric: string, by: string[] = []): Series[] {
    return groupSeries(this.groups(), x, metric, by);
  }

  /** One CSV row per run (pending runs included): id, name, status, params, metrics. */
  rows(): ReportRow[] {
    return this.records.map(runRow);
  }
}
