import type { Page } from '@loopline/mlops-common';
import { decodePageToken, encodePageToken } from './pageToken';

/**
 * One page from the page token's offset: `fetch` is asked for one row more
 * than `limit`, so whether a next page exists is known without counting.
 * Without a limit the page holds every remaining row. A bad token is an
 * InputError before `fetch` is called.
 */
export function readPage<T>(
  pageToken: string | undefined,
  limit: number,
  fetch: (offset: number, limit: number) => Promise<T[]>,
): Promise<Page<T>>;
export function readPage<T>(
  pageToken: string | undefined,
  limit: number | undefined,
  fetch: (offset: number, limit: number | undefined) => Promise<T[]>,
): Promise<Page<T>>;
export async function readPage<T>(
  pageToken: string | undefined,
  limit: number | undefined,
  // Undefined only reaches a fetch of the second overload, which takes it.
  fetch: (offset: number, limit: number) => Promise<T[]>,
): Promise<Page<T>> {
  const offset = decodePageToken(pageToken);
  const rows = await fetch(
    offset,
    (limit === undefined ? undefined : limit + 1) as number,
  );
  if (limit === undefined || rows.length <= limit) {
    return { items: rows };
  }
  return {
    items: rows.slice(0, limit),
    nextPageToken: encodePageToken(offset + limit),
  };
}
