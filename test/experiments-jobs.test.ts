import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ablation, applyOverrides, configWarnings, experimentDir, insideRoot, outputFile, runDirOf, validateConfig } from '../src/experiments';
import { writeExperimentCsv } from '../src/results';
import { k8sJob, shellQuote, slurmScript } from '../src/experiments/jobs';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli.ts');
const NODE_ARGS = ['--require', require.resolve('tsx/cjs')];

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cwb-${prefix}-`));
}

function cwb(args: string[]) {
  const r = spawnSync(process.execPath, [...NODE_ARGS, CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `script` with bash, a stub launcher that prints its argv as JSON, and the given env. */
function runWithStub(script: string, dir: string, env: Record<string, string>): { argv: string[]; code: number | null; stderr: string } {
  const stub = path.join(dir, 'stub-cwb.js');
  fs.writeFileSync(stub, `require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'argv.json'))}, JSON.stringify(process.argv.slice(2)));\n`);
  const file = path.join(dir, 'job.sh');
  fs.writeFileSync(file, script);
  const r = spawnSync('bash', [file], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  const argvFile = path.join(dir, 'argv.json');
  return { argv: fs.existsSync(argvFile) ? JSON.parse(fs.readFileSync(argvFile, 'utf8')) : [], code: r.status, stderr: r.stderr };
}

describe('names and paths stay inside the results folder', () => {
  it("refuses '.' and '..' and paths as experiment names, naming the field", () => {
    const base = ablation('moco-queue', 'smoke').base;
    for (const bad of ['..', '.', 'a/b', '../x', 'a\\b', '']) {
      assert.throws(() => validateConfig({ ...base, experiment: bad }), /experiment must be a folder name/, `experiment ${JSON.stringify(bad)}`);
    }
    validateConfig({ ...base, experiment: '..ok-name' });
    const root = tmp('names');
    for (const bad of ['..', '.', 'a/b']) {
      assert.throws(() => runDirOf(root, bad, 'id'), /experiment /);
      assert.throws(() => runDirOf(root, 'exp', bad), /run id /);
      assert.throws(() => experimentDir(root, bad), /experiment /);
      assert.throws(() => writeExperimentCsv(root, bad), /experiment /);
      assert.throws(() => outputFile(root, 'exp', bad), /output file /);
    }
    assert.equal(runDirOf(root, 'exp', 'id'), path.join(root, 'exp', 'id'));
    assert.throws(() => insideRoot(root, path.join(root, '..', 'x')), /is outside the results folder/);
    // A link inside the root that points outside it is refused too.
    const outside = tmp('outside');
    fs.symlinkSync(outside, path.join(root, 'link'));
    assert.throws(() => runDirOf(root, 'link', 'id'), /leads outside the results folder/);
    assert.throws(() => outputFile(root, 'link', 'points.csv'), /leads outside the results folder/);
  });

  it('cwb train refuses a config with "experiment": ".." and writes nothing', () => {
    const dir = tmp('dotdot');
    const results = path.join(dir, 'results');
    fs.mkdirSync(results);
    const file = path.join(dir, 'run.json');
    fs.writeFileSync(file, JSON.stringify({ ...ablation('moco-queue', 'smoke').base, experiment: '..' }));
    const r = cwb(['train', '--config', file, '--results-dir', results, '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /run\.json: experiment must be a folder name .*got "\.\."/);
    assert.deepEqual(fs.readdirSync(results), []);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['results', 'run.json']);
  });
});

describe('job scripts: Slurm array and Kubernetes Indexed Job', () => {
  it('shellQuote round-trips hostile words through bash', () => {
    for (const w of ['plain', 'with space', "it's", '$(touch pwned)', '`id`', 'a\nb', 'tab\there', '', '*', '"q"', '\\x', "$'x'"]) {
      const r = spawnSync('bash', ['-c', `printf '%s' ${shellQuote(w)}`], { encoding: 'utf8' });
      assert.equal(r.stdout, w, `word ${JSON.stringify(w)} quoted as ${shellQuote(w)}`);
    }
  });

  it('a $(...) in --results-dir and quotes/newlines in --data-dir reach cwb as data, never run', () => {
    const dir = tmp('slurm-hostile');
    const ab = ablation('moco-queue', 'smoke');
    const resultsDir = path.join(dir, '$(touch PWNED)', 'res`touch PWNED2`');
    const dataDir = path.join(dir, "it's\nhere; touch PWNED3");
    const script = slurmScript(ab, { resultsDir, dataDir, cwd: dir, launcher: [process.execPath, path.join(dir, 'stub-cwb.js')] });
    assert.equal(spawnSync('bash', ['-n', '-c', script]).status, 0, 'the script parses');
    const r = runWithStub(script, dir, { SLURM_ARRAY_TASK_ID: '3' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.argv, [
      'sweep',
      'moco-queue',
      '--budget',
      'smoke',
      '--results-dir',
      resultsDir,
      '--data-dir',
      dataDir,
      '--index',
      '3',
      '--quiet',
    ]);
    for (const f of ['PWNED', 'PWNED2', 'PWNED3']) assert.ok(!fs.existsSync(path.join(dir, f)), `${f} was not created`);
    assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith('PWNED')));
  });

  it('a newline or shell syntax in --slurm-partition / --slurm-time is refused naming the option', () => {
    const ab = ablation('moco-queue', 'smoke');
    assert.throws(() => slurmScript(ab, { partition: 'gpu\ntouch /tmp/pwned' }), /--slurm-partition must be partition names.*"gpu\\ntouch/);
    assert.throws(() => slurmScript(ab, { partition: '$(id)' }), /--slurm-partition/);
    assert.throws(() => slurmScript(ab, { time: '1:00\nrm -rf ~' }), /--slurm-time/);
    assert.match(slurmScript(ab, { partition: 'gpu,long' }), /\n#SBATCH --partition=gpu,long\n/);
    const r = cwb(['sweep', 'moco-queue', '--budget', 'smoke', '--slurm', '--slurm-partition', 'p\necho injected']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--slurm-partition must be/);
    assert.equal(r.stdout, '');
    const ok = cwb(['sweep', 'moco-queue', '--budget', 'smoke', '--slurm', '--results-dir', '/scratch/$(id)']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(ok.stdout.includes(`--results-dir '/scratch/$(id)' --index "$SLURM_ARRAY_TASK_ID"`), ok.stdout);
    assert.ok(ok.stdout.includes('#SBATCH --array=0-5\n'));
  });

  it('cwb sweep --k8s prints an Indexed Job: one completion per point, the index passed to --index', () => {
    const r = cwb([
      'sweep',
      'mochi',
      '--budget',
      'paper',
      '--k8s',
      '--k8s-image',
      'reg.example/cwb:1',
      '--k8s-results-claim',
      'cwb-results',
      '--k8s-data-claim',
      'datasets',
      '--k8s-parallelism',
      '4',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const job = JSON.parse(r.stdout);
    const n = ablation('mochi', 'paper').points.length;
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(job.kind, 'Job');
    assert.match(job.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 name');
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, n);
    assert.equal(job.spec.parallelism, 4);
    const pod = job.spec.template.spec;
    assert.equal(pod.restartPolicy, 'OnFailure');
    const c = pod.containers[0];
    assert.equal(c.image, 'reg.example/cwb:1');
    assert.deepEqual(c.command, ['npx', 'cwb']);
    assert.deepEqual(c.args, [
      'sweep',
      'mochi',
      '--budget',
      'paper',
      '--results-dir',
      '/results',
      '--data-dir',
      '/data',
      '--index',
      '$(JOB_COMPLETION_INDEX)',
      '--quiet',
    ]);
    const env = c.env.find((e: { name: string }) => e.name === 'JOB_COMPLETION_INDEX');
    assert.equal(env.valueFrom.fieldRef.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    assert.equal(c.resources.limits['nvidia.com/gpu'], '1');
    assert.deepEqual(pod.volumes, [
      { name: 'results', persistentVolumeClaim: { claimName: 'cwb-results' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } },
    ]);
    assert.deepEqual(
      c.volumeMounts.map((m: { mountPath: string }) => m.mountPath),
      ['/results', '/data'],
    );
    // Without claims the given folders are used as they are (a hostPath / shared mount in the image).
    type Container = { args: string[]; resources: { limits: Record<string, string | undefined> } };
    const plain = k8sJob(ablation('moco-queue', 'smoke'), { resultsDir: '/shared/res' }) as unknown as {
      spec: { completions: number; template: { spec: { containers: Container[] } } };
    };
    assert.deepEqual(plain.spec.template.spec.containers[0].args.slice(4, 6), ['--results-dir', '/shared/res']);
    assert.equal(plain.spec.completions, 6);
    assert.equal(plain.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'], undefined);
  });
});

describe('config: what the reference implementations assert', () => {
  const base = ablation('moco-queue', 'smoke').base; // batch 16
  it('refuses K smaller than the keys enqueued per step', () => {
    assert.throws(
      () => validateConfig(applyOverrides(base, { 'method.K': 8 })),
      /method\.K \(8\) must be at least the keys enqueued per step \(16: batchSize 16\)/,
    );
    assert.throws(
      () => validateConfig(applyOverrides(base, { 'method.K': 16, 'method.symmetric': true })),
      /method\.K \(16\) must be at least .*\(32: batchSize 16 x 2, symmetric\)/,
    );
    validateConfig(applyOverrides(base, { 'method.K': 16 }));
  });

  it('refuses MixCo BN splits that do not divide the mixed half-batch', () => {
    const mix = ablation('mixco', 'smoke')
      .points.map((p) => applyOverrides(ablation('mixco', 'smoke').base, p.overrides))
      .find((c) => c.method.name === 'mixco' && (c.method as { base?: string }).base === 'moco')!;
    assert.ok(mix, 'a mixco/moco point');
    assert.throws(
      () => validateConfig(applyOverrides(mix, { batchSize: 24, 'method.bnSplits': 8 })),
      /method\.bnSplits \(8\) must divide the 12 mixed images of a batch of 24/,
    );
    assert.throws(() => validateConfig(applyOverrides(mix, { batchSize: 15, 'method.bnSplits': 1 })), /batchSize \(15\) must be even for mixco/);
    validateConfig(applyOverrides(mix, { batchSize: 32, 'method.bnSplits': 8 }));
  });

  it('warns (one line each) about a warm-up as long as the run and a K that is not a multiple of the batch', () => {
    assert.deepEqual(configWarnings(base), []);
    const w = configWarnings(validateConfig(applyOverrides(base, { epochs: 2, 'schedule.warmupEpochs': 3, 'method.K': 40 })));
    assert.equal(w.length, 2, w.join('\n'));
    assert.match(w[0], /method\.K \(40\) is not a multiple of the 16 keys enqueued per step/);
    assert.match(w[1], /schedule\.warmupEpochs \(3\) is not shorter than the run \(epochs 2\)/);
    const mochi = ablation('mochi', 'smoke');
    const m = validateConfig(applyOverrides(mochi.base, { ...mochi.points[mochi.points.length - 1].overrides, 'method.warmupEpochs': 5 }));
    if (m.method.name === 'mochi') assert.ok(configWarnings(m).some((x) => /method\.warmupEpochs \(5\) is not shorter than the run/.test(x)));
  });
});
