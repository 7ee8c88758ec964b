/**
 * The papers' numbers (data/paper-numbers.json), each with its source, and the "ours beside the
 * paper's" comparison table of the notebooks. Values the accessible sources do not carry are
 * `null` with status 'NOT FOUND' and are shown as such, never filled in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson } from '../util/fsx';
import type { Row } from './table';

export interface PaperSource {
  /** Paper (authors, title, venue, arXiv id) or repository. */
  paper: string;
  /** Table / figure / section. */
  where: string;
  /** PAPER, CODE, 2ND (secondary: a hint, not a target) or NOT FOUND. */
  evidence: string;
}

export interface PaperEntry {
  setting: string;
  /** The swept parameters of this entry (e.g. {K: 4096}). */
  params: Record<string, string | number | boolean>;
  value: number | null;
  /** 'found', 'NOT FOUND', or a word for a non-numeric result ('failed to converge', 'qualitative'). */
  status: string;
  source: PaperSource;
  note?: string;
}

export interface PaperAblation {
  claim: string;
  param: string;
  metric: string;
  entries: PaperEntry[];
}

/** data/paper-numbers.json of this package (works from src/ under tsx and from dist/). */
export function paperNumbersFile(): string {
  const candidates = [path.join(__dirname, '..', '..', 'data', 'paper-numbers.json'), path.join(process.cwd(), 'data', 'paper-numbers.json')];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new Error(`paper-numbers.json not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** All ablations with the papers' numbers, checked for the fields every entry needs. */
export function loadPaperNumbers(file = paperNumbersFile()): Record<string, PaperAblation> {
  const doc = readJson<{ ablations?: Record<string, PaperAblation> }>(file);
  if (!doc.ablations || typeof doc.ablations !== 'object') throw new Error(`${file}: missing object 'ablations'`);
  for (const [name, ab] of Object.entries(doc.ablations)) {
    if (!Array.isArray(ab.entries)) throw new Error(`${file}: ablations.${name}.entries must be an array`);
    ab.entries.forEach((e, i) => {
      const at = `${file}: ablations.${name}.entries[${i}]`;
      if (typeof e.setting !== 'string' || !e.setting) throw new Error(`${at}.setting must be a non-empty string`);
      if (!e.source || typeof e.source.paper !== 'string' || typeof e.source.where !== 'string' || typeof e.source.evidence !== 'string') {
        throw new Error(`${at}.source needs paper, where and evidence`);
      }
      if (e.value !== null && typeof e.value !== 'number') throw new Error(`${at}.value must be a number or null`);
      if ((e.value === null) === (e.status === 'found')) throw new Error(`${at}: status '${e.status}' does not match value ${e.value}`);
    });
  }
  return doc.ablations;
}

/** One ablation's paper numbers; the error lists the known names. */
export function paperAblation(name: string, file?: string): PaperAblation {
  const all = loadPaperNumbers(file);
  const ab = all[name];
  if (!ab) throw new Error(`no paper numbers for '${name}'; known: ${Object.keys(all).join(', ')}`);
  return ab;
}

/** The paper's value as table text: the number, or its status (NOT FOUND, failed to converge...). */
export function paperValueText(e: PaperEntry): string | number {
  return e.value ?? e.status;
}

/** Flat rows of one ablation's paper numbers (setting, value, metric, source). */
export function paperRows(name: string, file?: string): Row[] {
  const ab = paperAblation(name, file);
  return ab.entries.map((e) => ({
    setting: e.setting,
    paper: paperValueText(e),
    metric: ab.metric,
    source: e.source.paper.split(',')[0],
    where: e.source.where,
    evidence: e.source.evidence,
  }));
}

/** Our result at one value of the swept parameter (mean and std over seeds). */
export interface OurPoint {
  value: string | number | boolean;
  mean: number | null;
  std?: number | null;
  seeds?: number;
}

/**
 * Our results beside the paper's: one row per swept value we ran, with the paper entry of the
 * same parameter value when there is one, then the paper's remaining entries (ours empty).
 * `param` is the key in the entries' params (e.g. 'K'); `scale` multiplies our numbers
 * (100 turns accuracies in [0, 1] into %).
 */
export function comparisonRows(
  name: string,
  param: string,
  ours: OurPoint[],
  opts: { ourMetric?: string; scale?: number; file?: string } = {},
): Row[] {
  const ab = paperAblation(name, opts.file);
  const scale = opts.scale ?? 1;
  const ourLabel = opts.ourMetric ?? 'ours';
  const used = new Set<PaperEntry>();
  const round = (v: number) => Number(v.toFixed(3));
  const rows: Row[] = [...ours]
    .sort((a, b) => (typeof a.value === 'number' && typeof b.value === 'number' ? a.value - b.value : String(a.value).localeCompare(String(b.value))))
    .map((o) => {
      const match = ab.entries.find((e) => !used.has(e) && e.params[param] === o.value);
      if (match) used.add(match);
      return {
        [param]: o.value,
        [ourLabel]: o.mean === null ? null : round(o.mean * scale),
        [`${ourLabel} std`]: o.std === null || o.std === undefined ? null : round(o.std * scale),
        seeds: o.seeds ?? null,
        paper: match ? paperValueText(match) : 'no entry',
        'paper setting': match?.setting ?? '',
        source: match ? `${match.source.paper.split(',')[0]}, ${match.source.where} [${match.source.evidence}]` : '',
      };
    });
  for (const e of ab.entries) {
    if (used.has(e)) continue;
    rows.push({
      [param]: e.params[param] ?? '',
      [ourLabel]: null,
      [`${ourLabel} std`]: null,
      seeds: null,
      paper: paperValueText(e),
      'paper setting': e.setting,
      source: `${e.source.paper.split(',')[0]}, ${e.source.where} [${e.source.evidence}]`,
    });
  }
  return rows;
}
