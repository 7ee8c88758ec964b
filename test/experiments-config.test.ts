import { strict as assert } from 'node:assert';
import {
  ABLATIONS,
  BUDGETS,
  ablation,
  applyOverrides,
  canonicalJson,
  expandGrid,
  runId,
  sweepPoints,
  validateConfig,
  type RunConfig,
} from '../src/experiments';

function smokeConfig(): RunConfig {
  return ablation('moco-queue', 'smoke').base;
}

describe('experiments: config validation, run ids, grids, ablations', () => {
  it('accepts the ablation configs and rejects a wrong field naming it', () => {
    const ok = smokeConfig();
    assert.equal(validateConfig(ok), ok);
    const bad = applyOverrides(ok, { 'method.K': -3 });
    assert.throws(
      () => validateConfig(bad),
      (e: Error) => e.message === 'method.K must be a positive integer, got -3',
    );
    assert.throws(
      () => validateConfig(applyOverrides(ok, { 'dataset.synthetic.colour': 'hue' })),
      /dataset\.synthetic\.colour must be one of class, random, got "hue"/,
    );
    validateConfig(applyOverrides(ok, { 'dataset.synthetic.colour': 'random' }));
    assert.throws(() => validateConfig(applyOverrides(ok, { 'method.m': 1.5 })), /method\.m must be a number in \[0, 1\), got 1\.5/);
    assert.throws(() => validateConfig(applyOverrides(ok, { 'optimizer.lr': 'fast' })), /optimizer\.lr must be a positive number, got "fast"/);
    assert.throws(
      () => validateConfig(applyOverrides(ok, { 'eval.linear': { protocol: 'sgd' } })),
      /eval\.linear\.protocol must be one of moco, supcon, fast, got "sgd"/,
    );
    assert.throws(() => validateConfig(applyOverrides(ok, { augmentation: 'moco-v3' })), /augmentation must be one of .*got "moco-v3"/);
    assert.throws(() => validateConfig(applyOverrides(ok, { 'dataset.name': 'imagenet' })), /dataset\.name must be one of/);
    // A typo is an unknown field, with a hint.
    const typo = applyOverrides(ok, { 'method.k': 10 });
    assert.throws(() => validateConfig(typo), /method\.k is not a known field \(did you mean K\?\)/);
    // Several problems are all listed.
    const two = applyOverrides(ok, { epochs: 0, 'method.T': -1 });
    assert.throws(
      () => validateConfig(two),
      (e: Error) => /epochs must be a positive integer, got 0/.test(e.message) && /method\.T must be a positive number, got -1/.test(e.message),
    );
    // Missing fields are named too.
    const { optimizer: _o, ...noOpt } = ok;
    assert.throws(() => validateConfig(noOpt), /optimizer must be an object, got nothing/);
    // batch size vs split BN.
    assert.throws(() => validateConfig(applyOverrides(ok, { batchSize: 15 })), /batchSize \(15\) must be a multiple of method\.bnSplits \(2\)/);
    // MoCHi: N <= K.
    const mochi = ablation('mochi', 'smoke').points[1].overrides.method as Record<string, unknown>;
    assert.throws(() => validateConfig(applyOverrides(ok, { method: { ...mochi, N: 1000 } })), /method\.N must be at most method\.K/);
  });

  it('derives stable run ids from the config (key order and data root do not matter)', () => {
    const a = smokeConfig();
    const reordered = JSON.parse(canonicalJson(a)) as RunConfig;
    assert.equal(runId(reordered), runId(a));
    assert.equal(runId({ ...a, dataset: { ...a.dataset, dataRoot: '/elsewhere' } }), runId(a));
    assert.notEqual(runId(applyOverrides(a, { 'method.K': 128 })), runId(a));
    assert.match(runId(a), /^moco-queue-[0-9a-f]{10}$/);
  });

  it('expands a grid as a cartesian product and applies dotted overrides', () => {
    const g = expandGrid({ 'method.K': [32, 64], seed: [0, 1, 2] });
    assert.equal(g.length, 6);
    assert.deepEqual(g[0], { 'method.K': 32, seed: 0 });
    assert.deepEqual(g[5], { 'method.K': 64, seed: 2 });
    const base = smokeConfig();
    const pts = sweepPoints(base, { 'method.K': [32, 64], seed: [0, 1] }, '/tmp/none');
    assert.deepEqual(
      pts.map((p) => [p.config.method.name === 'moco' && p.config.method.K, p.config.seed]),
      [
        [32, 0],
        [32, 1],
        [64, 0],
        [64, 1],
      ],
    );
    assert.deepEqual(pts[3].params, { K: 64, seed: 1 });
    assert.equal(new Set(pts.map((p) => p.runId)).size, 4);
    assert.throws(() => sweepPoints(base, [{ seed: 0 }, { seed: 0 }]), /are the same run/);
    assert.throws(() => expandGrid({ 'method.K': [] }), /grid\.method\.K must be a non-empty list/);
  });

  it('builds valid, distinct runs for every ablation and budget', () => {
    const counts: Record<string, number> = {};
    for (const name of ABLATIONS) {
      for (const budget of BUDGETS) {
        const ab = ablation(name, budget);
        const pts = sweepPoints(ab.base, ab.points, '/tmp/none'); // validates every point
        counts[`${name}/${budget}`] = pts.length;
        assert.ok(pts.every((p) => p.config.experiment === `${name}-${budget}`));
      }
    }
    // moco-queue: 3 K values + m = 0 beside the shared m (quick, 2 seeds); paper: 4 K values, 4 momenta sharing one point, 3 seeds.
    assert.equal(counts['moco-queue/quick'], 4 * 2);
    assert.equal(counts['moco-queue/paper'], 7 * 3);
    const mq = ablation('moco-queue', 'quick');
    assert.deepEqual(
      mq.points.filter((p) => p.params?.sweep === 'm' && p.params.seed === 0).map((p) => p.params?.m),
      [0],
    );
    assert.deepEqual(
      ablation('moco-queue', 'paper')
        .points.filter((p) => p.params?.sweep === 'm' && p.params.seed === 0)
        .map((p) => p.params?.m),
      [0, 0.9, 0.999],
    );
    // Every quick point runs 2 seeds (error bars in the notebooks and the report).
    for (const name of ABLATIONS) {
      const seeds = ablation(name, 'quick').points.map((p) => p.params?.seed);
      assert.equal(seeds.filter((s) => s === 0).length, seeds.filter((s) => s === 1).length, name);
      assert.equal(seeds.filter((s) => s === 0).length * 2, seeds.length, name);
    }
    const sup = ablation('supcon', 'paper');
    assert.deepEqual(
      sup.points.filter((p) => p.params?.loss === 'SupCon' && p.params.seed === 0).map((p) => p.params?.T),
      [0.05, 0.07, 0.1, 0.2, 0.5, 1.0],
    );
    assert.ok(sup.points.some((p) => p.params?.loss === 'CE') && sup.points.some((p) => p.params?.loss === 'SimCLR'));
    // MixCo's MoCo-base points (its baseline beta = 0 too) train at MixCo's lr, scaled to the batch; SimCLR's at the budget's.
    for (const budget of BUDGETS) {
      const ab = ablation('mixco', budget);
      for (const p of sweepPoints(ab.base, ab.points, '/tmp/none')) {
        const want = p.params.base === 'moco' ? (0.015 * p.config.batchSize) / 128 : ab.base.optimizer.lr;
        assert.ok(Math.abs(p.config.optimizer.lr - want) < 1e-12, `mixco/${budget} ${p.config.name}: lr ${p.config.optimizer.lr}, want ${want}`);
      }
    }
    const paper = ablation('moco-queue', 'paper').base;
    assert.equal(paper.encoder.arch, 'resnet18');
    assert.equal(paper.epochs, 200);
    assert.equal(paper.batchSize, 512);
    assert.throws(() => ablation('byol', 'quick'), /ablation must be one of moco-queue, mochi, mixco, supcon/);
    assert.throws(() => ablation('mochi', 'huge'), /budget must be one of smoke, quick, paper/);
  });
});
