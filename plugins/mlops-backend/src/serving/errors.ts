/**
 * The serving routes answer every error as the Open Inference Protocol's
 * `{"error": "..."}`, with KServe's statuses: invalid input 400, not
 * authenticated 401, not allowed 403, unknown model or version 404, body too
 * large 413, unsupported body encoding 415, past a rate limit 429, not ready 503, not implemented
 * 501, anything else 500 (its details only in the log).
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { ErrorRequestHandler } from 'express';

/**
 * The runtime failed while running a model on inputs that passed every
 * check (500; its message is shown, as KServe shows an InferenceError's).
 */
export class InferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InferenceError';
  }
}

/**
 * A rollout arm (candidate or shadow) failed a request that its stable
 * version could answer: a server-side failure of that arm (500), whatever
 * the original error, so the rollout's analysis counts it against the arm.
 */
export class CandidateFailure extends InferenceError {
  constructor(cause: unknown) {
    super(`The version failed: ${oipErrorOf(cause).message}`);
    this.name = 'InferenceError';
  }
}

/** An error's HTTP status and the message a client may see. */
export function oipErrorOf(error: unknown): {
  status: number;
  message: string;
} {
  const e = error as {
    name?: string;
    message?: string;
    type?: string;
    status?: number;
    statusCode?: number;
    expose?: boolean;
  };
  const message =
    typeof e?.message === 'string' && e.message !== ''
      ? e.message
      : String(error);
  // Express's body parser.
  switch (e?.type) {
    case 'entity.too.large':
      return { status: 413, message: `Request body too large: ${message}` };
    case 'entity.parse.failed':
      return { status: 400, message: `Malformed JSON body: ${message}` };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, message };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return { status: 400, message };
    default:
  }
  switch (e?.name) {
    case 'InputError':
      return { status: 400, message };
    case 'AuthenticationError':
      return { status: 401, message };
    case 'NotAllowedError':
      return { status: 403, message };
    case 'NotFoundError':
      return { status: 404, message };
    case 'ConflictError':
      return { status: 409, message };
    case 'PayloadTooLargeError':
      return { status: 413, message };
    case 'RateLimitedError': // the data plane's rate limits
      return { status: 429, message };
    case 'NotImplementedError':
      return { status: 501, message };
    case 'ServiceUnavailableError':
      return { status: 503, message };
    case 'InferenceError':
      return { status: 500, message };
    default:
  }
  // Other HTTP errors that say they may be shown (http-errors' `expose`).
  const status = e?.status ?? e?.statusCode;
  if (
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    e?.expose !== false
  ) {
    return { status, message };
  }
  return { status: 500, message: 'Internal error' };
}

/** Answers every error of the serving routes as `{"error": "..."}`. */
export function oipErrorHandler(logger: LoggerService): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, message } = oipErrorOf(error);
    if (status >= 500 && status !== 503) {
      logger.error(`Serving route ${req.method} ${req.path} failed`, error);
    }
    res.status(status).json({ error: message });
  };
}
