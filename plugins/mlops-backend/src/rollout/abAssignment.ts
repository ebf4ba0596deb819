/**
 * A/B assignment: which arm a request (or a conversion) belongs to. A key's
 * bucket is sticky within a rollout and reshuffled between rollouts, so a
 * user sees one arm for the whole test and the conversions recorded for
 * that user count for the same arm.
 */
import type { RolloutArm } from '@loopline/mlops-common';
import { bucketOf } from '../lib/hash';
import type { RoutingHints } from '../serving/TrafficRouter';
import type { RolloutRecord } from './RolloutStore';

/** The arm a key is assigned to at the rollout's current weight. */
export function armOfKey(rollout: RolloutRecord, key: string): RolloutArm {
  return bucketOf(rollout.id, key) < rollout.weight ? 'candidate' : 'stable';
}

/**
 * The A/B key of a request: the rollout's parameter, else its header (the
 * configured one unless the rollout names another); undefined without one.
 */
export function abKeyOf(
  rollout: RolloutRecord,
  hints: RoutingHints | undefined,
  defaultHeader: string,
): string | undefined {
  if (!hints) return undefined;
  const source = rollout.abKey ?? { header: defaultHeader };
  if (source.parameter) {
    const value = hints.parameters?.[source.parameter];
    if (typeof value === 'string' || typeof value === 'number') {
      return String(value);
    }
  }
  if (source.header) {
    const value = hints.header(source.header);
    if (value) return value;
  }
  return undefined;
}

/**
 * A request's bucket 0..99 in a rollout: by its A/B key for an A/B rollout
 * (else by the request's key), so the split is reproducible per key; random
 * without any key.
 */
export function bucketOfRequest(
  rollout: RolloutRecord,
  request: { requestKey?: string; hints?: RoutingHints; abKeyHeader: string },
): number {
  const key =
    rollout.strategy === 'ab'
      ? abKeyOf(rollout, request.hints, request.abKeyHeader) ??
        request.requestKey
      : request.requestKey;
  return key !== undefined
    ? bucketOf(rollout.id, key)
    : Math.floor(Math.random() * 100);
}
