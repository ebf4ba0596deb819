import { EventEmitter } from 'node:events';
import http from 'node:http';
import { mockServices } from '@backstage/backend-test-utils';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneLink } from './ControlPlaneLink';
import { DataPlaneServer } from './DataPlaneServer';
import { encodeRawTensor } from './binary';
import { loadInferenceProto } from './grpc';
import type { DataPlaneWorkerOptions } from './protocol';

jest.setTimeout(180_000);

/** A control plane that knows every token as one service, allowed everything. */
function fakeControlPlane(): ControlPlaneLink {
  const toWorker = new EventEmitter();
  return new ControlPlaneLink({
    send: (raw: unknown, cb?: (e: Error | null) => void) => {
      const m = raw as { type: string; id: number; method: string };
      if (m.type === 'dataplane:call') {
        const value =
          m.method === 'authenticate'
            ? { principal: 'service:external:fuzz' }
            : true;
        setImmediate(() =>
          toWorker.emit('message', {
            type: 'dataplane:result',
            id: m.id,
            value,
          }),
        );
      }
      cb?.(null);
      return true;
    },
    on: (e: 'message', l: (m: unknown) => void) => toWorker.on(e, l),
  });
}

function post(
  port: number,
  body: Buffer,
  headerLength: string,
): Promise<number | string> {
  return new Promise(resolve => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v2/models/wine/infer',
        headers: {
          'X-API-Key': 'fuzz',
          'Content-Type': 'application/octet-stream',
          'Content-Length': body.length,
          'Inference-Header-Content-Length': headerLength,
        },
      },
      res => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', e => resolve(String((e as { code?: string }).code ?? e)));
    req.end(body);
  });
}

const workerOptions = (): DataPlaneWorkerOptions => ({
  port: 0,
  host: '127.0.0.1',
  jsonBodyLimitBytes: 64 * 1024,
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  maxLoadedModels: 1,
  permissionCacheTtlMs: 5000,
  credentialsCacheTtlMs: 60000,
  logBufferSize: 100,
  servingEnvironment: 'production',
  environments: ['production'],
  abKeyHeader: 'x-loopline-ab-key',
  workerId: 1,
});

describe('the data plane over the wire', () => {
  it('answers 1,000 malformed binary requests with a 4xx, never a 500 or a dropped connection, and keeps serving', async () => {
    const options = workerOptions();
    const server = new DataPlaneServer(
      fakeControlPlane(),
      options,
      mockServices.logger.mock(),
    );
    const { port } = await server.listen();
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const statuses = new Map<number | string, number>();
    try {
      for (let i = 0; i < 1000; i++) {
        const n = 1 + Math.floor(random() * 12);
        const raw = encodeRawTensor({
          name: 'input',
          datatype: 'FP32',
          shape: [1, n],
          data: Array.from({ length: n }, (_, k) => k),
        });
        // Sizes that do not add up, headers longer than the body, truncations, flipped bytes.
        const size =
          random() < 0.4 ? Math.floor(random() * 60) - 8 : raw.length;
        const header = Buffer.from(
          JSON.stringify({
            inputs: [
              {
                name: 'input',
                datatype: 'FP32',
                shape: [1, n],
                parameters: { binary_data_size: size },
              },
            ],
          }),
        );
        let body = Buffer.concat([header, raw]);
        const mangle = random();
        if (mangle < 0.3) {
          body = body.subarray(0, Math.floor(random() * body.length));
        } else if (mangle < 0.5) {
          body = Buffer.from(body);
          body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
        }
        const headerLength =
          random() < 0.25
            ? String(Math.floor(random() * body.length * 2) - 3)
            : String(header.length);
        const status = await post(port, body, headerLength);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      // 400 for what is malformed; what parses names a model the (empty)
      // table does not route: 404 or 503. Never a 500, never a reset.
      for (const status of statuses.keys()) {
        expect([400, 404, 503]).toContain(status);
      }
      expect(statuses.get(400)).toBeGreaterThan(300);
      const live = await fetch(`http://127.0.0.1:${port}/v2/health/live`);
      expect(live.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('answers 1,000 gRPC ModelInfer calls with wrong raw sizes with INVALID_ARGUMENT, never INTERNAL, and keeps serving', async () => {
    const server = new DataPlaneServer(
      fakeControlPlane(),
      { ...workerOptions(), grpcPort: 0 },
      mockServices.logger.mock(),
    );
    const { grpcPort } = await server.listen();
    const proto = loadInferenceProto();
    const client = new proto.inference.GRPCInferenceService(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    const metadata = new grpc.Metadata();
    metadata.set('x-api-key', 'fuzz');
    const call = (req: object) =>
      new Promise<grpc.status>(resolve =>
        client.ModelInfer(req, metadata, (error: grpc.ServiceError | null) =>
          resolve(error ? error.code : grpc.status.OK),
        ),
      );
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const codes = new Map<grpc.status, number>();
    try {
      for (let i = 0; i < 1000; i++) {
        const n = 1 + Math.floor(random() * 12);
        // Never n * 4 bytes: a wrong length, or one raw content too many.
        const bytes =
          random() < 0.5
            ? Math.floor(random() * 64)
            : n * 4 + 1 + Math.floor(random() * 3);
        const extra = random() < 0.2 ? [Buffer.alloc(4)] : [];
        const code = await call({
          model_name: 'wine',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, n] }],
          raw_input_contents: [
            Buffer.alloc(bytes === n * 4 ? bytes + 1 : bytes),
            ...extra,
          ],
        });
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      expect([...codes.keys()]).toEqual([grpc.status.INVALID_ARGUMENT]);
      const live = await new Promise(resolve =>
        client.ServerLive({}, (error: unknown, res: unknown) =>
          resolve(error ?? res),
        ),
      );
      expect(live).toEqual({ live: true });
    } finally {
      client.close();
      await server.close();
    }
  });
});
