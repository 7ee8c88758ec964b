/**
 * contrastive-workbench: the names a researcher uses at the top level. Everything else is
 * exported by its layer's subpath:
 *   contrastive-workbench/backend      backends and what was chosen
 *   contrastive-workbench/data         datasets, augmentations, the loader, image grids
 *   contrastive-workbench/models       encoders, heads, the key queue
 *   contrastive-workbench/methods      MoCo, MoCHi, MixCo, SimCLR, SupCon, CE and their losses
 *   contrastive-workbench/optim        SGD, LARS, learning-rate schedules
 *   contrastive-workbench/eval         kNN, linear probes, alignment/uniformity, retrieval, PCA/UMAP
 *   contrastive-workbench/experiments  configs, the runner, checkpoints, sweeps, the ablations, loadRun
 *   contrastive-workbench/results      run records, aggregation over seeds, the results table, the report
 *   contrastive-workbench/plots        plotly figures, tables and notebook display
 */
import * as tf from '@tensorflow/tfjs';

export type * from './types';
/**
 * The TF.js namespace this package computes with (the same module instance, so its tensors,
 * backends and memory counters are the package's): `import { tf } from 'contrastive-workbench'`.
 */
export { tf };

export { backendReport, initBackend } from './backend/init';
export { loadDataset } from './data/datasets';
export { viewGrid } from './data/view';
export { createMethod } from './methods/factory';
export { defaultMethodConfig } from './methods/params';
export { ablation, budgetSettings, ABLATIONS, BUDGETS } from './experiments/ablations';
export type { Ablation, AblationName, Budget } from './experiments/ablations';
export { applyOverrides, defaultEvalConfig, validateConfig } from './experiments/config';
export type { EvalConfig, RunConfig } from './experiments/config';
export { evaluateCheckpoint, run } from './experiments/runner';
export type { RunOptions, RunResult } from './experiments/runner';
export { loadRun } from './experiments/explore';
export type { LoadedRun } from './experiments/explore';
export type { RunSummary } from './experiments/records';
export { listRuns, readRunRecord } from './results/records';
export type { RunRecord } from './results/records';
export { aggregate } from './results/aggregate';
export type { GroupRow } from './results/aggregate';
export { ResultsTable } from './results/table';
export { sweep } from './results/sweep';
export { sweepProgressDisplay } from './results/progress';
export { writeReport } from './results/report';
export { barFigure, lineFigure } from './plots/figure';
export type { PlotlyFigure, Series } from './plots/figure';
export { progressDisplay, showFigure, showMarkdown, showTable } from './plots/notebook';
export { showImages } from './plots/explore';
export { writeCsv, writeFigureHtml } from './plots/write';
