import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Knex } from 'knex';
import {
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { DefaultEventsService } from '@backstage/plugin-events-node';
import {
  MONITORING_ALERT_TOPIC,
  MonitoringAlertEvent,
} from '@loopline/mlops-common';
import {
  createRolloutHarness,
  prepareDatabase,
} from '../rollout/__testUtils__/harness';
import { TrackingService, TrackingStore } from '../tracking';
import { AuditStore, AuditTrail } from '../audit';
import { pipelineEntity, waitFor } from './__testUtils__/harness';
import { createPipelines } from '.';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe('createPipelines', () => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    await prepareDatabase(knex);
  }, 60_000);

  it('retrains when monitoring publishes an alert on the events service, and schedules its tick', async () => {
    const rollout = await createRolloutHarness(knex);
    const workspace = fs.mkdtempSync(
      path.join(os.tmpdir(), 'loopline-wiring-'),
    );
    const logger = mockServices.logger.mock();
    const events = DefaultEventsService.create({ logger });
    const scheduler = mockServices.scheduler.mock();
    const lifecycle = mockServices.lifecycle.mock();
    try {
      const pipelines = await createPipelines({
        config: mockServices.rootConfig({
          data: { mlops: { pipelines: { workspaceDirectory: workspace } } },
        }),
        db: knex,
        logger,
        auth: mockServices.auth(),
        discovery: mockServices.discovery(),
        httpAuth: mockServices.httpAuth(),
        permissions: mockServices.permissions(),
        catalog: catalogServiceMock({
          entities: [
            pipelineEntity(
              'wine-quality-training',
              [
                {
                  name: 'retrain',
                  run: 'echo "retraining on $LOOPLINE_PARAM_ALERT_KIND"',
                },
              ],
              { triggers: [{ type: 'drift', model: 'model:wine-quality' }] },
            ),
          ],
        }),
        notifications: { send: jest.fn() } as any,
        scheduler,
        lifecycle,
        events,
        auditTrail: new AuditTrail(
          new AuditStore(knex),
          mockServices.auditor.mock(),
        ),
        tracking: new TrackingService(new TrackingStore(knex)),
        registry: rollout.registry,
        rollouts: rollout.rollouts,
      });
      expect(scheduler.scheduleTask).toHaveBeenCalledWith(
        expect.objectContaining({
          id: 'mlops-pipeline-triggers',
          scope: 'global',
          frequency: { cron: '* * * * *' },
        }),
      );

      const alert: MonitoringAlertEvent = {
        kind: 'drift',
        severity: 'warning',
        entityRef: 'model:default/wine-quality',
        model: 'wine-quality',
        version: '1',
        reportId: 'report-1',
        shareOfDriftedColumns: 0.5,
        summary: 'half the features drifted',
        raisedAt: '2026-12-07T12:00:00Z',
      };
      await events.publish({
        topic: MONITORING_ALERT_TOPIC,
        eventPayload: alert,
      });
      const list = await waitFor(async () => {
        const runs = await pipelines.service.listRuns('wine-quality-training', {
          limit: 10,
          offset: 0,
        });
        return runs.items[0]?.state === 'succeeded' && runs;
      }, 'the retraining run');
      expect(list.items).toHaveLength(1);
      expect(list.items[0].trigger).toEqual({
        type: 'drift',
        cause:
          'Monitoring alert (drift) on model:default/wine-quality: half the features drifted',
      });
      const logs = await pipelines.service.readLogs(
        'wine-quality-training',
        list.items[0].id,
        { after: 0, limit: 10 },
      );
      expect(logs.items.map(l => l.text)).toEqual(['retraining on drift']);
    } finally {
      await rollout.close();
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });
});
