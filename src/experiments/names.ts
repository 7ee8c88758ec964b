/** Names of the ablations and budgets (kept free of imports so the CLI's help loads instantly). */
export const BUDGETS = ['smoke', 'quick', 'paper'] as const;
export type Budget = (typeof BUDGETS)[number];
export const ABLATIONS = ['moco-queue', 'mochi', 'mixco', 'supcon'] as const;
export type AblationName = (typeof ABLATIONS)[number];
