/** Types of the `/api/mlops` HTTP API, shared by the backend and the frontend client. */

/** `GET /api/mlops/info`: what this backend runs. */
export interface MlopsInfo {
  pluginId: 'mlops';
  version: string;
  database: {
    client: string;
    /** Names of the applied knex migrations, oldest first. */
    migrations: string[];
  };
  kinds: string[];
  permissions: string[];
}

/** One entry of the audit trail: who did what to which entity, when and why. */
export interface AuditEvent {
  id: number;
  /** Entity ref of the entity the action concerns, e.g. `model:default/wine-quality`. */
  entityRef: string;
  /** What happened, e.g. `registry.stage.transition`. */
  action: string;
  /** Entity ref of the user, or the subject of the service, that acted. */
  actor: string;
  /** ISO-8601 timestamp. */
  createdAt: string;
  comment?: string;
  details: Record<string, unknown>;
}

export interface AuditEventList {
  items: AuditEvent[];
  /** Pass as `before` to read the next page; absent on the last page. */
  nextCursor?: number;
}

/** Error body of the native routes (Backstage's standard error shape). */
export interface MlopsErrorBody {
  error: { name: string; message: string };
  request?: { method: string; url: string };
  response: { statusCode: number };
}
