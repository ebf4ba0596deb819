import { Knex } from 'knex';
import type { PipelineStep } from '@loopline/mlops-common';
import {
  mockCredentials,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import {
  createRolloutHarness,
  prepareDatabase,
} from '../rollout/__testUtils__/harness';
import { TrackingService, TrackingStore } from '../tracking';
import { createBuiltinSteps } from './builtins';
import {
  ALICE,
  createPipelineHarness,
  pipelineEntity,
} from './__testUtils__/harness';

jest.setTimeout(180_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe.each(databaseIds)('built-in pipeline steps on %s', databaseId => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await prepareDatabase(knex);
  }, 60_000);

  it('trains, evaluates against Production, registers to Staging and starts a canary; a failing gate stops the run', async () => {
    const rollout = await createRolloutHarness(knex);
    try {
      const tracking = new TrackingService(new TrackingStore(knex));
      let workspaceOf: (runId: string) => string = () => '';
      const harness = createPipelineHarness(knex, {
        builtins: createBuiltinSteps({
          tracking,
          registry: rollout.registry,
          rollouts: rollout.rollouts,
          workspaceOf: runId => workspaceOf(runId),
          serviceCredentials: async () =>
            mockCredentials.service('plugin:mlops'),
        }),
      });
      workspaceOf = runId => harness.runner.workspaceOf(runId);
      const { service, source } = harness;
      const steps = (gate: Record<string, number | string>): PipelineStep[] => [
        {
          name: 'train',
          kind: 'train' as const,
          with: { model: 'wine-quality', setting: 1 },
        },
        {
          name: 'evaluate',
          kind: 'evaluate' as const,
          dependsOn: ['train'],
          with: { model: 'wine-quality', metric: 'rmse', ...gate },
        },
        {
          name: 'register',
          kind: 'register' as const,
          dependsOn: ['evaluate'],
          with: { model: 'wine-quality' },
        },
        {
          name: 'canary',
          kind: 'rollout' as const,
          dependsOn: ['register'],
          with: { model: 'wine-quality', environment: 'production' },
        },
      ];

      // A first version in Production, trained with the other setting.
      source.add(
        pipelineEntity('bootstrap', [
          {
            name: 'train',
            kind: 'train',
            with: { model: 'wine-quality', setting: 0 },
          },
          {
            name: 'register',
            kind: 'register',
            dependsOn: ['train'],
            with: { model: 'wine-quality' },
          },
        ]),
      );
      const bootstrap = await service.startRun({
        pipeline: 'bootstrap',
        trigger: { type: 'manual', cause: 'test' },
        credentials: ALICE,
      });
      await service.idle();
      const first = await service.getRun('bootstrap', bootstrap.run.id);
      expect(first.state).toBe('succeeded');
      const [stable] = first.outputs.modelVersions;
      await rollout.registry.transitionStage({
        name: 'wine-quality',
        version: stable.version,
        stage: 'Production',
        credentials: ALICE,
      });

      // A gate the candidate cannot pass: the run fails with the reason, nothing is registered.
      source.add(pipelineEntity('strict', steps({ max: 0.0001 })));
      const refused = await service.startRun({
        pipeline: 'strict',
        trigger: { type: 'manual', cause: 'test' },
        credentials: ALICE,
      });
      await service.idle();
      const refusedRun = await service.getRun('strict', refused.run.id);
      expect(refusedRun).toMatchObject({
        state: 'failed',
        reason: expect.stringMatching(
          /^evaluate: Gate refused: rmse \d+\.\d+ is above the maximum 0\.0001$/,
        ),
        steps: [
          { name: 'train', state: 'succeeded' },
          { name: 'evaluate', state: 'failed' },
          { name: 'register', state: 'skipped' },
          { name: 'canary', state: 'skipped' },
        ],
      });
      expect(refusedRun.outputs.mlflowRunIds).toHaveLength(1);
      expect(refusedRun.outputs.modelVersions).toEqual([]);
      const versionsBefore = await rollout.registry.listVersions(
        'wine-quality',
      );

      // The loop: train, evaluate against Production, register, canary.
      source.add(
        pipelineEntity(
          'wine-quality-training',
          steps({ max: 5, beatProductionBy: -10 }),
        ),
      );
      const loop = await service.startRun({
        pipeline: 'wine-quality-training',
        trigger: { type: 'drift', cause: 'alert', key: 'alert:1' },
        credentials: ALICE,
      });
      await service.idle();
      const done = await service.getRun('wine-quality-training', loop.run.id);
      expect(done.state).toBe('succeeded');
      const [candidate] = done.outputs.modelVersions;
      expect(candidate.version).toBe(versionsBefore.length + 1);
      expect(done.outputs.rollouts).toEqual([
        {
          model: 'wine-quality',
          environment: 'production',
          version: candidate.version,
        },
      ]);
      const version = await rollout.registry.getVersion(
        'wine-quality',
        candidate.version,
      );
      expect(version).toMatchObject({
        stage: 'Staging',
        runId: done.outputs.mlflowRunIds[0],
      });
      const run = await tracking.getRun(done.outputs.mlflowRunIds[0]);
      expect(run.metrics.map(m => m.key)).toContain('rmse');
      const deployments = await rollout.rollouts.list('wine-quality');
      const production = deployments.items.find(
        d => d.environment === 'production',
      );
      expect(production?.rollout).toMatchObject({
        candidateVersion: candidate.version,
        strategy: 'canary',
      });
      const logs = await service.readLogs(
        'wine-quality-training',
        loop.run.id,
        {
          after: 0,
          limit: 100,
          step: 'evaluate',
        },
      );
      expect(logs.items.map(l => l.text)).toContainEqual(
        expect.stringMatching(
          /^rmse: candidate \d+\.\d+, Production v\d+ \d+\.\d+$/,
        ),
      );
    } finally {
      await rollout.close();
    }
  });
});
