/**
 * The messages between the control plane (the backend) and a data-plane
 * worker, over the worker's IPC channel (advanced serialization, so
 * Buffers travel as bytes).
 */
import type { ServingFeature } from '@loopline/mlops-common';
import type { InferenceEvent } from '../serving/log/types';
import type { RoutingTable } from './routingTable';
import type { RateLease } from './rateLimits';

/** What a worker is started with. */
export interface DataPlaneWorkerOptions {
  port: number;
  host: string;
  /** OIP over gRPC on this port too; absent: HTTP only. */
  grpcPort?: number;
  /** Largest JSON body, in bytes. */
  jsonBodyLimitBytes: number;
  intraOpNumThreads: number;
  interOpNumThreads: number;
  maxLoadedModels: number;
  permissionCacheTtlMs: number;
  credentialsCacheTtlMs: number;
  logBufferSize: number;
  /** Most log events per message to the control plane. Default 500. */
  logBatchSize?: number;
  /** Most events per message, those whose log record was dropped included (see EventShipper). */
  logMessageSize?: number;
  /** The inference log's sample rate, applied in the worker (see EventShipper). Default 1. */
  logSampleRate?: number;
  /** Rollout routing (the embedded environments and the A/B key header). */
  servingEnvironment: string;
  environments: string[];
  abKeyHeader: string;
  /** The id of this worker, for logs. */
  workerId: number;
  /** Rate limits are configured: inference requests take a token of their principal's bucket. */
  rateLimited?: boolean;
}

/** A token's verification, as the worker caches it. */
export interface VerifiedToken {
  /** `user:<ref>` or `service:<subject>`: the permission cache's key. */
  principal: string;
  /** Milliseconds since the epoch; absent when the token does not expire. */
  expiresAt?: number;
}

export interface ControlPlaneCalls {
  /** Verifies a token (user, service or static external-access); throws AuthenticationError. */
  authenticate(token: string): Promise<VerifiedToken>;
  /** Whether the token's principal may invoke the model entity. */
  authorize(token: string, entityRef: string): Promise<boolean>;
  /** A version's ONNX bytes, sha256-checked by the registry. */
  readArtifact(name: string, version: number): Promise<Buffer>;
  /** A slice of the principal's rate-limit bucket (see rateLimits.ts). */
  rateLease(principal: string): Promise<RateLease>;
  /** The catalog Dataset's features of a model (predict routes). */
  featuresFor(request: {
    entityRef: string;
    datasetRef?: string;
  }): Promise<ServingFeature[] | undefined>;
}

export type CallMethod = keyof ControlPlaneCalls;

export type WorkerMessage =
  | {
      type: 'dataplane:listening';
      port: number;
      grpcPort?: number;
      workerId: number;
    }
  | {
      type: 'dataplane:call';
      id: number;
      method: CallMethod;
      args: unknown[];
    }
  | {
      type: 'dataplane:events';
      events: InferenceEvent[];
      /** Events dropped since the last message (the worker's buffer was full). */
      dropped: number;
      /** Requests refused (429) since the last message, by tier. */
      rateLimited?: Record<string, number>;
    }
  | { type: 'dataplane:table-applied'; revision: string; workerId: number }
  /** The worker could not start (e.g. its port is taken) and exits. */
  | { type: 'dataplane:failed'; message: string; workerId: number };

export type ControlPlaneMessage =
  | { type: 'dataplane:table'; table: RoutingTable }
  | {
      type: 'dataplane:result';
      id: number;
      value?: unknown;
      error?: { name: string; message: string };
    };

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('dataplane:');
}

/** `1mb`, `512kb`, `100` (bytes) or a number: bytes. */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!match) throw new Error(`Invalid size: ${value}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit]!;
  return Math.floor(Number(match[1]) * factor);
}
