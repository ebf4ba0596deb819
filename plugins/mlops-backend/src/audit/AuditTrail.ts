import {
  AuditorService,
  BackstageCredentials,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { AuditEvent, AuditEventList } from '@loopline/mlops-common';
import { AuditStore } from './AuditStore';

/** Who acted, as the audit trail writes it: a user's entity ref or a service's subject. */
export function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (principal.type === 'user' && principal.userEntityRef) {
    return principal.userEntityRef;
  }
  if (principal.type === 'service' && principal.subject) {
    return principal.subject;
  }
  return principal.type;
}

/**
 * The audit trail the UI shows (who, what, when, why, per entity). Each
 * entry is also sent to Backstage's auditor, so the portal's own audit log
 * sees Loopline's decisions too.
 */
export class AuditTrail {
  constructor(
    private readonly store: AuditStore,
    private readonly auditor: AuditorService,
  ) {}

  async record(
    entry: {
      entityRef: string;
      action: string;
      credentials: BackstageCredentials;
      comment?: string;
      details?: Record<string, unknown>;
    },
    trx?: Knex.Transaction,
  ): Promise<AuditEvent> {
    const event = await this.store.append(
      {
        entityRef: entry.entityRef,
        action: entry.action,
        actor: actorOf(entry.credentials),
        comment: entry.comment,
        details: entry.details,
      },
      trx,
    );
    const auditorEvent = await this.auditor.createEvent({
      eventId: entry.action.replace(/\./g, '-'),
      severityLevel: 'medium',
      meta: {
        entityRef: entry.entityRef,
        comment: entry.comment,
        ...entry.details,
      },
    });
    await auditorEvent.success();
    return event;
  }

  async list(options: {
    entityRef: string;
    limit: number;
    before?: number;
  }): Promise<AuditEventList> {
    return this.store.list(options);
  }
}
