/**
 * Training progress: a one-line bar on stderr (epoch, step, loss, images/s, ETA), redrawn in
 * place on a terminal and printed every few seconds otherwise, plus the structured event that
 * `run(..., {onProgress})` hands to notebooks for a live display.
 */
export interface ProgressEvent {
  phase: 'train' | 'eval' | 'epoch' | 'done';
  runId: string;
  /** 1-based epoch being trained (or just finished for 'epoch'). */
  epoch: number;
  epochs: number;
  /** 1-based step within the epoch. */
  step: number;
  steps: number;
  /** Running mean loss of the epoch so far. */
  loss: number;
  lr: number;
  imagesPerSec: number;
  /** Estimated seconds left for the training epochs (NaN before the first timing). */
  etaSec: number;
  /** Latest metrics (epoch means, kNN accuracy after an eval, ...). */
  metrics: Record<string, number>;
  message?: string;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export function formatProgress(p: ProgressEvent): string {
  if (p.phase === 'eval') return `${p.runId} epoch ${p.epoch}/${p.epochs} ${p.message ?? 'evaluating'}`;
  const width = 20;
  const frac = p.steps ? p.step / p.steps : 0;
  const filled = Math.round(frac * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const extra = Object.entries(p.metrics)
    .filter(([k]) => k === 'knnAcc' || k === 'proxyAcc')
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(' ');
  return (
    `${p.runId} epoch ${p.epoch}/${p.epochs} [${bar}] step ${p.step}/${p.steps} ` +
    `loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : p.loss} ${p.imagesPerSec.toFixed(0)} img/s ETA ${formatDuration(p.etaSec)}` +
    (extra ? ` ${extra}` : '')
  );
}

export class ProgressBar {
  private lastPrint = 0;
  private drawn = false;
  /** `stream` null: silent (a default parameter would turn undefined into stderr). */
  constructor(
    private readonly stream: NodeJS.WriteStream | null = process.stderr,
    private readonly intervalMs = process.stderr.isTTY ? 200 : 10_000,
  ) {}

  update(p: ProgressEvent, force = false): void {
    if (!this.stream) return;
    const now = Date.now();
    if (!force && now - this.lastPrint < this.intervalMs) return;
    this.lastPrint = now;
    const line = formatProgress(p);
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.stream.write(`[cwb] ${line}\n`);
    }
  }

  /** Print a line that stays (epoch summaries, evals). */
  log(line: string): void {
    if (!this.stream) return;
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
    this.stream.write(`[cwb] ${line}\n`);
  }

  end(): void {
    if (this.stream && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
