/**
 * What the PyTorch twin gives for the same run, for the ablation notebooks: the saved
 * comparisons of `cwb parity` (data/parity/ of this package, written with `--save`, and any
 * parity.json under a results folder), read back and said in one sentence.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParityResult, Stat } from '../experiments/parity';
import { readJson } from '../util/fsx';

export type SavedParity = Omit<ParityResult, 'dir'>;

/** data/parity of this package (works from src/ under tsx and from dist/). */
export function packageParityDir(): string {
  return path.join(__dirname, '..', '..', 'data', 'parity');
}

/** Every parity comparison saved under these folders (searched three levels deep), newest first per file name. */
export function readParityResults(dirs: string[] = [packageParityDir()]): SavedParity[] {
  const out: SavedParity[] = [];
  const walk = (dir: string, depth: number) => {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return;
    for (const f of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, f);
      if (fs.statSync(p).isDirectory()) {
        if (depth > 0) walk(p, depth - 1);
      } else if (f === 'parity.json' || /^parity-.*\.json$/.test(f)) {
        const r = readJson<SavedParity>(p);
        if (!r || typeof r.method !== 'string' || !r.final) throw new Error(`${p}: not a parity comparison (no method / final)`);
        out.push(r);
      }
    }
  };
  for (const d of dirs) walk(d, 3);
  return out;
}

const pct = (s: Stat | null) => (s ? `${(100 * s.mean).toFixed(1)}%${s.n > 1 ? ` ± ${(100 * s.std).toFixed(1)}` : ''}` : '-');

/**
 * "At the parity budget, the same run in PyTorch gives ..." for `method` (and queue size K), one
 * sentence per saved comparison (the one with the most seeds first); or how to make one.
 */
export function parityStatement(saved: SavedParity[], method: string, K?: number): string {
  // The same comparison may be saved twice (data/parity and the results folder): keep the one with the most seeds.
  const best = new Map<string, SavedParity>();
  for (const r of saved) {
    if (r.method !== method || (K !== undefined && r.K !== K)) continue;
    const key = `${r.budget}|${r.K ?? ''}|${r.configHash}`;
    const prev = best.get(key);
    if (!prev || r.seeds.length > prev.seeds.length) best.set(key, r);
  }
  const hits = [...best.values()].sort((a, b) => (a.K ?? 0) - (b.K ?? 0) || b.seeds.length - a.seeds.length);
  const what = `${method}${K !== undefined ? ` K=${K}` : ''}`;
  if (!hits.length) {
    return `No parity comparison of ${what} is saved yet: \`npm run parity -- --method ${method}${K !== undefined ? ` --K ${K}` : ''} --seeds 3 --save data/parity\` trains the same run in the workbench and in its PyTorch twin.`;
  }
  return hits
    .map((r) => {
      const f = r.final;
      const n = Math.min(f.knnAcc.workbench?.n ?? 0, f.knnAcc.torch?.n ?? 0);
      const d = f.knnAcc.diff;
      const diff = d ? `${(100 * d.mean).toFixed(1)} points${d.ci95 ? ` (95% interval ${(100 * d.ci95[0]).toFixed(1)} to ${(100 * d.ci95[1]).toFixed(1)})` : ''}` : '-';
      const ds = r.config.dataset;
      const data = `${ds.name}${ds.trainSubset ? ` ${ds.trainSubset}/${ds.testSubset ?? '-'}` : ''}`;
      return (
        `At the ${r.budget} budget (${data}, ${r.config.encoder.arch}, ${r.config.epochs} epochs), the same ${r.method}${r.K ? ` K=${r.K}` : ''} run ` +
        `in PyTorch ${r.torchVersion ?? ''} gives kNN ${pct(f.knnAcc.torch)} and the workbench (${r.backend}) ${pct(f.knnAcc.workbench)} ` +
        `over ${n} seed${n === 1 ? '' : 's'}: a difference of ${diff}; linear probe ${pct(f.linearAcc.torch)} vs ${pct(f.linearAcc.workbench)}.`
      );
    })
    .join('\n\n');
}
