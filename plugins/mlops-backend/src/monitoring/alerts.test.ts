import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import http from 'http';
import { AddressInfo } from 'net';
import type { MonitoringAlertEvent } from '@loopline/mlops-common';
import { applyMigrations } from '../database/migrations';
import { createAlerter } from './alerts';
import { MonitoringStore } from './MonitoringStore';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

const ALERT: MonitoringAlertEvent = {
  kind: 'drift',
  severity: 'warning',
  entityRef: 'model:default/wine-quality',
  model: 'wine-quality',
  version: '2',
  reportId: 'r1',
  shareOfDriftedColumns: 0.25,
  driftedFeatures: ['alcohol', 'sulphates'],
  summary: 'data drift in 2 of 12 features',
  raisedAt: '2026-12-07T12:00:00.000Z',
};

describe('createAlerter', () => {
  let server: http.Server;
  let received: Array<{ method?: string; url?: string; body: any }>;
  let status = 200;

  beforeAll(async () => {
    // A local stand-in for Alertmanager's API.
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', chunk => (text += chunk));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          body: JSON.parse(text),
        });
        res.statusCode = status;
        res.end(status === 200 ? '' : 'bad alert');
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise(resolve => server.close(resolve)));
  beforeEach(() => {
    received = [];
    status = 200;
  });

  async function setup() {
    const knex = await databases.init('SQLITE_3');
    await applyMigrations(knex);
    const logger = mockServices.logger.mock();
    const { port } = server.address() as AddressInfo;
    let now = Date.parse(ALERT.raisedAt);
    return {
      logger,
      advance: (ms: number) => (now += ms),
      alerter: createAlerter({
        store: new MonitoringStore(knex),
        serviceCredentials: async () => ({} as any),
        logger,
        alertmanagerUrl: `http://127.0.0.1:${port}/am`,
        appBaseUrl: 'http://portal.example',
        now: () => now,
      }),
    };
  }

  it("posts each alert to Alertmanager's /api/v2/alerts, once per cooldown", async () => {
    const { alerter, advance } = await setup();
    expect(await alerter.raise(ALERT, 10)).toBe(true);
    expect(await alerter.raise(ALERT, 10)).toBe(false);
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/am/api/v2/alerts',
        body: [
          {
            labels: {
              alertname: 'LooplineDataDrift',
              model: 'wine-quality',
              version: '2',
              severity: 'warning',
              kind: 'drift',
              entity: 'model:default/wine-quality',
            },
            annotations: {
              summary: 'wine-quality v2: data drift in 2 of 12 features',
              description: 'Drifted features: alcohol, sulphates',
            },
            startsAt: '2026-12-07T12:00:00.000Z',
            generatorURL:
              'http://portal.example/catalog/default/model/wine-quality/drift',
          },
        ],
      },
    ]);
    advance(11 * 60_000);
    expect(await alerter.raise(ALERT, 10)).toBe(true);
    expect(received).toHaveLength(2);
  });

  it('logs an Alertmanager that refuses, and still raises the alert', async () => {
    const { alerter, logger } = await setup();
    status = 400;
    expect(await alerter.raise({ ...ALERT, kind: 'concept_drift' }, 10)).toBe(
      true,
    );
    expect(received[0].body[0].labels.alertname).toBe('LooplineConceptDrift');
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/could not post to Alertmanager: 400 bad alert/),
    );
  });
});
