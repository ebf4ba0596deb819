import http from 'node:http';
import { AddressInfo } from 'node:net';
import { mockServices } from '@backstage/backend-test-utils';
import { PipelineRun } from '@loopline/mlops-common';
import { pipelineEntity } from './__testUtils__/harness';
import { openLineageEmitter } from './listeners';

describe('openLineageEmitter', () => {
  it('posts START and FAIL run events of a pipeline run, with its inputs, outputs and token', async () => {
    const received: Array<{ url?: string; auth?: string; body: any }> = [];
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', c => {
        text += c;
      });
      req.on('end', () => {
        received.push({
          url: req.url,
          auth: req.headers.authorization,
          body: JSON.parse(text),
        });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const emitter = openLineageEmitter({
        url: async () => `http://127.0.0.1:${port}/api/mlops/openlineage/`,
        token: async () => 'short-lived',
        logger: mockServices.logger.mock(),
        now: () => Date.parse('2026-12-07T12:00:00Z'),
      });
      const pipeline = pipelineEntity(
        'wine-training',
        [{ name: 'a', run: 'true' }],
        {
          consumes: ['wine-features'],
        },
      );
      const run: PipelineRun = {
        id: '6f1c1a52-7b6e-4b8e-9a51-3c1f4f7b2a10',
        pipeline: 'wine-training',
        entityRef: 'pipeline:default/wine-training',
        state: 'running',
        runner: 'local',
        parameters: {},
        trigger: { type: 'manual', cause: 'x' },
        createdAt: '2026-12-07T11:59:00Z',
        cancelRequested: false,
        steps: [],
        outputs: {
          mlflowRunIds: [],
          modelVersions: [{ name: 'wine-quality', version: 4 }],
          datasetVersions: [],
          rollouts: [],
        },
      };
      await emitter.runStarted!(run, pipeline);
      await emitter.runFinished!(
        { ...run, state: 'failed', reason: 'train: Exited with code 1' },
        pipeline,
      );
      expect(received.map(r => [r.url, r.auth, r.body.eventType])).toEqual([
        [
          '/api/mlops/openlineage/api/v1/lineage',
          'Bearer short-lived',
          'START',
        ],
        ['/api/mlops/openlineage/api/v1/lineage', 'Bearer short-lived', 'FAIL'],
      ]);
      expect(received[1].body).toMatchObject({
        eventTime: '2026-12-07T12:00:00.000Z',
        schemaURL: expect.stringContaining('RunEvent'),
        run: {
          runId: run.id,
          facets: { errorMessage: { message: 'train: Exited with code 1' } },
        },
        job: { namespace: 'loopline', name: 'pipeline:default/wine-training' },
        inputs: [
          { namespace: 'loopline', name: 'dataset:default/wine-features' },
        ],
        outputs: [
          { namespace: 'loopline', name: 'model:default/wine-quality@4' },
        ],
      });
      expect(received[0].body.outputs).toEqual([]);
    } finally {
      server.close();
    }
  });
});
