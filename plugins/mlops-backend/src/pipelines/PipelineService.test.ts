import fs from 'node:fs';
import path from 'node:path';
import { Knex } from 'knex';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import {
  alive,
  ALICE,
  createPipelineHarness,
  pipelineEntity,
  prepareDatabase,
  waitFor,
} from './__testUtils__/harness';

jest.setTimeout(process.env.PIPELINES_DEBUG ? 15_000 : 120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe.each(databaseIds)('PipelineService on %s', databaseId => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await prepareDatabase(knex);
  }, 60_000);

  let counter = 0;
  const unique = (name: string) => `${name}-${++counter}`;

  it('runs the steps in dependency order, with their logs, exit codes and outputs', async () => {
    const { service, source } = createPipelineHarness(knex);
    const name = unique('wine-training');
    source.add(
      pipelineEntity(
        name,
        [
          { name: 'prepare', run: 'echo prepared > data.txt; echo prepared' },
          {
            name: 'train',
            dependsOn: ['prepare'],
            run: 'cat data.txt; echo "lr=$LOOPLINE_PARAM_LR token=$MLFLOW_TRACKING_TOKEN"; echo \'{"mlflowRunId":"r-1"}\' >> "$LOOPLINE_OUTPUTS"',
          },
          {
            name: 'evaluate',
            dependsOn: ['prepare'],
            command: ['node', '-e', 'console.log("evaluated")'],
          },
        ],
        { parameters: [{ name: 'lr', default: '0.01' }] },
      ),
    );
    const { created, run } = await service.startRun({
      pipeline: name,
      parameters: { lr: '0.5' },
      trigger: { type: 'manual', cause: 'Run from the portal' },
      credentials: ALICE,
      user: 'user:default/alice',
    });
    expect(created).toBe(true);
    expect(run).toMatchObject({
      state: 'queued',
      parameters: { lr: '0.5' },
      trigger: {
        type: 'manual',
        cause: 'Run from the portal',
        user: 'user:default/alice',
      },
    });
    await service.idle();

    const done = await service.getRun(name, run.id);
    expect(done).toMatchObject({
      state: 'succeeded',
      outputs: { mlflowRunIds: ['r-1'] },
      steps: [
        { name: 'prepare', state: 'succeeded', exitCode: 0, attempt: 1 },
        { name: 'train', state: 'succeeded', exitCode: 0 },
        { name: 'evaluate', state: 'succeeded', exitCode: 0 },
      ],
    });
    expect(done.startedAt).toBeDefined();
    expect(done.finishedAt).toBeDefined();
    const train = done.steps.find(s => s.name === 'train')!;
    const prepare = done.steps.find(s => s.name === 'prepare')!;
    expect(Date.parse(train.startedAt!)).toBeGreaterThanOrEqual(
      Date.parse(prepare.finishedAt!),
    );

    const logs = await service.readLogs(name, run.id, {
      after: 0,
      limit: 100,
      step: 'train',
    });
    expect(logs.items.map(l => l.text)).toEqual([
      'prepared',
      `lr=0.5 token=token-for-${run.id}`,
    ]);
    expect(logs.complete).toBe(true);
    const page = await service.readLogs(name, run.id, { after: 0, limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.complete).toBe(false);
    const rest = await service.readLogs(name, run.id, {
      after: page.last,
      limit: 100,
    });
    expect(rest.items.length).toBeGreaterThanOrEqual(3);
    expect(rest.items[0].seq).toBeGreaterThan(page.last);

    const list = await service.listRuns(name, { limit: 10, offset: 0 });
    expect(list.items.map(r => r.id)).toEqual([run.id]);
  });

  it('skips the steps after a failure, and a retry of the failed step continues the run', async () => {
    const { service, source, workspaceRoot } = createPipelineHarness(knex);
    const name = unique('flaky');
    source.add(
      pipelineEntity(name, [
        { name: 'first', run: 'echo first' },
        {
          name: 'second',
          dependsOn: ['first'],
          run: 'test -f fixed || { echo "not fixed" >&2; exit 7; }',
        },
        { name: 'third', dependsOn: ['second'], run: 'echo third' },
      ]),
    );
    const { run } = await service.startRun({
      pipeline: name,
      trigger: { type: 'manual', cause: 'test' },
      credentials: ALICE,
    });
    await service.idle();
    const failed = await service.getRun(name, run.id);
    expect(failed).toMatchObject({
      state: 'failed',
      reason: 'second: Exited with code 7',
      steps: [
        { name: 'first', state: 'succeeded' },
        { name: 'second', state: 'failed', exitCode: 7 },
        { name: 'third', state: 'skipped', message: 'second failed' },
      ],
    });
    await expect(
      service.retryStep({
        pipeline: name,
        id: run.id,
        step: 'first',
        credentials: ALICE,
      }),
    ).rejects.toThrow('Step first is succeeded');

    fs.writeFileSync(path.join(workspaceRoot, run.id, 'fixed'), '');
    await service.retryStep({
      pipeline: name,
      id: run.id,
      step: 'second',
      credentials: ALICE,
    });
    await service.idle();
    const retried = await service.getRun(name, run.id);
    expect(retried).toMatchObject({
      state: 'succeeded',
      steps: [
        { name: 'first', state: 'succeeded', attempt: 1 },
        { name: 'second', state: 'succeeded', attempt: 2, exitCode: 0 },
        { name: 'third', state: 'succeeded', attempt: 1 },
      ],
    });
    expect(retried.reason).toBeUndefined();
    const logs = await service.readLogs(name, run.id, {
      after: 0,
      limit: 100,
      step: 'second',
    });
    expect(logs.items.map(l => [l.attempt, l.text])).toEqual([
      [1, 'not fixed'],
      [1, 'Exited with code 7'],
    ]);
  });

  it('keeps runs queued beyond the concurrency limit, across two backends', async () => {
    const a = createPipelineHarness(knex);
    const b = createPipelineHarness(knex, { workspaceRoot: a.workspaceRoot });
    const name = unique('limited');
    const entity = pipelineEntity(
      name,
      [
        {
          name: 'work',
          run: 'while [ ! -f "release-$LOOPLINE_RUN_ID" ]; do sleep 0.05; done',
        },
      ],
      { concurrency: 1 },
    );
    a.source.add(entity);
    b.source.add(entity);
    const runs = [];
    for (const harness of [a, b, a, b]) {
      runs.push(
        (
          await harness.service.startRun({
            pipeline: name,
            trigger: { type: 'manual', cause: 'test' },
            credentials: ALICE,
          })
        ).run,
      );
    }
    const release = (id: string) =>
      fs.writeFileSync(path.join(a.workspaceRoot, id, `release-${id}`), '');
    for (let i = 0; i < runs.length; i++) {
      const running = await waitFor(async () => {
        const all = await a.store.listRuns(name, { limit: 10, offset: 0 });
        const r = all.filter(x => x.state === 'running');
        return r.length === 1 && r;
      }, 'one run to be running');
      expect(
        (await a.store.listRuns(name, { limit: 10, offset: 0 })).filter(
          x => x.state === 'running',
        ),
      ).toHaveLength(1);
      await waitFor(
        async () =>
          fs.existsSync(path.join(a.workspaceRoot, running[0].id)) && true,
        'the workspace',
      );
      release(running[0].id);
      await waitFor(
        async () =>
          (await a.store.getRun(running[0].id))!.state === 'succeeded',
        'the run to finish',
      );
      await a.service.dispatch();
      await b.service.dispatch();
    }
    await a.service.idle();
    await b.service.idle();
    const final = await a.store.listRuns(name, { limit: 10, offset: 0 });
    expect(final.map(r => r.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
  });

  it('cancels a queued run at once and a running one by stopping its processes', async () => {
    const { service, source, store } = createPipelineHarness(knex);
    const name = unique('cancel');
    source.add(
      pipelineEntity(name, [
        { name: 'long', run: 'echo started; sleep 600' },
        { name: 'after', dependsOn: ['long'], run: 'echo never' },
      ]),
    );
    const start = () =>
      service.startRun({
        pipeline: name,
        trigger: { type: 'manual', cause: 'test' },
        credentials: ALICE,
      });
    const first = (await start()).run;
    const second = (await start()).run;
    const pid = await waitFor(async () => {
      const r = await store.getRun(first.id);
      return r?.steps[0].handle?.pid;
    }, 'the step to start');

    const cancelledQueued = await service.cancel({
      pipeline: name,
      id: second.id,
      credentials: ALICE,
    });
    expect(cancelledQueued).toMatchObject({
      state: 'cancelled',
      reason: 'Cancelled by user:default/alice',
      steps: [{ state: 'cancelled' }, { state: 'cancelled' }],
    });

    await service.cancel({ pipeline: name, id: first.id, credentials: ALICE });
    await service.idle();
    expect(await service.getRun(name, first.id)).toMatchObject({
      state: 'cancelled',
      reason: 'Cancelled by user:default/alice',
      steps: [
        { name: 'long', state: 'cancelled' },
        { name: 'after', state: 'cancelled' },
      ],
    });
    await waitFor(async () => !alive(pid), 'the step process to die');
    await expect(
      service.cancel({ pipeline: name, id: first.id, credentials: ALICE }),
    ).rejects.toThrow('already cancelled');
  });

  it('hears a cancellation made on another backend', async () => {
    const a = createPipelineHarness(knex);
    const b = createPipelineHarness(knex);
    const name = unique('remote-cancel');
    const entity = pipelineEntity(name, [{ name: 'long', run: 'sleep 600' }]);
    a.source.add(entity);
    b.source.add(entity);
    a.service.start();
    const { run } = await a.service.startRun({
      pipeline: name,
      trigger: { type: 'manual', cause: 'test' },
      credentials: ALICE,
    });
    const pid = await waitFor(async () => {
      const r = await a.store.getRun(run.id);
      return r?.steps[0].handle?.pid;
    }, 'the step to start');
    await b.service.cancel({ pipeline: name, id: run.id, credentials: ALICE });
    await a.service.idle();
    expect((await a.store.getRun(run.id))!.state).toBe('cancelled');
    expect(alive(pid)).toBe(false);
    await a.service.shutdown();
  });

  it('fails the runs of a backend that stopped, and stops what it left running', async () => {
    let clock = Date.now();
    const crashed = createPipelineHarness(knex);
    const survivor = createPipelineHarness(knex, {
      now: () => clock,
      staleAfterMs: 60_000,
    });
    const name = unique('orphaned');
    const entity = pipelineEntity(name, [
      { name: 'long', run: 'sleep 600' },
      { name: 'after', dependsOn: ['long'], run: 'echo never' },
    ]);
    crashed.source.add(entity);
    survivor.source.add(entity);
    const { run } = await crashed.service.startRun({
      pipeline: name,
      trigger: { type: 'manual', cause: 'test' },
      credentials: ALICE,
    });
    const pid = await waitFor(async () => {
      const r = await crashed.store.getRun(run.id);
      return r?.steps[0].handle?.pid;
    }, 'the step to start');

    // Still beating recently: nothing to recover.
    expect(await survivor.service.recoverAbandonedRuns()).toBe(0);
    clock += 120_000;
    expect(await survivor.service.recoverAbandonedRuns()).toBe(1);
    await waitFor(async () => !alive(pid), 'the orphaned process to die');
    const failed = await survivor.store.getRun(run.id);
    expect(failed).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining(
        'The backend executing the run stopped (restart or crash)',
      ),
      steps: [
        { name: 'long', state: 'failed' },
        { name: 'after', state: 'skipped' },
      ],
    });
    await crashed.service.idle();
    // The crashed instance's late view changes nothing.
    expect((await survivor.store.getRun(run.id))!.state).toBe('failed');
  });

  it('stops its runs on shutdown and marks them failed with the reason', async () => {
    const { service, source, store } = createPipelineHarness(knex);
    const name = unique('shutdown');
    source.add(pipelineEntity(name, [{ name: 'long', run: 'sleep 600' }]));
    const { run } = await service.startRun({
      pipeline: name,
      trigger: { type: 'manual', cause: 'test' },
      credentials: ALICE,
    });
    const pid = await waitFor(async () => {
      const r = await store.getRun(run.id);
      return r?.steps[0].handle?.pid;
    }, 'the step to start');
    await service.shutdown();
    expect(alive(pid)).toBe(false);
    expect(await store.getRun(run.id)).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('The backend shut down'),
    });
  });

  it('starts one run per trigger key, and refuses bad parameters and steps', async () => {
    const { service, source } = createPipelineHarness(knex);
    const name = unique('keyed');
    source.add(
      pipelineEntity(name, [{ name: 'a', run: 'true' }], {
        parameters: [{ name: 'lr' }],
      }),
    );
    const trigger = {
      type: 'schedule' as const,
      cause: 'Cron 0 4 * * 1 at 2026-12-07T04:00:00.000Z',
      key: 'schedule:2026-12-07T04:00:00.000Z',
    };
    const first = await service.startRun({
      pipeline: name,
      trigger,
      credentials: ALICE,
    });
    const again = await service.startRun({
      pipeline: name,
      trigger,
      credentials: ALICE,
    });
    expect(first.created).toBe(true);
    expect(again).toEqual({
      created: false,
      run: expect.objectContaining({ id: first.run.id }),
    });

    await expect(
      service.startRun({
        pipeline: name,
        parameters: { epochs: '3' },
        trigger: { type: 'manual', cause: 'x' },
        credentials: ALICE,
      }),
    ).rejects.toThrow('parameters.epochs: pipeline');
    await expect(
      service.startRun({
        pipeline: 'no-such-pipeline',
        trigger: { type: 'manual', cause: 'x' },
        credentials: ALICE,
      }),
    ).rejects.toThrow('No pipeline named no-such-pipeline');
    const cyclic = unique('cyclic');
    source.add(
      pipelineEntity(cyclic, [
        { name: 'a', run: 'true', dependsOn: ['b'] },
        { name: 'b', run: 'true', dependsOn: ['a'] },
      ]),
    );
    await expect(
      service.startRun({
        pipeline: cyclic,
        trigger: { type: 'manual', cause: 'x' },
        credentials: ALICE,
      }),
    ).rejects.toThrow('cycle: a → b → a');
    await service.idle();
  });
});
