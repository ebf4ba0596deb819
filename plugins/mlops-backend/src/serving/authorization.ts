/**
 * Permission decisions for the inference hot path: each ALLOW or DENY is
 * kept a few seconds per (principal, permission, entity), so a client
 * sending many requests costs one policy round trip per TTL, not one per
 * request. Concurrent checks of the same key share one call; a failed call
 * is not kept.
 */
import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { TtlCache } from '../lib/TtlCache';

export interface PermissionDecisionCacheOptions {
  permissions: PermissionsService;
  /** How long a decision is kept. Default 5000 ms; 0 asks the policy every time. */
  ttlMs?: number;
  /** Most decisions kept. Default 10000. */
  maxEntries?: number;
  /** Milliseconds; for tests. */
  clock?: () => number;
}

type EntityPermission = ResourcePermission<'catalog-entity'>;

/** Who is asking, as a cache key. */
export function principalKey(credentials: BackstageCredentials): string {
  const principal = credentials.principal as {
    type?: string;
    userEntityRef?: string;
    subject?: string;
  };
  switch (principal?.type) {
    case 'user':
      return `user:${principal.userEntityRef}`;
    case 'service':
      return `service:${principal.subject}`;
    default:
      return 'none';
  }
}

export class PermissionDecisionCache {
  private readonly permissions: PermissionsService;
  private readonly cache: TtlCache<boolean>;

  constructor(options: PermissionDecisionCacheOptions) {
    this.permissions = options.permissions;
    this.cache = new TtlCache<boolean>({
      ttlMs: options.ttlMs ?? 5000,
      maxEntries: options.maxEntries ?? 10000,
      clock: options.clock,
    });
  }

  /** Whether the policy allows `permission` on the entity for these credentials. */
  isAllowed(
    permission: EntityPermission,
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<boolean> {
    return this.cache.get(
      `${principalKey(credentials)}\u0000${permission.name}\u0000${entityRef}`,
      async () => {
        const [decision] = await this.permissions.authorize(
          [{ permission, resourceRef: entityRef }],
          { credentials },
        );
        return decision.result === AuthorizeResult.ALLOW;
      },
    );
  }

  /** Throws NotAllowedError (403) unless allowed. */
  async authorize(
    permission: EntityPermission,
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<void> {
    if (!(await this.isAllowed(permission, entityRef, credentials))) {
      throw new NotAllowedError(
        `You are not allowed to ${permission.name} on ${entityRef}`,
      );
    }
  }

  /**
   * The entity refs among `entityRefs` allowed to these credentials: cached
   * decisions are reused, the others asked in one batch.
   */
  async filterAllowed(
    permission: EntityPermission,
    entityRefs: readonly string[],
    credentials: BackstageCredentials,
  ): Promise<Set<string>> {
    const unique = [...new Set(entityRefs)];
    if (unique.length === 0) return new Set();
    const principal = principalKey(credentials);
    let batch: Promise<boolean[]> | undefined;
    const missing: string[] = [];
    const decisions = unique.map(entityRef =>
      this.cache.get(
        `${principal}\u0000${permission.name}\u0000${entityRef}`,
        async () => {
          // Every uncached ref of this call joins one authorize call.
          const index = missing.length;
          missing.push(entityRef);
          await Promise.resolve();
          if (!batch) {
            batch = this.permissions
              .authorize(
                missing.map(ref => ({ permission, resourceRef: ref })),
                { credentials },
              )
              .then(results =>
                results.map(r => r.result === AuthorizeResult.ALLOW),
              );
          }
          return (await batch)[index];
        },
      ),
    );
    const results = await Promise.all(decisions);
    return new Set(unique.filter((_, i) => results[i]));
  }

  /** Forgets every decision (e.g. after a policy change in tests). */
  clear(): void {
    this.cache.invalidate();
  }
}
