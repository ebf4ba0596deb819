import { Knex } from 'knex';
import { AuditEvent, AuditEventList } from '@loopline/mlops-common';

export interface NewAuditEvent {
  entityRef: string;
  action: string;
  actor: string;
  comment?: string;
  details?: Record<string, unknown>;
}

interface AuditEventRow {
  id: number | string;
  entity_ref: string;
  action: string;
  actor: string;
  comment: string | null;
  details: string;
  created_at: Date | string;
}

const TABLE = 'audit_events';

/** Reads and appends the audit trail; rows are never updated or deleted. */
export class AuditStore {
  constructor(private readonly db: Knex) {}

  /** Appends an event, inside `trx` when the caller's change must commit with it. */
  async append(
    event: NewAuditEvent,
    trx?: Knex.Transaction,
  ): Promise<AuditEvent> {
    const [row] = await (trx ?? this.db)<AuditEventRow>(TABLE)
      .insert({
        entity_ref: event.entityRef,
        action: event.action,
        actor: event.actor,
        comment: event.comment ?? null,
        details: JSON.stringify(event.details ?? {}),
        created_at: new Date(),
      })
      .returning('*');
    return toAuditEvent(row);
  }

  /** Newest first, `limit` at a time; `before` is the cursor of the previous page. */
  async list(options: {
    entityRef: string;
    limit: number;
    before?: number;
  }): Promise<AuditEventList> {
    const query = this.db<AuditEventRow>(TABLE)
      .where('entity_ref', options.entityRef)
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.before !== undefined) {
      query.where('id', '<', options.before);
    }
    const rows = await query;
    const page = rows.slice(0, options.limit).map(toAuditEvent);
    return {
      items: page,
      nextCursor:
        rows.length > options.limit ? page[page.length - 1].id : undefined,
    };
  }
}

function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: Number(row.id),
    entityRef: row.entity_ref,
    action: row.action,
    actor: row.actor,
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.comment !== null ? { comment: row.comment } : {}),
    details: JSON.parse(row.details),
  };
}
