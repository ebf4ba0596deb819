import { InferenceLoggerTimers } from '../InferenceLogger';
import {
  InferenceEvent,
  InferenceLogBatch,
  InferenceLogWriter,
} from '../types';

/** Timers that fire only when the test says so. */
export class ManualTimers implements InferenceLoggerTimers {
  private nextId = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Delays of the armed timers. */
  delays(): number[] {
    return [...this.pending.values()].map(t => t.ms);
  }

  /** Fires every armed timer once. */
  fireAll(): void {
    const timers = [...this.pending.values()];
    this.pending.clear();
    for (const timer of timers) {
      timer.callback();
    }
  }
}

/** A promise the test resolves. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>(r => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Wraps a writer: counts writes, can hold them or make them fail. */
export class ControlledWriter implements InferenceLogWriter {
  readonly batches: InferenceLogBatch[] = [];
  /** When set, each write waits for it. */
  gate?: Promise<void>;
  /** Writes still to fail. */
  failNext = 0;

  constructor(private readonly inner: InferenceLogWriter) {}

  async writeBatch(batch: InferenceLogBatch): Promise<void> {
    this.batches.push(batch);
    if (this.gate) {
      await this.gate;
    }
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('database unavailable');
    }
    await this.inner.writeBatch(batch);
  }

  deleteOlderThan(cutoffMs: number): Promise<number> {
    return this.inner.deleteOlderThan(cutoffMs);
  }
}

export function anEvent(
  overrides: Partial<InferenceEvent> = {},
): InferenceEvent {
  return {
    requestId: 'req-1',
    modelName: 'wine-quality',
    version: 1,
    route: 'oip',
    status: 'ok',
    httpStatus: 200,
    latencyMs: 2.5,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
    outputs: [
      { name: 'variable', datatype: 'FP32', shape: [1, 1], data: [5.5] },
    ],
    timestamp: 1_800_000_000_000,
    ...overrides,
  };
}
