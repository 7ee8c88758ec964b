/** "Did you mean" for mistyped names: the closest candidates by edit distance. */

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours (case-insensitive). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_v, i) =>
    Array.from({ length: t.length + 1 }, (_w, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/**
 * The candidates close to `word` (distance at most a third of its length, at least 1; or a
 * candidate that starts with it), closest first.
 */
export function closest(word: string, candidates: readonly string[], max = 3): string[] {
  const limit = Math.max(1, Math.floor(word.length / 3));
  return candidates
    .map((c) => ({ c, d: c.toLowerCase().startsWith(word.toLowerCase()) && word.length >= 2 ? 0.5 : editDistance(word, c) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d)
    .slice(0, max)
    .map((x) => x.c);
}

/** " (did you mean 'x'?)" or " (did you mean 'x' or 'y'?)", or '' when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[], prefix = ''): string {
  const c = closest(word, candidates);
  if (!c.length) return '';
  return ` (did you mean ${c.map((x) => `'${prefix}${x}'`).join(' or ')}?)`;
}
