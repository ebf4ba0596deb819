import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  coreServices,
  createServiceFactory,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { startWithBackend } from '.';

jest.setTimeout(180_000);

// The helper's ports: 7700-7709.
const TAKEN_PORT = 7708;

function capturingLogger(errors: string[]): LoggerService {
  const logger: LoggerService = {
    error: message => {
      errors.push(message);
    },
    warn: () => {},
    info: () => {},
    debug: () => {},
    child: () => logger,
  };
  return logger;
}

describe('a data plane that cannot start', () => {
  it('leaves the backend up, logs the port and its config key, and stops its workers', async () => {
    const blocker = net.createServer();
    await new Promise<void>(resolve =>
      blocker.listen(TAKEN_PORT, '127.0.0.1', () => resolve()),
    );
    const artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-dp-'));
    const errors: string[] = [];
    try {
      const backend = await startTestBackend({
        features: [
          mlopsPlugin,
          createServiceFactory({
            service: coreServices.rootLogger,
            deps: {},
            factory: () => capturingLogger(errors) as any,
          }),
          mockServices.rootConfig.factory({
            data: {
              mlops: {
                artifacts: { directory: artifactDir },
                serving: {
                  dataPlane: { port: TAKEN_PORT, host: '127.0.0.1' },
                },
              },
            },
          }),
        ],
      });
      try {
        // The control plane answers, its own inference routes included.
        await request(backend.server)
          .get('/api/mlops/v2/health/live')
          .expect(200);
        const failure = errors.find(e =>
          e.includes('data plane did not start'),
        );
        expect(failure).toMatch(
          /port 7708 \(mlops\.serving\.dataPlane\.port\)/,
        );
        expect(failure).toMatch(/EADDRINUSE/);
        // No worker is left behind, or started again in a loop.
        await new Promise(r => setTimeout(r, 1500));
        expect(workerChildren()).toEqual([]);
      } finally {
        await backend.stop();
      }
    } finally {
      blocker.close();
      fs.rmSync(artifactDir, { recursive: true, force: true });
    }
  });

  it('is reported by startWithBackend without failing the startup hook', async () => {
    const hooks: Array<() => Promise<void> | void> = [];
    const closed = jest.fn(async () => {});
    const errors: string[] = [];
    startWithBackend(
      {
        start: () => Promise.reject(new Error('listen EADDRINUSE')),
        close: closed,
      },
      { addStartupHook: h => hooks.push(h), addShutdownHook: () => {} },
      capturingLogger(errors),
      { port: 9, grpcPort: 10 },
    );
    await expect(hooks[0]()).resolves.toBeUndefined();
    expect(closed).toHaveBeenCalled();
    expect(errors[0]).toMatch(
      /EADDRINUSE.*port 9 \(mlops\.serving\.dataPlane\.port\) and 10 \(mlops\.serving\.dataPlane\.grpcPort\)/,
    );
  });
});

function workerChildren(): number[] {
  return fs
    .readdirSync('/proc')
    .filter(entry => /^\d+$/.test(entry))
    .filter(entry => {
      try {
        const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
        if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) !== process.pid)
          return false;
        return fs
          .readFileSync(`/proc/${entry}/environ`, 'utf8')
          .includes('LOOPLINE_DATA_PLANE_WORKER=');
      } catch {
        return false;
      }
    })
    .map(Number);
}
