import fs from 'node:fs';
import path from 'node:path';
import {
  mockCredentials,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { DeploymentTargetStatus } from '@loopline/mlops-common';
import {
  createRolloutHarness,
  linearModel,
  MODEL,
  prepareDatabase,
} from './__testUtils__/harness';
import { armOfKey } from './abAssignment';
import type { DeploymentTarget, DesiredDeployment } from './types';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe.each(databaseIds)('RolloutService on %s', databaseId => {
  let knex: Knex;
  const harnesses: Array<{ close(): Promise<void>; artifactDir: string }> = [];

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await prepareDatabase(knex);
  }, 60_000);

  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      await h.close();
    }
  });

  async function setup(
    options: Parameters<typeof createRolloutHarness>[1] = {},
  ) {
    const h = await createRolloutHarness(knex, options);
    harnesses.push(h);
    const stable = await h.registerVersion(linearModel(1), 'Production');
    const candidate = await h.registerVersion(linearModel(2), 'Staging');
    return { ...h, stable, candidate };
  }

  const share = (answered: number[], version: number) =>
    answered.filter(v => v === version).length / answered.length;

  it('advances a canary step by step on passing analyses and promotes it', async () => {
    const h = await setup();
    const started = await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary', comment: 'try v2' },
      credentials: h.owner,
    });
    expect(started).toMatchObject({
      stableVersion: h.stable,
      weights: { stable: 90, candidate: 10 },
      rollout: { state: 'progressing', steps: [10, 25, 50, 100], stepIndex: 0 },
      targetStatus: { ready: true },
    });

    // 10%: about one request in ten goes to the candidate, by request id.
    const answered = await h.send(400);
    expect(share(answered, h.candidate)).toBeGreaterThan(0.05);
    expect(share(answered, h.candidate)).toBeLessThan(0.15);

    const weights: number[] = [];
    for (let step = 0; step < 4; step++) {
      const deployment = await h.analyze();
      weights.push(deployment.weights.candidate);
      if (deployment.rollout?.state !== 'progressing') break;
      await h.send(step < 2 ? 200 : 100);
    }
    // After the promotion the candidate is the stable version: 100 / 0.
    expect(weights).toEqual([25, 50, 100, 0]);

    const detail = await h.rollouts.detail(MODEL, 'production');
    expect(detail.deployment).toMatchObject({
      stableVersion: h.candidate,
      weights: { stable: 100, candidate: 0 },
      rollout: { state: 'promoted' },
    });
    expect(detail.analyses.map(a => [a.weight, a.verdict])).toEqual([
      [100, 'pass'],
      [50, 'pass'],
      [25, 'pass'],
      [10, 'pass'],
    ]);
    const firstAnalysis = detail.analyses[3];
    expect(firstAnalysis.arms.candidate.requests).toBeGreaterThanOrEqual(20);
    expect(firstAnalysis.arms.stable.requests).toBeGreaterThan(300);
    expect(firstAnalysis.checks.map(c => c.name)).toEqual(
      expect.arrayContaining(['requests', 'errorRate', 'latencyP99']),
    );
    expect(
      detail.events.map(e => [e.action, e.automatic, e.toWeight]).reverse(),
    ).toEqual([
      ['start', false, 10],
      ['step', true, 25],
      ['step', true, 50],
      ['step', true, 100],
      ['promote', true, 100],
    ]);

    // The registry follows: v2 in Production, v1 archived.
    expect((await h.registry.getVersion(MODEL, h.candidate)).stage).toBe(
      'Production',
    );
    expect((await h.registry.getVersion(MODEL, h.stable)).stage).toBe(
      'Archived',
    );
    // Everything is answered by v2 now, and v1 is no longer loaded.
    expect(h.sessions.loadedVersions(MODEL)).toEqual([h.candidate]);
    expect(new Set(await h.send(20))).toEqual(new Set([h.candidate]));
    // The owners heard of every action, the promotion once the registry
    // had the candidate in Production; the audit trail has them too.
    expect(h.actions.map(a => a.action)).toEqual([
      'start',
      'step',
      'step',
      'step',
      'promote',
    ]);
    expect(h.actions[4].candidateStage).toBe('Production');
    const audit = await h.auditStore.list({
      entityRef: 'model:default/wine',
      limit: 50,
    });
    expect(audit.items.map(e => e.action)).toEqual(
      expect.arrayContaining([
        'deployment.rollout.start',
        'deployment.rollout.step',
        'deployment.rollout.promote',
      ]),
    );
  });

  it('waits while the candidate has too few requests', async () => {
    const h = await setup();
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary' },
      credentials: h.owner,
    });
    await h.send(30); // about 3 reach the candidate: fewer than 20
    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({
      state: 'progressing',
      stepIndex: 0,
    });
    const [analysis] = (await h.rollouts.detail(MODEL, 'production')).analyses;
    expect(analysis.verdict).toBe('wait');
    expect(analysis.checks.find(c => c.name === 'requests')?.verdict).toBe(
      'wait',
    );
  });

  it('logs a listener or a database read that fails while it tells of a waiting analysis, and goes on', async () => {
    const h = await setup();
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary' },
      credentials: h.owner,
    });
    const told: string[] = [];
    h.rollouts.addListener({
      onChange: () => {
        throw new Error('the gauge exploded');
      },
    });
    h.rollouts.addListener({ onChange: d => told.push(d.environment) });
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      await h.send(30); // too few requests reach the candidate: wait
      expect((await h.analyze()).rollout?.state).toBe('progressing');
      expect(h.logger.warn).toHaveBeenCalledWith(
        expect.stringContaining('the gauge exploded'),
      );
      // The listener after the failing one is still told.
      expect(told).toEqual(['production']);

      // The analysis reads the deployment to find the rollout, then again
      // to tell the listeners: the second read fails.
      const read = h.store.getDeploymentById.bind(h.store);
      let reads = 0;
      const spy = jest
        .spyOn(h.store, 'getDeploymentById')
        .mockImplementation(async id => {
          reads += 1;
          if (reads === 2) throw new Error('connection lost');
          return read(id);
        });
      expect((await h.analyze()).rollout?.state).toBe('progressing');
      expect(reads).toBe(2);
      spy.mockRestore();
      expect(h.logger.warn).toHaveBeenCalledWith(
        expect.stringContaining('connection lost'),
      );
      expect(told).toEqual(['production']);
      const [analysis] = (await h.rollouts.detail(MODEL, 'production'))
        .analyses;
      expect(analysis.verdict).toBe('wait');

      await new Promise(resolve => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('rolls back a candidate that cannot load, and stable answers its requests', async () => {
    const h = await setup();
    const version = await h.registry.getVersion(MODEL, h.candidate);
    // The stored file no longer matches its sha256.
    fs.appendFileSync(path.join(h.artifactDir, version.artifact!.path), 'x');

    const started = await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary', steps: [50, 100] },
      credentials: h.owner,
    });
    expect(started.targetStatus).toMatchObject({ ready: false });
    expect(started.targetStatus?.message).toMatch(/cannot be loaded/);

    // No client sees the candidate's failure.
    expect(new Set(await h.send(40))).toEqual(new Set([h.stable]));

    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({ state: 'rolled_back' });
    expect(deployment.rollout?.reason).toMatch(/cannot be loaded/);
    expect(deployment.stableVersion).toBe(h.stable);
    expect((await h.registry.getVersion(MODEL, h.candidate)).stage).toBe(
      'Staging',
    );
    expect(h.actions.map(a => [a.action, a.automatic])).toEqual([
      ['start', false],
      ['rollback', true],
    ]);
  });

  it('does not hold a stable version that cannot load against the candidate', async () => {
    const h = await setup();
    const version = await h.registry.getVersion(MODEL, h.stable);
    fs.appendFileSync(path.join(h.artifactDir, version.artifact!.path), 'x');
    const started = await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary', steps: [50, 100] },
      credentials: h.owner,
    });
    expect(started.targetStatus).toMatchObject({
      ready: false,
      failedVersion: h.stable,
    });
    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({ state: 'progressing' });
    const [analysis] = (await h.rollouts.detail(MODEL, 'production')).analyses;
    expect(analysis.checks.map(c => c.name)).not.toContain('load');
  });

  it('rolls back a candidate that starts erroring within two analyses, unseen by clients', async () => {
    const h = await setup();
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary', steps: [20, 50, 100] },
      credentials: h.owner,
    });
    await h.send(200);
    expect((await h.analyze()).rollout).toMatchObject({
      stepIndex: 1,
      weight: 50,
    });

    h.faults.set(h.candidate, { error: true });
    const answered = await h.send(60);
    expect(new Set(answered)).toEqual(new Set([h.stable]));
    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({ state: 'rolled_back' });
    const [analysis] = (await h.rollouts.detail(MODEL, 'production')).analyses;
    expect(analysis.verdict).toBe('fail');
    expect(analysis.arms.candidate.errorRate).toBe(1);
    expect(analysis.checks.find(c => c.name === 'errorRate')?.verdict).toBe(
      'fail',
    );
    // Back on stable alone.
    h.faults.clear();
    expect(new Set(await h.send(20))).toEqual(new Set([h.stable]));
  });

  it('rolls back a candidate that gets slow', async () => {
    const h = await setup();
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary', steps: [50, 100] },
      credentials: h.owner,
    });
    h.faults.set(h.candidate, { delayMs: 120 });
    await h.send(80);
    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({ state: 'rolled_back' });
    const [analysis] = (await h.rollouts.detail(MODEL, 'production')).analyses;
    const p99 = analysis.checks.find(c => c.name === 'latencyP99');
    expect(p99).toMatchObject({ verdict: 'fail', threshold: 50 });
    expect(p99!.value).toBeGreaterThanOrEqual(120);
    expect(analysis.arms.stable.latencyP99Ms).toBeLessThan(10);
  });

  it('applies one of two concurrent promote and rollback calls and refuses the other', async () => {
    for (let round = 0; round < 3; round++) {
      const h = await setup();
      await h.rollouts.start({
        modelName: MODEL,
        environment: 'production',
        body: { version: h.candidate, strategy: 'canary' },
        credentials: h.owner,
      });
      const results = await Promise.allSettled(
        (['promote', 'rollback', 'promote', 'rollback'] as const).map(action =>
          h.rollouts.act({
            modelName: MODEL,
            environment: 'production',
            action,
            credentials: h.owner,
          }),
        ),
      );
      const fulfilled = results.filter(r => r.status === 'fulfilled');
      const rejected = results.filter(
        (r): r is PromiseRejectedResult => r.status === 'rejected',
      );
      expect(fulfilled).toHaveLength(1);
      expect(rejected.map(r => r.reason.name)).toEqual([
        'ConflictError',
        'ConflictError',
        'ConflictError',
      ]);
      const { deployment, events } = await h.rollouts.detail(
        MODEL,
        'production',
      );
      const terminal = events.filter(
        e => e.action === 'promote' || e.action === 'rollback',
      );
      expect(terminal).toHaveLength(1);
      const consistent =
        terminal[0].action === 'promote'
          ? { stableVersion: h.candidate, rollout: { state: 'promoted' } }
          : { stableVersion: h.stable, rollout: { state: 'rolled_back' } };
      expect(deployment).toMatchObject(consistent);
    }
  });

  it('resumes a rollout from its stored step after a restart', async () => {
    const first = await setup();
    await first.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: first.candidate, strategy: 'canary' },
      credentials: first.owner,
    });
    await first.send(300);
    expect((await first.analyze()).weights.candidate).toBe(25);
    await first.close();

    // A new process on the same database and artifacts.
    const second = await createRolloutHarness(knex, {
      keepData: true,
      artifactDir: first.artifactDir,
      startAt: first.clock() + 1000,
    });
    harnesses.push(second);
    const seen: string[] = [];
    second.rollouts.addListener({
      onChange: d => seen.push(`${d.environment} ${d.weights.candidate}`),
    });
    await second.rollouts.reconcileAll();
    expect(seen).toEqual(['production 25']);
    const answered = await second.send(200);
    expect(share(answered, first.candidate)).toBeGreaterThan(0.15);
    expect(share(answered, first.candidate)).toBeLessThan(0.35);
    const deployment = await second.analyze();
    expect(deployment.rollout).toMatchObject({ stepIndex: 2, weight: 50 });
  });

  it('pauses (no analysis moves it) and resumes with a fresh window', async () => {
    const h = await setup();
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary' },
      credentials: h.owner,
    });
    await h.send(300);
    const paused = await h.rollouts.act({
      modelName: MODEL,
      environment: 'production',
      action: 'pause',
      comment: 'hold on',
      credentials: h.owner,
    });
    expect(paused.rollout).toMatchObject({ state: 'paused' });
    expect((await h.analyze()).rollout).toMatchObject({
      state: 'paused',
      stepIndex: 0,
    });
    await expect(
      h.rollouts.act({
        modelName: MODEL,
        environment: 'production',
        action: 'pause',
        credentials: h.owner,
      }),
    ).rejects.toMatchObject({ name: 'ConflictError' });

    await h.rollouts.act({
      modelName: MODEL,
      environment: 'production',
      action: 'resume',
      credentials: h.owner,
    });
    // The requests before the resume no longer count.
    const waiting = await h.analyze();
    expect(waiting.rollout).toMatchObject({
      state: 'progressing',
      stepIndex: 0,
    });
    await h.send(300);
    expect((await h.analyze()).rollout).toMatchObject({ stepIndex: 1 });
  });

  it('shadows: stable answers every request, the candidate gets copies and is compared', async () => {
    const h = await setup({
      config: {
        defaultSlo: { minRequests: 20, maxErrorRate: 0.05, minAgreement: 0 },
      },
    });
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'shadow', steps: [100] },
      credentials: h.owner,
    });
    expect(new Set(await h.send(40))).toEqual(new Set([h.stable]));
    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({ state: 'promoted' });
    const [analysis] = (await h.rollouts.detail(MODEL, 'production')).analyses;
    expect(analysis.arms.candidate.requests).toBe(40);
    // v2 doubles the first weight: its answers differ from v1's.
    expect(analysis.agreement).toEqual({ rate: 0, samples: 40 });
  });

  it('fails a shadow whose answers disagree with stable more than allowed', async () => {
    const h = await setup({
      config: {
        defaultSlo: { minRequests: 20, maxErrorRate: 0.05, minAgreement: 0.9 },
      },
    });
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'shadow', steps: [100] },
      credentials: h.owner,
    });
    await h.send(40);
    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({ state: 'rolled_back' });
  });

  it('runs blue-green: checked on copies, switched at once, then promoted', async () => {
    const h = await setup();
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'blue-green' },
      credentials: h.owner,
    });
    expect(new Set(await h.send(30))).toEqual(new Set([h.stable]));
    const switched = await h.analyze();
    expect(switched).toMatchObject({
      weights: { stable: 0, candidate: 100 },
      rollout: { state: 'progressing', switched: true },
    });
    expect(new Set(await h.send(30))).toEqual(new Set([h.candidate]));
    const promoted = await h.analyze();
    expect(promoted).toMatchObject({
      stableVersion: h.candidate,
      rollout: { state: 'promoted' },
    });
    const { events } = await h.rollouts.detail(MODEL, 'production');
    expect(events.map(e => e.action).reverse()).toEqual([
      'start',
      'switch',
      'promote',
    ]);
  });

  it('splits A/B traffic by a sticky key and compares conversions', async () => {
    const h = await setup({
      config: { defaultSlo: { minRequests: 50, maxErrorRate: 0.05 } },
    });
    const started = await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'ab', steps: [50] },
      credentials: h.owner,
    });
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const answered = await h.send(400, { abKey: i => users[i % users.length] });
    // Sticky: a user always meets the same version.
    const byUser = new Map<string, Set<number>>();
    answered.forEach((v, i) => {
      const user = users[i % users.length];
      byUser.set(user, (byUser.get(user) ?? new Set()).add(v));
    });
    expect([...byUser.values()].every(s => s.size === 1)).toBe(true);
    expect(share(answered, h.candidate)).toBeGreaterThan(0.35);
    expect(share(answered, h.candidate)).toBeLessThan(0.65);

    // Candidate users convert far more often.
    const rollout = (await h.store.getRollout(started.rollout!.id))!;
    const mismatched: string[] = [];
    for (const user of users) {
      const arm = armOfKey(rollout, user);
      const converts = arm === 'candidate' || Number(user.slice(5)) % 10 === 0;
      if (converts) {
        const { arm: recorded } = await h.rollouts.recordConversion({
          modelName: MODEL,
          environment: 'production',
          body: { key: user },
        });
        if (recorded !== arm) mismatched.push(user);
      }
    }
    expect(mismatched).toEqual([]);
    const deployment = await h.analyze();
    expect(deployment.rollout).toMatchObject({ state: 'promoted' });
    const [analysis] = (await h.rollouts.detail(MODEL, 'production')).analyses;
    expect(analysis.comparison).toMatchObject({ significant: true });
    expect(analysis.comparison!.difference).toBeGreaterThan(0);
    expect(analysis.arms.candidate.conversions).toBeGreaterThan(
      analysis.arms.stable.conversions!,
    );
  });

  it('refuses bad starts with clear errors and stores nothing', async () => {
    const refusingTarget: DeploymentTarget = {
      kind: 'kserve',
      strategies: ['canary', 'blue-green'],
      apply: async (_: DesiredDeployment): Promise<DeploymentTargetStatus> => ({
        ready: true,
        observedAt: new Date().toISOString(),
      }),
      status: async () => undefined,
    };
    const h = await setup({
      extraTargets: [refusingTarget],
      config: {
        environments: [
          { name: 'production', target: 'embedded', stage: 'Production' },
          { name: 'cluster', target: 'kserve' },
        ],
      },
    });
    const start = (environment: string, body: any) =>
      h.rollouts
        .start({ modelName: MODEL, environment, body, credentials: h.owner })
        .catch(e => e);
    expect(
      await start('production', { version: 99, strategy: 'canary' }),
    ).toMatchObject({
      name: 'InputError',
      message: 'Model wine has no version 99',
    });
    expect(
      await start('production', {
        version: h.candidate,
        strategy: 'canary',
        steps: [50, 25, 100],
      }),
    ).toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('must rise'),
    });
    expect(
      await start('production', { version: h.stable, strategy: 'canary' }),
    ).toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('already the stable version'),
    });
    expect(
      await start('cluster', { version: h.candidate, strategy: 'shadow' }),
    ).toMatchObject({
      name: 'InputError',
      message: expect.stringContaining(
        'kserve target cannot run a shadow rollout',
      ),
    });
    expect(
      await start('nowhere', { version: h.candidate, strategy: 'canary' }),
    ).toMatchObject({
      name: 'NotFoundError',
    });
    expect(
      Number((await knex('rollout_rollouts').count({ n: '*' }))[0].n),
    ).toBe(0);

    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary' },
      credentials: h.owner,
    });
    expect(
      await start('production', { version: h.candidate, strategy: 'canary' }),
    ).toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining('promote or roll it back first'),
    });
    expect(
      Number((await knex('rollout_rollouts').count({ n: '*' }))[0].n),
    ).toBe(1);
    // A user without a decision callback is still checked by the router; here
    // the authorize hook refuses.
    const refused = await h.rollouts
      .act({
        modelName: MODEL,
        environment: 'production',
        action: 'promote',
        credentials: mockCredentials.user('user:default/mallory'),
        authorize: async () => {
          throw Object.assign(new Error('no'), { name: 'NotAllowedError' });
        },
      })
      .catch(e => e);
    expect(refused.name).toBe('NotAllowedError');
    expect(
      (await h.rollouts.detail(MODEL, 'production')).deployment.rollout?.state,
    ).toBe('progressing');
  });

  it('routes requests that name staging by its deployment, and unloads only what no environment routes', async () => {
    const h = await setup();
    const v3 = await h.registerVersion(linearModel(3));
    // Staging starts from the version in Staging (v2); v3 is its candidate.
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'staging',
      body: { version: v3, strategy: 'canary', steps: [50, 100] },
      credentials: h.owner,
    });
    const staged = await h.send(60, { environment: 'staging' });
    expect(new Set(staged)).toEqual(new Set([h.candidate, v3]));
    expect(new Set(await h.send(10))).toEqual(new Set([h.stable]));
    await expect(h.send(1, { environment: 'nowhere' })).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining(
        'x-loopline-environment may be production, staging',
      ),
    });

    // A production canary of v2, rolled back: v1 routes production, v2 and
    // v3 route staging, so all three stay loaded.
    await h.rollouts.start({
      modelName: MODEL,
      environment: 'production',
      body: { version: h.candidate, strategy: 'canary' },
      credentials: h.owner,
    });
    await h.rollouts.act({
      modelName: MODEL,
      environment: 'production',
      action: 'rollback',
      credentials: h.owner,
    });
    expect(h.sessions.loadedVersions(MODEL).sort()).toEqual(
      [h.stable, h.candidate, v3].sort(),
    );
    // Staging promotes v3: v2 is routed nowhere any more and is unloaded.
    await h.rollouts.act({
      modelName: MODEL,
      environment: 'staging',
      action: 'promote',
      credentials: h.owner,
    });
    expect(h.sessions.loadedVersions(MODEL).sort()).toEqual(
      [h.stable, v3].sort(),
    );
  });

  it('makes the first deployment of an environment stable at once', async () => {
    const h = await createRolloutHarness(knex);
    harnesses.push(h);
    const version = await h.registerVersion(linearModel(1));
    const deployment = await h.rollouts.start({
      modelName: MODEL,
      environment: 'staging',
      body: { version, strategy: 'canary' },
      credentials: h.owner,
    });
    expect(deployment).toMatchObject({
      environment: 'staging',
      stableVersion: version,
      rollout: { state: 'promoted', reason: 'first deployment' },
      weights: { stable: 100, candidate: 0 },
    });
    // The registry follows the environment's stage.
    expect((await h.registry.getVersion(MODEL, version)).stage).toBe('Staging');
  });
});
