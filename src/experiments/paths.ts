/** Where results live: <resultsDir>/<experiment>/<run-id>/ (root: option, $CWB_RESULTS_DIR, ./results). */
import * as path from 'path';

export function resultsRoot(dir?: string): string {
  return path.resolve(dir ?? process.env.CWB_RESULTS_DIR ?? 'results');
}

export function runDirOf(resultsDir: string | undefined, experiment: string, id: string): string {
  return path.join(resultsRoot(resultsDir), experiment, id);
}

export const FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  embeddings: 'embeddings.json',
  confusion: 'confusion.json',
} as const;
