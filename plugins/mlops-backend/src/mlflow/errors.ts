import { ErrorRequestHandler } from 'express';
import { LoggerService } from '@backstage/backend-plugin-api';

/** MLflow's error codes (`databricks_pb2.ErrorCode`) that this adapter answers with. */
export type MlflowErrorCode =
  | 'BAD_REQUEST'
  | 'MALFORMED_REQUEST'
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'INVALID_STATE'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'ENDPOINT_NOT_FOUND'
  | 'INTERNAL_ERROR';

/** An error that already carries its MLflow code and HTTP status. */
export class MlflowError extends Error {
  constructor(
    readonly errorCode: MlflowErrorCode,
    message: string,
    readonly status: number = statusOf(errorCode),
  ) {
    super(message);
    this.name = 'MlflowError';
  }
}

function statusOf(code: MlflowErrorCode): number {
  switch (code) {
    case 'RESOURCE_DOES_NOT_EXIST':
    case 'ENDPOINT_NOT_FOUND':
      return 404;
    case 'PERMISSION_DENIED':
      return 403;
    case 'INVALID_STATE':
      return 409;
    case 'UNAUTHENTICATED':
      return 401;
    case 'REQUEST_LIMIT_EXCEEDED':
      return 413;
    case 'INTERNAL_ERROR':
      return 500;
    default:
      return 400;
  }
}

/**
 * The MLflow code and status for an error thrown by a service, by Backstage's
 * auth, or by Express's body parsers. MLflow answers an existing name with
 * 400 RESOURCE_ALREADY_EXISTS, not 409, and clients rely on that code.
 */
export function toMlflowError(error: unknown): MlflowError {
  if (error instanceof MlflowError) {
    return error;
  }
  const e = error as { name?: string; message?: string; type?: string };
  const message = e?.message ?? String(error);
  // Express's body parsers (`body-parser` errors carry a `type`).
  if (e?.type === 'entity.too.large') {
    return new MlflowError(
      'REQUEST_LIMIT_EXCEEDED',
      `Request body too large: ${message}`,
    );
  }
  if (e?.type === 'entity.parse.failed') {
    return new MlflowError(
      'MALFORMED_REQUEST',
      `Malformed JSON body: ${message}`,
    );
  }
  switch (e?.name) {
    case 'InputError':
      return new MlflowError('INVALID_PARAMETER_VALUE', message);
    case 'NotFoundError':
      return new MlflowError('RESOURCE_DOES_NOT_EXIST', message);
    case 'ConflictError':
      return (e as { code?: string }).code === 'INVALID_STATE'
        ? new MlflowError('INVALID_STATE', message)
        : new MlflowError('RESOURCE_ALREADY_EXISTS', message);
    case 'NotAllowedError':
      return new MlflowError('PERMISSION_DENIED', message);
    case 'AuthenticationError':
      return new MlflowError('UNAUTHENTICATED', message);
    case 'PayloadTooLargeError':
      return new MlflowError('REQUEST_LIMIT_EXCEEDED', message);
    default:
      return new MlflowError('INTERNAL_ERROR', 'Internal error');
  }
}

/** Answers every error in MLflow's shape: `{ error_code, message }`. */
export function mlflowErrorHandler(logger: LoggerService): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const mlflowError = toMlflowError(error);
    if (mlflowError.status >= 500) {
      logger.error('MLflow route failed', error);
    }
    res.status(mlflowError.status).json({
      error_code: mlflowError.errorCode,
      message: mlflowError.message,
    });
  };
}
