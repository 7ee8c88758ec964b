/**
 * Live progress over a sweep in a notebook: one progress display per point, with the sweep's
 * ETA in its title; a point already complete on disk says so instead of training again.
 */
import { sweepEta } from '../experiments/sweep-eta';
import { escapeHtml } from '../plots/html';
import { progressDisplay, showHtml, type ProgressDisplay, type ProgressInfo } from '../plots/notebook';

export interface SweepProgress {
  /** Pass both to `sweep(..., {onPoint, onProgress})`. */
  onPoint: (p: { index: number; runId: string }, total: number) => void;
  onProgress: (e: ProgressInfo) => void;
  /** Closes the last point's display. */
  finish: () => void;
}

/**
 * One live progress display per sweep point (a point already complete on disk says so instead of
 * training again). Feed `onPoint` and `onProgress` to `sweep`.
 */
export function sweepProgressDisplay(opts: { minIntervalMs?: number } = {}): SweepProgress {
  let current: ProgressDisplay | undefined;
  let events = 0;
  let title = '';
  let pointId = '';
  const eta = sweepEta();
  const close = () => {
    if (current) current.finish(events ? 'done' : 'already complete on disk (skipped)');
    else if (title) showHtml(`<div style="font-family:monospace;font-size:12px">${escapeHtml(title)} ${escapeHtml(pointId)}: already complete on disk (skipped)</div>`, `${title} ${pointId}: already complete on disk (skipped)`);
    current = undefined;
    title = '';
  };
  return {
    onPoint: (p, total) => {
      close();
      events = 0;
      const line = eta.start(p.index, total);
      title = `point ${p.index + 1}/${total}${eta.perPoint !== undefined ? ` (${line.slice(line.indexOf(', ') + 2)})` : ''}`;
      pointId = p.runId;
    },
    onProgress: (e) => {
      events += 1;
      current ??= progressDisplay({ title, minIntervalMs: opts.minIntervalMs });
      current.onProgress(e);
    },
    finish: close,
  };
}
