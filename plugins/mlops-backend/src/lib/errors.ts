import { ConflictError } from '@backstage/errors';

/**
 * A change the resource's current state does not allow, e.g. deleting a
 * version that a deployment routes. A ConflictError (409 on the native
 * routes), marked so the MLflow routes answer MLflow's `INVALID_STATE`.
 */
export class InvalidStateError extends ConflictError {
  readonly code = 'INVALID_STATE';
}
