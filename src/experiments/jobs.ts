/**
 * Job descriptions for running a sweep's points in parallel on a cluster, one point per task:
 * a Slurm job-array script (`cwb sweep <ablation> --slurm`) and a Kubernetes Indexed Job
 * manifest (`cwb sweep <ablation> --k8s`). Every task runs `cwb sweep <ablation> --index i`
 * against one shared results folder; the run lock keeps a requeued or duplicated task from
 * training a point twice, and `cwb report` merges what the tasks wrote.
 *
 * Values end up in a shell script, so every one of them is quoted (`shellQuote`, the style of
 * bash's printf %q), and values of #SBATCH lines, which sbatch reads without a shell, must be
 * plain words.
 */
import type { Ablation } from './ablations';

/** Quote a word for bash: as is when plain, else '...' (or $'...' for control characters). */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is for control characters
  if (/[\u0000-\u001f\u007f]/.test(s)) {
    const body = [...s]
      .map((ch) => {
        const c = ch.charCodeAt(0);
        if (ch === '\\') return '\\\\';
        if (ch === "'") return "\\'";
        if (ch === '\n') return '\\n';
        if (ch === '\t') return '\\t';
        if (ch === '\r') return '\\r';
        if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, '0')}`;
        return ch;
      })
      .join('');
    return `$'${body}'`;
  }
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface JobOptions {
  /** Results root the tasks share (absolute). */
  resultsDir?: string;
  /** Data root the tasks read. */
  dataDir?: string;
  /** Backend of the tasks. */
  backend?: string;
  /** The command that starts cwb on the nodes, as words (default ['npx', 'cwb']). */
  launcher?: string[];
}

export interface SlurmOptions extends JobOptions {
  /** Time limit per task (default by budget). */
  time?: string;
  partition?: string;
  /** Folder the tasks start in (default the current one). */
  cwd?: string;
}

const SLURM_TIME = /^(\d+-)?\d+(:\d{1,2}){0,2}$/;
const SLURM_WORD = /^[A-Za-z0-9_.,+-]+$/;

/** cwb's arguments for one task of the sweep (index given separately). */
function taskArgs(ab: Ablation, opts: JobOptions): string[] {
  const args = ['sweep', ab.name, '--budget', ab.budget];
  if (opts.resultsDir) args.push('--results-dir', opts.resultsDir);
  if (opts.dataDir) args.push('--data-dir', opts.dataDir);
  if (opts.backend) args.push('--backend', opts.backend);
  return args;
}

/** A Slurm job-array script (one task per point); throws naming the option for unusable values. */
export function slurmScript(ab: Ablation, opts: SlurmOptions = {}): string {
  const n = ab.points.length;
  const time = opts.time ?? ({ smoke: '00:10:00', quick: '02:00:00', paper: '72:00:00' } as Record<string, string>)[ab.budget];
  if (!SLURM_TIME.test(time)) throw new Error(`--slurm-time must look like [days-]hh[:mm[:ss]], got ${JSON.stringify(time)}`);
  if (opts.partition !== undefined && !SLURM_WORD.test(opts.partition)) {
    throw new Error(`--slurm-partition must be partition names (letters, digits, '_', '.', '-', ','), got ${JSON.stringify(opts.partition)}`);
  }
  const gpu = ab.budget === 'paper';
  const launcher = (opts.launcher ?? ['npx', 'cwb']).map(shellQuote).join(' ');
  const args = taskArgs(ab, opts).map(shellQuote).join(' ');
  const q = shellQuote;
  return [
    '#!/bin/bash',
    `# ${ab.name} (${ab.budget}): ${n} runs, one array task each.`,
    `#SBATCH --job-name=cwb-${ab.name}-${ab.budget}`,
    `#SBATCH --array=0-${n - 1}`,
    `#SBATCH --time=${time}`,
    '#SBATCH --cpus-per-task=4',
    '#SBATCH --mem=16G',
    '#SBATCH --requeue',
    ...(gpu ? ['#SBATCH --gres=gpu:1'] : []),
    ...(opts.partition ? [`#SBATCH --partition=${opts.partition}`] : []),
    '#SBATCH --output=slurm-%x-%A_%a.out',
    'set -euo pipefail',
    `cd ${q(opts.cwd ?? process.cwd())}`,
    '# Each task trains one point (resuming if requeued); the run lock keeps a point to one task.',
    '# exec: scancel / preemption signals reach cwb itself, which checkpoints its place and releases the lock.',
    `exec ${launcher} ${args} --index "$SLURM_ARRAY_TASK_ID" --quiet`,
    '',
    `# After the array: ${launcher} report${opts.resultsDir ? ` --results-dir ${q(opts.resultsDir)}` : ''}`,
    '',
  ].join('\n');
}

