import { STATUS_CODES } from 'node:http';
import { CustomErrorBase } from '@backstage/errors';
import type * as KubernetesClient from '@kubernetes/client-node';

let loaded: typeof KubernetesClient | undefined;

/**
 * `@kubernetes/client-node`, loaded the first time a KServe target (or the
 * fake API server) needs it rather than when the plugin loads: the package is
 * large and ESM-only, and a backend that deploys nothing to KServe should
 * neither pay for it nor fail on it.
 */
export function kubernetesClient(): typeof KubernetesClient {
  if (!loaded) {
    try {
      // A plain require: Node (>= 20.19) loads the ESM package synchronously,
      // and Jest transpiles it; a dynamic import() would need --experimental-vm-modules in Jest.
      loaded = require('@kubernetes/client-node') as typeof KubernetesClient;
    } catch (error) {
      throw new Error(
        `The KServe target needs @kubernetes/client-node, which could not be loaded on Node ${
          process.version
        }: ${(error as Error)?.message ?? error}`,
      );
    }
  }
  return loaded;
}

/**
 * The Kubernetes API server refused a request or could not be reached. The
 * message names the object and carries the server's own message; a 422
 * Invalid also lists the fields it rejected.
 */

export class KubernetesApiError extends CustomErrorBase {
  name = 'KubernetesApiError' as const;

  constructor(
    message: string,
    /** The HTTP status, absent when the server was not reached. */
    readonly statusCode?: number,
    /** The Status `reason`, e.g. `Invalid`, `Conflict`, `Forbidden`. */
    readonly reason?: string,
    /** The fields a 422 Invalid named (`details.causes[].field`). */
    readonly fields: string[] = [],
  ) {
    super(message);
  }
}

export function isConflict(error: unknown): error is KubernetesApiError {
  return error instanceof KubernetesApiError && error.statusCode === 409;
}

/** A Kubernetes `Status` body, as the API server sends with every error. */
interface KubernetesStatus {
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ field?: string; message?: string }> };
}

/**
 * The client throws an ApiException (`code`, `body` as text) for an HTTP
 * error and a TypeError (`fetch failed`, with a `cause`) when the server
 * cannot be reached.
 */
export function toApiError(
  error: unknown,
  action: string,
  resource: string,
  server: string,
): KubernetesApiError {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'number') {
    const body = (error as { body?: unknown }).body;
    const status = parseStatus(body);
    const reason = status?.reason ?? STATUS_CODES[code];
    const fields = (status?.details?.causes ?? [])
      .map(cause => cause.field)
      .filter((field): field is string => Boolean(field));
    const serverMessage =
      status?.message ??
      (typeof body === 'string' && body.trim()
        ? body.trim().slice(0, 500)
        : undefined);
    return new KubernetesApiError(
      `Kubernetes API refused to ${action} InferenceService ${resource}: HTTP ${code}${
        reason ? ` ${reason}` : ''
      }${serverMessage ? `: ${serverMessage}` : ''}${
        fields.length > 0 ? ` (fields: ${fields.join(', ')})` : ''
      }`,
      code,
      status?.reason ?? reason,
      fields,
    );
  }
  const cause = (error as { cause?: { message?: string } })?.cause?.message;
  const message = (error as Error)?.message ?? String(error);
  return new KubernetesApiError(
    `Could not ${action} InferenceService ${resource}: the Kubernetes API at ${server} failed: ${message}${
      cause ? ` (${cause})` : ''
    }`,
  );
}

function parseStatus(body: unknown): KubernetesStatus | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return parsed && typeof parsed === 'object'
    ? (parsed as KubernetesStatus)
    : undefined;
}
