import { EventEmitter } from 'node:events';
import { InferenceLogger } from '../serving/log/InferenceLogger';
import type { InferenceEvent } from '../serving/log/types';
import { combineObservers } from '../serving/log/observers';
import { ServingMetrics } from '../serving/metrics';
import {
  ControlPlaneLink,
  DataPlaneAuth,
  EventShipper,
  MAX_EVENTS_PER_MESSAGE,
} from './ControlPlaneLink';
import type { WorkerMessage } from './protocol';

function event(i: number): InferenceEvent {
  return {
    requestId: `r${i}`,
    modelName: 'wine',
    version: 1,
    route: 'oip',
    status: 'ok',
    httpStatus: 200,
    latencyMs: 1,
    timestamp: i,
  };
}

describe('DataPlaneAuth', () => {
  function setup(options: { permissionTtlMs?: number } = {}) {
    let now = 1_000;
    const calls = {
      authenticate: jest.fn(async (token: string) => {
        if (token === 'bad') {
          const error = new Error('Invalid token');
          error.name = 'AuthenticationError';
          throw error;
        }
        return token === 'expiring'
          ? { principal: 'user:default/ada', expiresAt: 1_500 }
          : { principal: `service:${token}` };
      }),
      authorize: jest.fn(
        async (token: string, entityRef: string) =>
          !(token === 'ci' && entityRef === 'model:default/secret'),
      ),
    };
    const auth = new DataPlaneAuth(calls, {
      credentialsTtlMs: 60_000,
      permissionTtlMs: options.permissionTtlMs ?? 5_000,
      clock: () => now,
    });
    return { auth, calls, advance: (ms: number) => (now += ms) };
  }

  it('reads Bearer tokens and API keys', () => {
    expect(DataPlaneAuth.tokenOf({ authorization: 'Bearer abc' })).toBe('abc');
    expect(
      DataPlaneAuth.tokenOf({ authorization: 'Basic abc' }),
    ).toBeUndefined();
    expect(DataPlaneAuth.tokenOf({ 'x-api-key': ' key-1 ' })).toBe('key-1');
    expect(DataPlaneAuth.tokenOf({})).toBeUndefined();
  });

  it('verifies a token once, answers from the cache, never past its expiry', async () => {
    const { auth, calls, advance } = setup();
    await expect(auth.authenticate('ci')).resolves.toEqual({
      principal: 'service:ci',
    });
    expect(auth.authenticate('ci')).toEqual({ principal: 'service:ci' }); // synchronous hit
    expect(calls.authenticate).toHaveBeenCalledTimes(1);

    await auth.authenticate('expiring');
    auth.authenticate('expiring');
    expect(calls.authenticate).toHaveBeenCalledTimes(2);
    advance(600); // past the token's own expiry, well within the TTL
    await auth.authenticate('expiring');
    expect(calls.authenticate).toHaveBeenCalledTimes(3);
  });

  it('refuses a missing or bad token (401) and does not cache the failure', async () => {
    const { auth, calls } = setup();
    await expect(auth.authenticate(undefined)).rejects.toMatchObject({
      name: 'AuthenticationError',
    });
    await expect(auth.authenticate('bad')).rejects.toMatchObject({
      name: 'AuthenticationError',
    });
    await expect(auth.authenticate('bad')).rejects.toThrow('Invalid token');
    expect(calls.authenticate).toHaveBeenCalledTimes(2);
  });

  it('caches invoke decisions per principal and model until the TTL or a new table', async () => {
    const { auth, calls, advance } = setup();
    const ci = { principal: 'service:ci' };
    await auth.authorizeInvoke('ci', ci, 'model:default/wine');
    await expect(
      auth.authorizeInvoke('ci', ci, 'model:default/secret'),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    await expect(
      auth.authorizeInvoke('ci', ci, 'model:default/secret'),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    await auth.authorizeInvoke('ci', ci, 'model:default/wine');
    expect(calls.authorize).toHaveBeenCalledTimes(2);
    advance(5_001);
    await auth.authorizeInvoke('ci', ci, 'model:default/wine');
    expect(calls.authorize).toHaveBeenCalledTimes(3);
    auth.clearDecisions();
    await auth.authorizeInvoke('ci', ci, 'model:default/wine');
    expect(calls.authorize).toHaveBeenCalledTimes(4);
  });
});

/** The backend's inference log over a store that keeps the rows written. */
function backendLog(
  options: Omit<ConstructorParameters<typeof InferenceLogger>[0], 'store'> = {},
) {
  const written: Array<{ requestId: string }> = [];
  const logger = new InferenceLogger({
    ...options,
    store: {
      writeBatch: async batch => {
        written.push(...batch.rows);
      },
      deleteOlderThan: async () => 0,
    },
  });
  return { logger, written };
}

/** A channel busy with each message until `release()` says it was sent. */
function heldChannel() {
  const sent: Array<
    WorkerMessage & { events: InferenceEvent[]; dropped: number }
  > = [];
  let sentCallback: (() => void) | undefined;
  return {
    sent,
    link: {
      post: (message: WorkerMessage, callback?: (e: Error | null) => void) => {
        sent.push(message as (typeof sent)[number]);
        sentCallback = () => callback?.(null);
        return true;
      },
    },
    release: () => {
      const done = sentCallback;
      sentCallback = undefined;
      done?.();
    },
    busy: () => sentCallback !== undefined,
  };
}

describe('EventShipper', () => {
  it('ships events in batches; what a full buffer drops loses its log record, not its count', async () => {
    const { sent, link, release } = heldChannel();
    const shipper = new EventShipper(link, {
      bufferSize: 3,
      batchSize: 2,
      intervalMs: 1,
    });
    shipper.observe(event(1));
    await new Promise(r => setTimeout(r, 10));
    expect(sent).toEqual([
      { type: 'dataplane:events', events: [event(1)], dropped: 0 },
    ]);
    // While the first batch is in flight, 5 more arrive into a buffer of 3:
    // the two oldest lose their tensors and log record, and go first.
    const withTensors = (i: number) => ({
      ...event(i),
      requestJson: `{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[${i}]}]}`,
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [i] }],
    });
    for (let i = 2; i <= 6; i++) shipper.observe(withTensors(i));
    expect(shipper.size).toBe(5);
    release();
    await new Promise(r => setTimeout(r, 10));
    expect(sent[1]).toEqual({
      type: 'dataplane:events',
      events: [
        { ...event(2), logDropped: true },
        { ...event(3), logDropped: true },
        withTensors(4),
        withTensors(5),
      ],
      dropped: 2,
    });
    release();
    await new Promise(r => setTimeout(r, 10));
    expect(sent[2]).toEqual({
      type: 'dataplane:events',
      events: [withTensors(6)],
      dropped: 0,
    });
    release();
    await shipper.flush();
    expect(sent).toHaveLength(3);

    // In the backend the metrics count all five; the log writes three.
    const metrics = new ServingMetrics();
    const { logger, written } = backendLog();
    const backend = combineObservers(metrics, logger);
    for (const message of sent.slice(1)) {
      (message as { events: InferenceEvent[] }).events.forEach(e =>
        backend.observe(e),
      );
    }
    await logger.flush();
    expect(written.map(row => row.requestId)).toEqual(['r4', 'r5', 'r6']);
    expect(await metrics.metricsText()).toMatch(
      /loopline_inference_requests_total\{model="wine",version="1",route="oip",status="ok"\} 5/,
    );
    await logger.close();
  });

  it.each([
    ['the default', undefined, MAX_EVENTS_PER_MESSAGE],
    ['the standalone link', 600, 600],
  ])(
    'keeps at most ten buffers of unlogged events, sent in messages of a bounded size (%s)',
    async (_link, messageSize, most) => {
      const { sent, link, release, busy } = heldChannel();
      const shipper = new EventShipper(link, {
        bufferSize: 1000,
        batchSize: 500,
        intervalMs: 1,
        messageSize,
      });
      shipper.observe(event(0));
      await new Promise(r => setTimeout(r, 10));
      // The channel is stuck while 20,000 arrive: 1,000 stay whole, 10,000
      // travel unlogged, the other 9,000 are lost to the metrics as well.
      for (let i = 1; i <= 20_000; i++) shipper.observe(event(i));
      expect(shipper.size).toBe(11_000);
      const counted: InferenceEvent[] = [];
      let dropped = 0;
      while (busy()) {
        release();
        await new Promise(r => setTimeout(r, 5));
      }
      for (const message of sent.slice(1)) {
        expect(message.events.length).toBeLessThanOrEqual(most);
        counted.push(...message.events);
        dropped += message.dropped;
      }
      expect(dropped).toBe(19_000);
      expect(counted.filter(e => e.logDropped)).toHaveLength(10_000);
      expect(counted.filter(e => !e.logDropped).map(e => e.timestamp)).toEqual(
        Array.from({ length: 1000 }, (_, i) => 19_001 + i),
      );
    },
  );

  it("applies the log's sampling: left-out events travel without tensors, and the log takes the decision", async () => {
    const sent: WorkerMessage[] = [];
    const link = {
      post: (message: WorkerMessage, callback?: (e: Error | null) => void) => {
        sent.push(message);
        callback?.(null);
        return true;
      },
    };
    const draws = [0.1, 0.9, 0.9];
    const shipper = new EventShipper(link, {
      bufferSize: 10,
      intervalMs: 1,
      sampleRate: 0.25,
      random: () => draws.shift()!,
    });
    const withTensors = (i: number, status: 'ok' | 'error' = 'ok') => ({
      ...event(i),
      status,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [i] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [i] }],
    });
    // As the data plane reports an OIP JSON request: the body's text.
    const body = (i: number) =>
      `{"id":"r${i}", "inputs": [{"name":"x","datatype":"FP32","shape":[1],"data":[${i}.50]}]}`;
    const withBody = (i: number) => ({
      ...event(i),
      requestJson: body(i),
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [i] }],
    });
    shipper.observe(withBody(1));
    shipper.observe(withBody(2));
    shipper.observe(withTensors(3, 'error'));
    await shipper.flush();
    const events = (sent[0] as { events: InferenceEvent[] }).events;
    expect(events[0]).toEqual({
      ...withBody(1),
      sampled: { kept: true, rate: 0.25 },
    });
    expect(events[1]).toEqual({
      ...event(2),
      sampled: { kept: false, rate: 0.25 },
    });
    // Errors are always logged, with their tensors.
    expect(events[2]).toEqual(withTensors(3, 'error'));

    // The backend's log keeps what the worker kept, at the worker's rate, and
    // counts the rest as sampled out, without drawing again.
    const { logger, written } = backendLog({
      sampleRate: 0.25,
      random: () => {
        throw new Error('the worker decided');
      },
    });
    events.forEach(e => logger.record(e));
    await logger.flush();
    expect(written).toEqual([
      expect.objectContaining({
        requestId: 'r1',
        sampleRate: 0.25,
        // the body's inputs member, as the client wrote it
        inputs: '[{"name":"x","datatype":"FP32","shape":[1],"data":[1.50]}]',
      }),
      expect.objectContaining({ requestId: 'r3', sampleRate: 1 }),
    ]);
    expect(logger.getCounters().sampledOut).toBe(1);
    await logger.close();
  });
});

describe('ControlPlaneLink', () => {
  it('matches answers to calls and keeps error names (statuses) across the channel', async () => {
    const channel = Object.assign(new EventEmitter(), {
      send: jest.fn((message: any) => {
        setImmediate(() =>
          channel.emit(
            'message',
            message.method === 'authenticate'
              ? {
                  type: 'dataplane:result',
                  id: message.id,
                  error: { name: 'AuthenticationError', message: 'no' },
                }
              : { type: 'dataplane:result', id: message.id, value: true },
          ),
        );
        return true;
      }),
    });
    const link = new ControlPlaneLink(channel);
    await expect(link.authorize('t', 'model:default/wine')).resolves.toBe(true);
    await expect(link.authenticate('t')).rejects.toMatchObject({
      name: 'AuthenticationError',
      message: 'no',
    });
    const tables: unknown[] = [];
    link.onTable(t => tables.push(t));
    channel.emit('message', {
      type: 'dataplane:table',
      table: { revision: 'r' },
    });
    expect(tables).toEqual([{ revision: 'r' }]);
  });
});
