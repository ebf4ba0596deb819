import { InputError } from '@backstage/errors';
import {
  KSERVE_REQUEST_EVENT,
  KSERVE_RESPONSE_EVENT,
  KServeLogPart,
} from './types';
import { tryParseVersion } from '../../lib/version';

/** A CloudEvent's time further than this from now is not trusted; arrival time is used. */
const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;
const MAX_ID = 256;
const MAX_NAME = 256;
const MAX_SHORT = 64;

/** What the router hands over: the HTTP request's headers and body. */
export interface CloudEventHttpInput {
  /** Header names lower-case, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body (Buffer), or a body a JSON parser already parsed. */
  body: unknown;
  /** Arrival time, ms since the epoch. */
  now: number;
}

/**
 * Reads one CloudEvent of KServe's request logger: binary mode (attributes in
 * `ce-*` headers, the body is the OIP/V1 payload) as KServe sends it, or
 * structured mode (`application/cloudevents+json`). Throws InputError (400)
 * for a missing or unknown `type`, a missing `id` or InferenceService name.
 */
export function parseKServeCloudEvent(
  input: CloudEventHttpInput,
): KServeLogPart {
  const contentType = header(input.headers, 'content-type') ?? '';
  const structured = /^application\/cloudevents\+json\b/i.test(contentType);

  let attributes: Record<string, unknown>;
  let data: unknown;
  let dataContentType: string | undefined;
  if (structured) {
    const envelope = parseJsonBody(input.body);
    if (!isObject(envelope)) {
      throw new InputError(
        'A structured CloudEvent must be a JSON object with its attributes',
      );
    }
    attributes = envelope;
    dataContentType = stringOrUndefined(envelope.datacontenttype);
    if (typeof envelope.data_base64 === 'string') {
      data = decodePayload(
        Buffer.from(envelope.data_base64, 'base64'),
        dataContentType,
      );
    } else {
      data = envelope.data;
    }
  } else {
    attributes = {};
    for (const [name, value] of Object.entries(input.headers)) {
      if (name.startsWith('ce-')) {
        const text = Array.isArray(value) ? value[0] : value;
        attributes[name.slice(3)] =
          text === undefined ? undefined : percentDecode(text);
      }
    }
    dataContentType = contentType || undefined;
    data = Buffer.isBuffer(input.body)
      ? decodePayload(input.body, dataContentType)
      : input.body;
  }

  const type = stringOrUndefined(attributes.type);
  if (!type) {
    throw new InputError(
      'Missing CloudEvent type (ce-type header): expected ' +
        `${KSERVE_REQUEST_EVENT} or ${KSERVE_RESPONSE_EVENT}`,
    );
  }
  if (type !== KSERVE_REQUEST_EVENT && type !== KSERVE_RESPONSE_EVENT) {
    throw new InputError(
      `Unknown CloudEvent type "${type.slice(0, 200)}": expected ` +
        `${KSERVE_REQUEST_EVENT} or ${KSERVE_RESPONSE_EVENT}`,
    );
  }
  const id = stringOrUndefined(attributes.id);
  if (!id) {
    throw new InputError('Missing CloudEvent id (ce-id header)');
  }
  if (id.length > MAX_ID) {
    throw new InputError(`CloudEvent id longer than ${MAX_ID} characters`);
  }
  const modelName = stringOrUndefined(attributes.inferenceservicename);
  if (!modelName) {
    throw new InputError(
      'Missing InferenceService name (ce-inferenceservicename header)',
    );
  }
  if (modelName.length > MAX_NAME) {
    throw new InputError(
      `InferenceService name longer than ${MAX_NAME} characters`,
    );
  }

  const kind = type === KSERVE_REQUEST_EVENT ? 'request' : 'response';
  const part: KServeLogPart = {
    kind,
    requestId: id,
    modelName,
    timestamp:
      trustedTime(attributes.recordedtime, input.now) ??
      trustedTime(attributes.time, input.now) ??
      input.now,
  };
  const namespace = shortString(attributes.namespace, MAX_NAME);
  const component = shortString(attributes.component, MAX_SHORT);
  const endpoint = shortString(attributes.endpoint, MAX_SHORT);
  if (namespace) part.namespace = namespace;
  if (component) part.component = component;
  if (endpoint) part.endpoint = endpoint;

  if (kind === 'request') {
    part.payload = isTensorList(data, 'inputs')
      ? (data as { inputs: unknown }).inputs
      : data;
  } else {
    part.payload = isTensorList(data, 'outputs')
      ? (data as { outputs: unknown }).outputs
      : data;
    const error = errorOf(data);
    if (error !== undefined) {
      part.error = error;
    }
    const version = versionOf(data);
    if (version !== undefined) {
      part.version = version;
    }
  }
  return part;
}

function header(
  headers: CloudEventHttpInput['headers'],
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function percentDecode(value: string): string {
  if (!value.includes('%')) {
    return value;
  }
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== ''
    ? value.trim()
    : undefined;
}

function shortString(value: unknown, max: number): string | undefined {
  const text = stringOrUndefined(value);
  return text === undefined ? undefined : text.slice(0, max);
}

function parseJsonBody(body: unknown): unknown {
  if (Buffer.isBuffer(body)) {
    try {
      return JSON.parse(stripBom(body.toString('utf8')));
    } catch {
      throw new InputError('The structured CloudEvent is not valid JSON');
    }
  }
  return body;
}

/** A JSON payload parsed; anything else kept as a marker of what it was. */
function decodePayload(
  bytes: Buffer,
  contentType: string | undefined,
): unknown {
  if (bytes.length === 0) {
    return undefined;
  }
  try {
    return JSON.parse(stripBom(bytes.toString('utf8')));
  } catch {
    return {
      unparsed: true,
      contentType: contentType ?? null,
      bytes: bytes.length,
    };
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** An OIP v2 body: `{inputs|outputs: [{name, datatype, shape, data}, ...]}`. */
function isTensorList(data: unknown, key: 'inputs' | 'outputs'): boolean {
  if (!isObject(data) || !Array.isArray(data[key])) {
    return false;
  }
  return (data[key] as unknown[]).every(
    t =>
      isObject(t) &&
      typeof t.name === 'string' &&
      typeof t.datatype === 'string',
  );
}

/** KServe answers errors as `{"error": "..."}` (V1 and V2) and logs the body as the response. */
function errorOf(data: unknown): string | undefined {
  if (!isObject(data) || data.error === undefined || data.error === null) {
    return undefined;
  }
  if ('outputs' in data || 'predictions' in data) {
    return undefined;
  }
  const error = data.error;
  if (typeof error === 'string') {
    return error || 'error';
  }
  try {
    return JSON.stringify(error);
  } catch {
    return 'error';
  }
}

/** The registry version, when the response's `model_version` is one (a positive integer). */
function versionOf(data: unknown): number | undefined {
  if (!isObject(data)) {
    return undefined;
  }
  const version = tryParseVersion(data.model_version);
  // The registry stores versions as 32-bit integers.
  return version !== undefined && version <= 2_147_483_647
    ? version
    : undefined;
}

function trustedTime(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    return undefined;
  }
  const time = Date.parse(value);
  if (!Number.isFinite(time) || Math.abs(time - now) > MAX_CLOCK_SKEW_MS) {
    return undefined;
  }
  return time;
}
