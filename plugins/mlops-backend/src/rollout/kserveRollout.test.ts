import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import type { NewInferenceLogRow } from '../serving/log/types';
import {
  createRolloutHarness,
  linearModel,
  MODEL,
  prepareDatabase,
} from './__testUtils__/harness';
import { KServeTarget } from './kserve/KServeTarget';
import { inferenceServiceValidator } from './kserve/__testUtils__/crdSchema';
import { describeWithSpecs } from '../__testUtils__/specs';
import {
  FakeKubeApiServer,
  startFakeKubeApiServer,
} from './kserve/__testUtils__/fakeKubeApiServer';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const NAMESPACE = 'models';

/**
 * A canary on KServe, end to end: the service writes the InferenceService
 * (validated against the real CRD by the fake API server), KServe's logger
 * feeds the analysis by version, and the steps reach the object.
 */
describeWithSpecs('a rollout on the KServe target', () => {
  describe.each(databaseIds)(
    'a rollout on the KServe target on %s',
    databaseId => {
      let knex: Knex;
      let fake: FakeKubeApiServer;

      beforeAll(async () => {
        inferenceServiceValidator();
        knex = await databases.init(databaseId);
        await prepareDatabase(knex);
      }, 120_000);

      beforeEach(async () => {
        fake = await startFakeKubeApiServer({ namespace: NAMESPACE });
      });
      afterEach(async () => {
        await fake.close();
      });

      async function setup() {
        const target = new KServeTarget({
          kubeConfig: fake.kubeConfig(),
          namespace: NAMESPACE,
          loggerUrl:
            'http://loopline.backstage.svc:7007/api/mlops/serving/kserve/logger',
          loggerToken: 'kserve-secret',
        });
        const h = await createRolloutHarness(knex, {
          extraTargets: [target],
          config: {
            environments: [
              { name: 'cluster', target: 'kserve', stage: 'Production' },
            ],
          },
        });
        const stable = await h.registerVersion(linearModel(1), 'Production');
        const candidate = await h.registerVersion(linearModel(2), 'Staging');
        const object = () => {
          const found = fake
            .objects(NAMESPACE)
            .find(o => o.metadata.name === target.nameOf(MODEL, 'cluster'));
          if (!found) throw new Error('no InferenceService written');
          return found as any;
        };
        let counter = 0;
        /** What KServe's logger reports: requests per version, as the logger route stores them. */
        const logKServe = async (
          version: number,
          count: number,
          status: 'ok' | 'error' = 'ok',
        ) => {
          const rows: NewInferenceLogRow[] = Array.from(
            { length: count },
            () => ({
              requestId: `kserve-${(counter += 1)}`,
              modelName: MODEL,
              version,
              route: 'predictor',
              source: 'kserve',
              endpoint: 'default',
              status,
              latencyMs: 4,
              sampleRate: 1,
              createdAt: h.clock(),
            }),
          );
          await h.logStore.insertBatch(rows);
        };
        const analyze = async () => {
          h.advance(h.config.analysisIntervalMs);
          await h.rollouts.analyzeAll();
          return (await h.rollouts.detail(MODEL, 'cluster')).deployment;
        };
        return {
          ...h,
          stable,
          candidate,
          object,
          logKServe,
          analyzeCluster: analyze,
        };
      }

      it('writes valid InferenceServices through a canary to promotion', async () => {
        const h = await setup();
        try {
          const started = await h.rollouts.start({
            modelName: MODEL,
            environment: 'cluster',
            body: {
              version: h.candidate,
              strategy: 'canary',
              steps: [20, 100],
            },
            credentials: h.owner,
          });
          expect(started.target).toBe('kserve');
          const predictor = h.object().spec.predictor;
          expect(predictor.model.storageUri).toBe(
            `s3://models/${MODEL}/${h.candidate}/model.onnx`,
          );
          expect(predictor.canaryTrafficPercent).toBe(20);
          expect(predictor.logger.url).toContain(`version=${h.candidate}`);

          // Requests of both revisions, told apart by version, not endpoint.
          await h.logKServe(h.stable, 80);
          await h.logKServe(h.candidate, 25);
          const stepped = await h.analyzeCluster();
          expect(stepped.rollout).toMatchObject({ stepIndex: 1, weight: 100 });
          expect(h.object().spec.predictor.canaryTrafficPercent).toBe(100);
          const [analysis] = (await h.rollouts.detail(MODEL, 'cluster'))
            .analyses;
          expect(analysis.arms.stable.requests).toBe(80);
          expect(analysis.arms.candidate.requests).toBe(25);

          await h.logKServe(h.candidate, 30);
          const promoted = await h.analyzeCluster();
          expect(promoted).toMatchObject({
            stableVersion: h.candidate,
            rollout: { state: 'promoted' },
          });
          expect(h.object().spec.predictor).not.toHaveProperty(
            'canaryTrafficPercent',
          );
          // Right after the write KServe has not caught up; the next refresh sees it ready.
          expect(promoted.targetStatus).toMatchObject({
            ready: false,
            message: expect.stringContaining('not reconciled'),
          });
          await h.rollouts.refreshTargetStatuses();
          const refreshed = (await h.rollouts.detail(MODEL, 'cluster'))
            .deployment;
          expect(refreshed.targetStatus).toMatchObject({ ready: true });
          expect(refreshed.targetStatus?.traffic).toEqual([
            expect.objectContaining({ percent: 100, latest: true }),
          ]);
          // Every write was accepted by the CRD's schema.
          expect(fake.requests.filter(r => r.status === 422)).toEqual([]);
        } finally {
          await h.close();
        }
      });

      it('rolls back an erroring candidate: KServe pins it at 0%', async () => {
        const h = await setup();
        try {
          await h.rollouts.start({
            modelName: MODEL,
            environment: 'cluster',
            body: { version: h.candidate, strategy: 'canary' },
            credentials: h.owner,
          });
          await h.logKServe(h.stable, 50);
          await h.logKServe(h.candidate, 5, 'error');
          const rolledBack = await h.analyzeCluster();
          expect(rolledBack).toMatchObject({
            stableVersion: h.stable,
            rollout: { state: 'rolled_back' },
          });
          expect(h.object().spec.predictor.canaryTrafficPercent).toBe(0);
        } finally {
          await h.close();
        }
      });

      it('runs blue-green: the candidate beside stable at 0%, checked ready, then switched', async () => {
        const h = await setup();
        try {
          await h.rollouts.start({
            modelName: MODEL,
            environment: 'cluster',
            body: { version: h.candidate, strategy: 'blue-green' },
            credentials: h.owner,
          });
          expect(h.object().spec.predictor.canaryTrafficPercent).toBe(0);
          // Not reconciled yet right after the write: the check waits.
          expect((await h.analyzeCluster()).rollout).toMatchObject({
            switched: false,
          });
          await h.rollouts.refreshTargetStatuses();
          const switched = await h.analyzeCluster();
          expect(switched).toMatchObject({
            weights: { candidate: 100 },
            rollout: { switched: true },
          });
          expect(h.object().spec.predictor.canaryTrafficPercent).toBe(100);
          const analyses = (await h.rollouts.detail(MODEL, 'cluster')).analyses;
          expect(analyses.map(a => [a.verdict, a.checks[0].name])).toEqual([
            ['pass', 'load'],
            ['wait', 'load'],
          ]);

          await h.logKServe(h.candidate, 30);
          const promoted = await h.analyzeCluster();
          expect(promoted).toMatchObject({
            stableVersion: h.candidate,
            rollout: { state: 'promoted' },
          });
          expect(h.object().spec.predictor).not.toHaveProperty(
            'canaryTrafficPercent',
          );
        } finally {
          await h.close();
        }
      });

      it('refuses a shadow rollout on KServe and writes nothing', async () => {
        const h = await setup();
        try {
          await expect(
            h.rollouts.start({
              modelName: MODEL,
              environment: 'cluster',
              body: { version: h.candidate, strategy: 'shadow' },
              credentials: h.owner,
            }),
          ).rejects.toMatchObject({ name: 'InputError' });
          expect(fake.objects(NAMESPACE)).toEqual([]);
        } finally {
          await h.close();
        }
      });
    },
  );
});
