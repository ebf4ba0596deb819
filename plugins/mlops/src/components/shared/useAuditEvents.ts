import { useEffect, useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { useApi } from '@backstage/core-plugin-api';
import type { AuditEvent, AuditEventList } from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';

/** An entity's audit trail as read so far, page by page. */
export interface AuditEvents {
  /** The events of the pages read, newest first; undefined before the first page. */
  events?: AuditEvent[];
  loading: boolean;
  error?: Error;
  /** Whether older events than those shown exist. */
  hasOlder: boolean;
  /** Reads the next older page and appends it. */
  loadOlder: () => void;
}

/**
 * Reads an entity's audit trail newest first, `pageSize` events at a time.
 * A new entity, page size or `refreshKey` (after an action) reads the first
 * page again and replaces what was shown.
 */
export function useAuditEvents(options: {
  entityRef: string;
  pageSize: number;
  refreshKey?: unknown;
}): AuditEvents {
  const { entityRef, pageSize, refreshKey } = options;
  const mlopsApi = useApi(mlopsApiRef);
  const [pages, setPages] = useState<AuditEventList[]>([]);

  // Without a cursor the first page replaces what was shown (another entity's
  // trail, say); with one, the older page is appended.
  const [{ loading, error }, load] = useAsyncFn(
    async (before?: number) => {
      const page = await mlopsApi.getAuditEvents({
        entityRef,
        limit: pageSize,
        before,
      });
      setPages(shown => (before === undefined ? [page] : [...shown, page]));
    },
    [mlopsApi, entityRef, pageSize],
  );
  useEffect(() => {
    load();
  }, [load, refreshKey]);

  const nextCursor = pages[pages.length - 1]?.nextCursor;
  return {
    events: pages.length ? pages.flatMap(page => page.items) : undefined,
    loading,
    error,
    hasOlder: nextCursor !== undefined,
    loadOlder: () => {
      if (nextCursor !== undefined) {
        load(nextCursor);
      }
    },
  };
}
