/**
 * Our results beside the papers': which sections of data/paper-numbers.json belong to each
 * experiment, the paper's points of a one-parameter sweep, and the reference rows with their
 * sources.
 */
import { loadPaperNumbers, paperValueText } from '../plots/paper-numbers';
import { experimentBase } from './labels';

/** The ablation key of data/paper-numbers.json per experiment (without its budget suffix). */
export const PAPER_SECTIONS: Record<string, string[]> = {
  'moco-queue': ['moco_queue_size', 'moco_momentum', 'moco_cifar_demo', 'cifar_reference'],
  mochi: ['mochi', 'cifar_reference'],
  mixco: ['mixco_beta', 'cifar_reference'],
  supcon: ['supcon_temperature', 'cifar_reference'],
  quickstart: ['moco_cifar_demo', 'cifar_reference'],
};

/** Which methods' CIFAR reproductions sit beside each experiment (none covers MoCHi or MixCo: their bases). */
const REFERENCE_METHODS: Record<string, string[]> = {
  'moco-queue': ['moco'],
  mochi: ['moco'],
  mixco: ['moco', 'simclr'],
  supcon: ['supcon', 'ce', 'simclr'],
  quickstart: ['moco'],
};

/** Paper numbers for a one-parameter sweep, where data/paper-numbers.json has them (ImageNet scale). */
const PAPER_KEYS: Record<string, string> = { 'moco-queue/K': 'moco_queue_size', 'moco-queue/m': 'moco_momentum' };

export function paperPoints(experiment: string, param: string): { value: number; score: number }[] {
  const key = PAPER_KEYS[`${experimentBase(experiment)}/${param}`];
  if (!key) return [];
  try {
    const ab = loadPaperNumbers()[key];
    if (!ab) return [];
    // Only entries that vary exactly this parameter and carry a number.
    return ab.entries
      .filter((e) => e.value !== null && Object.keys(e.params).length === 1 && typeof e.params[param] === 'number')
      .map((e) => ({ value: e.params[param] as number, score: e.value as number }));
  } catch {
    return [];
  }
}

/** The reference rows (setting, value, metric, source) of the paper-number sections of one experiment. */
export function referenceRows(experiment: string): Record<string, unknown>[] {
  const keys = PAPER_SECTIONS[experimentBase(experiment)] ?? [];
  let all: ReturnType<typeof loadPaperNumbers>;
  try {
    all = loadPaperNumbers();
  } catch {
    return [];
  }
  return keys.flatMap((k) => {
    const ab = all[k];
    if (!ab) return [];
    const methods = k === 'cifar_reference' ? REFERENCE_METHODS[experimentBase(experiment)] : undefined;
    return ab.entries
      .filter((e) => e.value !== null && (!methods || methods.includes(String(e.params.method))))
      .map((e) => ({ reference: k, setting: e.setting, value: paperValueText(e), metric: ab.metric, source: `${e.source.paper.split(',')[0]}, ${e.source.where} [${e.source.evidence}]` }));
  });
}
