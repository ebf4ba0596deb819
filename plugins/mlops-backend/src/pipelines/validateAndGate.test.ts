import { Knex } from 'knex';
import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import {
  DatasetEntityV1alpha1,
  ModelEntityV1alpha1,
  ModelGates,
} from '@loopline/mlops-common';
import {
  createRolloutHarness,
  prepareDatabase,
} from '../rollout/__testUtils__/harness';
import { TrackingService, TrackingStore } from '../tracking';
import {
  DatasetValidationService,
  GateService,
  QualityStore,
} from '../quality';
import { createBuiltinSteps } from './builtins';
import {
  ALICE,
  createPipelineHarness,
  pipelineEntity,
} from './__testUtils__/harness';

jest.setTimeout(180_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

const dataset = (
  name: string,
  expectations: DatasetEntityV1alpha1['spec']['expectations'],
): DatasetEntityV1alpha1 => ({
  apiVersion: 'loopline.dev/v1alpha1',
  kind: 'Dataset',
  metadata: { name, namespace: 'default' },
  spec: {
    type: 'raw',
    owner: 'group:default/wine-science',
    lifecycle: 'production',
    location: 'file:examples/data/winequality.csv',
    format: 'csv',
    expectations,
  },
});

describe('validate-data and the Model gates in a pipeline', () => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    await prepareDatabase(knex);
  }, 60_000);

  it('validates the data (its data docs stored), evaluates the candidate against spec.gates, and stops at a failed expectation or gate', async () => {
    const rollout = await createRolloutHarness(knex);
    try {
      const tracking = new TrackingService(new TrackingStore(knex));
      const store = new QualityStore(knex);
      let gates: ModelGates = {
        metrics: [{ metric: 'rmse', max: 0.9 }],
        beatProduction: { metric: 'rmse', margin: -0.05 },
        maxLatencyP95Ms: 1000,
      };
      const model = (): ModelEntityV1alpha1 => ({
        apiVersion: 'loopline.dev/v1alpha1',
        kind: 'Model',
        metadata: { name: 'wine-quality', namespace: 'default' },
        spec: {
          type: 'regression',
          owner: 'group:default/wine-science',
          lifecycle: 'production',
          gates,
        },
      });
      const datasets = new Map([
        [
          'dataset:default/wine-quality-raw',
          dataset('wine-quality-raw', [
            { type: 'expect_column_values_to_not_be_null', column: 'alcohol' },
            {
              type: 'expect_column_values_to_be_in_set',
              column: 'color',
              values: ['red', 'white'],
            },
            { type: 'expect_table_row_count_to_be_between', min: 500 },
          ]),
        ],
        [
          'dataset:default/wine-too-small',
          dataset('wine-too-small', [
            { type: 'expect_table_row_count_to_be_between', max: 100 },
          ]),
        ],
      ]);
      let workspaceOf: (runId: string) => string = () => '';
      const harness = createPipelineHarness(knex, {});
      const gateService = new GateService({
        store,
        registry: rollout.registry,
        models: { getModel: async () => model() },
        auditTrail: harness.auditTrail,
        logger: mockServices.logger.mock(),
      });
      const validations = new DatasetValidationService({
        store,
        datasets: { getDataset: async ref => datasets.get(ref) },
        auditTrail: harness.auditTrail,
      });
      const builtins = createBuiltinSteps({
        tracking,
        registry: rollout.registry,
        rollouts: rollout.rollouts,
        workspaceOf: runId => workspaceOf(runId),
        serviceCredentials: async () => mockCredentials.service('plugin:mlops'),
        gates: gateService,
        validations,
      });
      const { service, source } = createPipelineHarness(knex, { builtins });
      workspaceOf = runId => harness.runner.workspaceOf(runId);
      const pipeline = (name: string, data: string) =>
        pipelineEntity(name, [
          {
            name: 'validate-data',
            kind: 'validate-data',
            with: { dataset: data },
          },
          {
            name: 'train',
            kind: 'train',
            dependsOn: ['validate-data'],
            with: { model: 'wine-quality' },
          },
          {
            name: 'evaluate',
            kind: 'evaluate',
            dependsOn: ['train'],
            with: { model: 'wine-quality' },
          },
          {
            name: 'register',
            kind: 'register',
            dependsOn: ['evaluate'],
            with: { model: 'wine-quality' },
          },
        ]);
      const runOf = async (name: string) => {
        const { run } = await service.startRun({
          pipeline: name,
          trigger: { type: 'manual', cause: 'test' },
          credentials: ALICE,
        });
        await service.idle();
        return service.getRun(name, run.id);
      };

      source.add(pipeline('wine-quality-training', 'wine-quality-raw'));
      const passed = await runOf('wine-quality-training');
      expect(passed.state).toBe('succeeded');
      const [candidate] = passed.outputs.modelVersions;
      const [docs] = await validations.list(
        'dataset:default/wine-quality-raw',
        5,
      );
      expect(docs).toMatchObject({
        success: true,
        pipelineRunId: passed.id,
        statistics: { evaluatedExpectations: 3, successfulExpectations: 3 },
      });
      expect(docs.rowCount).toBe(608);
      // The candidate's gate result is the registered version's.
      const [result] = await gateService.list('wine-quality', {
        version: candidate.version,
        limit: 5,
      });
      expect(result).toMatchObject({
        context: 'evaluate',
        passed: true,
        pipelineRunId: passed.id,
      });
      expect(result.checks.map(c => [c.gate, c.passed])).toEqual([
        ['metric:rmse', true],
        ['beatProduction:rmse', true],
        ['latencyP95', true],
      ]);
      const evaluateLog = await service.readLogs(
        'wine-quality-training',
        passed.id,
        { after: 0, limit: 100, step: 'evaluate' },
      );
      expect(evaluateLog.items.map(l => l.text)).toContainEqual(
        expect.stringMatching(/^PASS latencyP95: p95 latency \d+\.\d+ ms/),
      );

      // A failed expectation fails the step; nothing is trained.
      source.add(pipeline('too-small', 'wine-too-small'));
      const invalid = await runOf('too-small');
      expect(invalid).toMatchObject({
        state: 'failed',
        reason:
          'validate-data: 1 of 1 expectations of dataset:default/wine-too-small failed: The row count is 608, above the maximum 100',
        steps: [
          { name: 'validate-data', state: 'failed' },
          { name: 'train', state: 'skipped' },
          { name: 'evaluate', state: 'skipped' },
          { name: 'register', state: 'skipped' },
        ],
      });

      // A gate the candidate cannot pass fails the run with the reason.
      gates = { metrics: [{ metric: 'rmse', max: 0.0001 }] };
      const refused = await runOf('wine-quality-training');
      expect(refused.state).toBe('failed');
      expect(refused.reason).toMatch(
        /^evaluate: Gate refused: rmse \d+\.\d+ is above the maximum 0\.0001$/,
      );
      expect(refused.outputs.modelVersions).toEqual([]);
    } finally {
      await rollout.close();
    }
  });
});
