/**
 * A paper's claim read against our groups: "A beats B" (or "the gain of A over B exceeds that of
 * C over D") on a metric, judged against the spread over seeds. A difference counts only when it
 * is larger than the sum of the standard deviations over seeds of every group it is made of (a
 * plain, conservative reading for two or three seeds, where a t-interval with one or two degrees
 * of freedom would say nothing); below that it is within the seeds' spread, and with one seed per
 * group no spread is measured and nothing is decided.
 */
import { budgetSettings } from '../experiments/ablations';
import type { AblationName, Budget } from '../experiments/names';
import type { ParamValue } from '../experiments/sweep';
import type { Row } from '../plots/table';
import { type GroupRow, matches } from './aggregate';

export type Verdict = 'holds' | 'reversed' | 'within spread' | 'one seed' | 'missing';

/** One side of a claim: the groups matching `where`, under a readable name. */
export interface ClaimSide {
  name: string;
  where: Record<string, ParamValue>;
}

export interface Claim {
  /** The claim as the paper makes it, e.g. 'a larger queue helps (K = 1024 over K = 128)'. */
  text: string;
  better: ClaimSide;
  worse: ClaimSide;
  /** With these, the claim is that better - worse exceeds thanBetter - thanWorse (a gain larger than another). */
  than?: { better: ClaimSide; worse: ClaimSide };
}

export interface ClaimResult extends Row {
  claim: string;
  ours: string;
  /** Our difference in points (100 x the metric), positive when the claim's direction holds. */
  difference: number | null;
  /** Sum of the standard deviations over seeds of the groups involved, in points. */
  spread: number | null;
  verdict: Verdict;
}