export interface K8sOptions extends JobOptions {
  /** Container image holding the project (node_modules installed). */
  image?: string;
  /** PersistentVolumeClaim of the shared results folder (ReadWriteMany), mounted at /results. */
  resultsClaim?: string;
  /** PersistentVolumeClaim of the data folder, mounted read-only at /data. */
  dataClaim?: string;
  /** Tasks running at once (default: all points). */
  parallelism?: number;
  /** Working directory of the project in the image. */
  workingDir?: string;
}

/**
 * A Kubernetes Indexed Job (batch/v1, completionMode Indexed): completion index i runs point i.
 * The manifest is JSON, which kubectl reads as YAML (`cwb sweep ... --k8s | kubectl apply -f -`).
 */
export function k8sJob(ab: Ablation, opts: K8sOptions = {}): Record<string, unknown> {
  const n = ab.points.length;
  const gpu = ab.budget === 'paper';
  const launcher = opts.launcher ?? ['npx', 'cwb'];
  const resultsDir = opts.resultsClaim ? '/results' : opts.resultsDir;
  const dataDir = opts.dataClaim ? '/data' : opts.dataDir;
  const args = [...taskArgs(ab, { ...opts, resultsDir, dataDir }), '--index', '$(JOB_COMPLETION_INDEX)', '--quiet'];
  const volumes: Record<string, unknown>[] = [];
  const mounts: Record<string, unknown>[] = [];
  if (opts.resultsClaim) {
    volumes.push({ name: 'results', persistentVolumeClaim: { claimName: opts.resultsClaim } });
    mounts.push({ name: 'results', mountPath: '/results' });
  }
  if (opts.dataClaim) {
    volumes.push({ name: 'data', persistentVolumeClaim: { claimName: opts.dataClaim, readOnly: true } });
    mounts.push({ name: 'data', mountPath: '/data', readOnly: true });
  }
  const limits: Record<string, string> = { cpu: '4', memory: '16Gi', ...(gpu ? { 'nvidia.com/gpu': '1' } : {}) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `cwb-${ab.name}-${ab.budget}`, labels: { app: 'contrastive-workbench', ablation: ab.name, budget: ab.budget } },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: opts.parallelism ?? n,
      // A task that fails (an evicted pod) is retried; it resumes its point from the checkpoint.
      backoffLimit: 3 * n,
      template: {
        metadata: { labels: { app: 'contrastive-workbench', ablation: ab.name } },
        spec: {
          restartPolicy: 'OnFailure',
          containers: [
            {
              name: 'cwb',
              image: opts.image ?? 'contrastive-workbench:latest',
              ...(opts.workingDir ? { workingDir: opts.workingDir } : {}),
              command: launcher,
              args,
              env: [
                // Declared so that $(JOB_COMPLETION_INDEX) in args is expanded by the kubelet.
                {
                  name: 'JOB_COMPLETION_INDEX',
                  valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
                },
              ],
              resources: { requests: { cpu: '4', memory: '16Gi' }, limits },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}
