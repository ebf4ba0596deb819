import { InputError } from '@backstage/errors';

/**
 * Page tokens of the search and list routes (MLflow's `page_token`): opaque
 * to callers, base64url of `{"offset": n}` inside.
 */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

/** The offset of a page token (0 without one); InputError for anything else. */
export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  let offset: unknown;
  try {
    offset = JSON.parse(
      Buffer.from(token, 'base64url').toString('utf8'),
    )?.offset;
  } catch {
    offset = undefined;
  }
  if (
    typeof offset !== 'number' ||
    !Number.isSafeInteger(offset) ||
    offset < 0
  ) {
    throw new InputError(`Invalid page token '${token}'`);
  }
  return offset;
}