function side(groups: GroupRow[], s: ClaimSide, metric: string): { g: GroupRow; mean: number; std: number } | undefined {
  const g = groups.find((x) => matches(x, s.where) && typeof x[metric] === 'number');
  if (!g) return undefined;
  const sd = g[`${metric}Std`];
  return { g, mean: 100 * (g[metric] as number), std: typeof sd === 'number' ? 100 * sd : 0 };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const pts = (x: number) => `${x.toFixed(1)}%`;
const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

/** Each claim against the groups on `metric` (default linearAcc): our numbers, the difference, the spread and the verdict. */
export function checkClaims(groups: GroupRow[], claims: Claim[], metric = 'linearAcc'): ClaimResult[] {
  return claims.map((c) => {
    const parts = [c.better, c.worse, ...(c.than ? [c.than.better, c.than.worse] : [])].map((s) => ({ s, v: side(groups, s, metric) }));
    const missing = parts.filter((p) => !p.v).map((p) => p.s.name);
    if (missing.length) return { claim: c.text, ours: `no result for ${missing.join(', ')}`, difference: null, spread: null, verdict: 'missing' as const };
    const v = parts.map((p) => p.v as NonNullable<typeof p.v>);
    const gain = (a: number, b: number) => v[a].mean - v[b].mean;
    const difference = c.than ? gain(0, 1) - gain(2, 3) : gain(0, 1);
    const spread = v.reduce((a, x) => a + x.std, 0);
    const oneSeed = v.some((x) => x.g.seeds < 2);
    const show = (i: number) => `${parts[i].s.name} ${pts(v[i].mean)}${v[i].g.seeds > 1 ? ` ± ${v[i].std.toFixed(1)}` : ''}`;
    const ours = c.than
      ? `${show(0)} vs ${show(1)} (${sign(gain(0, 1))}); ${show(2)} vs ${show(3)} (${sign(gain(2, 3))})`
      : `${show(0)} vs ${show(1)}`;
    // Decided on the figures as printed (0.1 point), so a sentence never reads "+0.9 points, spread 0.9: holds".
    const [d1, s1] = [round1(difference), round1(spread)];
    const verdict: Verdict = oneSeed ? 'one seed' : d1 > s1 ? 'holds' : -d1 > s1 ? 'reversed' : 'within spread';
    return { claim: c.text, ours, difference, spread: oneSeed ? null : spread, verdict };
  });
}

const SAYS: Record<Verdict, string> = {
  holds: 'holds here',
  reversed: 'is reversed here',
  'within spread': 'is within the seeds\u2019 spread here (neither confirmed nor refuted)',
  'one seed': 'is not decided (one seed per point, no spread measured)',
  missing: 'has no result yet',
};

/** The claims as sentences, one per claim: 'K = 1024 over K = 128 holds here (+2.1 points, spread 0.9).' */
export function claimSentences(results: ClaimResult[]): string[] {
  return results.map((r) => {
    const figures = r.difference === null ? '' : ` (${sign(r.difference)} points${r.spread === null ? '' : `, spread ${r.spread.toFixed(1)}`})`;
    return `${r.claim} ${SAYS[r.verdict]}${figures}.`;
  });
}

/** The claims each ablation's paper makes, in the params of its sweep points at `budget`. */
export function ablationClaims(name: AblationName, budget: Budget | string): Claim[] {
  const s = budgetSettings(budget as Budget);
  const by = (n: string, where: Record<string, ParamValue>): ClaimSide => ({ name: n, where });
  switch (name) {
    case 'moco-queue': {
      const [lo, hi] = [Math.min(...s.Ks), Math.max(...s.Ks)];
      return [
        { text: `A larger dictionary helps (MoCo Fig. 3): K = ${hi} over K = ${lo}`, better: by(`K=${hi}`, { sweep: 'K', K: hi }), worse: by(`K=${lo}`, { sweep: 'K', K: lo }) },
        {
          text: `A slowly evolving key encoder is essential (MoCo §4.1, m = 0 fails): m = ${s.m} over m = 0`,
          better: by(`m=${s.m}`, { K: s.K, m: s.m }),
          worse: by('m=0', { K: s.K, m: 0 }),
        },
      ];
    }
    case 'mochi':
      return [
        { text: 'Hard negative mixing helps (MoCHi Table 1): MoCHi over MoCo v2', better: by('MoCHi', { variant: 'MoCHi' }), worse: by('MoCo v2', { variant: 'MoCo v2' }) },
        {
          text: 'Removing false negatives helps (MoCHi §2.3, the class oracle): MoCo v2 + oracle over MoCo v2',
          better: by('MoCo v2 + oracle', { variant: 'MoCo v2 + oracle' }),
          worse: by('MoCo v2', { variant: 'MoCo v2' }),
        },
      ];
    case 'mixco': {
      const beta = s.betas.includes(1) ? 1 : Math.max(...s.betas);
      const mix = (base: string, encoder: string) => ({
        better: by(`${base} beta=${beta} (${encoder})`, { base, beta, encoder }),
        worse: by(`${base} beta=0 (${encoder})`, { base, beta: 0, encoder }),
      });
      const larger = s.mixcoLargerBases ?? ['moco', 'simclr'];
      return [
        { text: `MixCo improves MoCo v2 (MixCo Table 1): beta = ${beta} over 0, small encoder`, ...mix('moco', 'small') },
        { text: `MixCo improves SimCLR (MixCo Table 1): beta = ${beta} over 0, small encoder`, ...mix('simclr', 'small') },
        ...larger.map((b) => ({
          text: `The gain is larger for the smaller encoder (MixCo §4): ${b === 'moco' ? 'MoCo v2' : 'SimCLR'}, small against larger`,
          ...mix(b, 'small'),
          than: mix(b, 'larger'),
        })),
      ];
    }
    case 'supcon': {
      const Ts = s.temperatures;
      const hi = Math.max(...Ts);
      return [
        { text: `T = 0.1 is the best temperature (SupCon Fig. 4d): T = 0.1 over T = ${hi}`, better: by('SupCon T=0.1', { loss: 'SupCon', T: 0.1 }), worse: by(`SupCon T=${hi}`, { loss: 'SupCon', T: hi }) },
        { text: 'SupCon beats cross-entropy (SupCon Table 2): T = 0.1 over CE', better: by('SupCon T=0.1', { loss: 'SupCon', T: 0.1 }), worse: by('CE', { loss: 'CE' }) },
        { text: 'SupCon beats SimCLR (SupCon Table 2): T = 0.1 over SimCLR', better: by('SupCon T=0.1', { loss: 'SupCon', T: 0.1 }), worse: by('SimCLR', { loss: 'SimCLR' }) },
      ];
    }
  }
}
