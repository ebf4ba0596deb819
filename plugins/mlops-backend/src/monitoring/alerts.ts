/**
 * What happens when monitoring finds something: the owners get a Backstage
 * notification, an audit record is written, and `loopline.monitoring.alert`
 * is published on the events service (pipelines subscribe to it to
 * retrain), and, when `mlops.monitoring.alertmanager.url` is set, the alert
 * is posted to Alertmanager's `POST /api/v2/alerts`. Each kind alerts once
 * per cooldown per Model. A failing channel is logged and never fails the
 * check.
 */
import type {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import type { EventsService } from '@backstage/plugin-events-node';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import {
  MONITORING_ALERT_TOPIC,
  MonitoringAlertEvent,
} from '@loopline/mlops-common';
import type { AuditTrail } from '../audit';
import type { MonitoringStore } from './MonitoringStore';

export interface MonitoringAlerter {
  /** Raises the alert unless one of its kind was raised within the cooldown; true when raised. */
  raise(alert: MonitoringAlertEvent, cooldownMinutes: number): Promise<boolean>;
}

const NOTIFICATION_SEVERITY = {
  info: 'normal',
  warning: 'high',
  critical: 'critical',
} as const;

export function createAlerter(options: {
  store: MonitoringStore;
  events?: EventsService;
  notifications?: NotificationService;
  auditTrail?: AuditTrail;
  serviceCredentials: () => Promise<BackstageCredentials>;
  logger: LoggerService;
  /** Alertmanager's base URL (`mlops.monitoring.alertmanager.url`). */
  alertmanagerUrl?: string;
  /** The portal's base URL, for links back to the Drift tab. */
  appBaseUrl?: string;
  now?: () => number;
}): MonitoringAlerter {
  const now = options.now ?? Date.now;
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (error) {
      options.logger.warn(
        `Monitoring alert: could not ${what}: ${(error as Error)?.message}`,
      );
    }
  };
  return {
    async raise(alert, cooldownMinutes) {
      const last = await options.store.lastAlertAt(alert.model, alert.kind);
      if (last !== undefined && now() - last < cooldownMinutes * 60_000) {
        return false;
      }
      await options.store.recordAlert({
        modelName: alert.model,
        version: alert.version,
        kind: alert.kind,
        severity: alert.severity,
        payload: alert,
        createdAt: now(),
      });
      const { namespace, name } = parseEntityRef(alert.entityRef);
      const link = `/catalog/${namespace}/model/${name}/drift`;
      await attempt('publish the event', async () =>
        options.events?.publish({
          topic: MONITORING_ALERT_TOPIC,
          eventPayload: alert,
        }),
      );
      await attempt('notify the owners', async () =>
        options.notifications?.send({
          recipients: { type: 'entity', entityRef: alert.entityRef },
          payload: {
            title: `${alert.model} v${alert.version}: ${alert.summary}`,
            description: alert.driftedFeatures?.length
              ? `Drifted features: ${alert.driftedFeatures.join(', ')}`
              : undefined,
            link,
            severity: NOTIFICATION_SEVERITY[alert.severity],
            topic: `loopline-monitoring:${alert.model}:${alert.kind}`,
          },
        }),
      );
      await attempt('write the audit record', async () =>
        options.auditTrail?.record({
          entityRef: alert.entityRef,
          action: `monitoring.alert.${alert.kind}`,
          credentials: await options.serviceCredentials(),
          comment: alert.summary,
          details: {
            version: alert.version,
            severity: alert.severity,
            ...(alert.reportId ? { reportId: alert.reportId } : {}),
          },
        }),
      );
      if (options.alertmanagerUrl) {
        const url = new URL(
          'api/v2/alerts',
          withSlash(options.alertmanagerUrl),
        );
        await attempt('post to Alertmanager', async () => {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(
              toAlertmanager(alert, `${options.appBaseUrl ?? ''}${link}`),
            ),
            signal: AbortSignal.timeout(10_000),
          });
          if (!res.ok)
            throw new Error(
              `${res.status} ${(await res.text()).slice(0, 200)}`,
            );
        });
      }
      return true;
    },
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * An alert as Alertmanager's API v2 takes it (`postableAlerts`): labels
 * identify it (so a re-sent alert is the same one), annotations describe it,
 * and Alertmanager resolves it after its `resolve_timeout` unless sent again.
 */
export function toAlertmanager(alert: MonitoringAlertEvent, link: string) {
  const alertname = {
    drift: 'LooplineDataDrift',
    quality: 'LooplineModelQuality',
    concept_drift: 'LooplineConceptDrift',
    serving: 'LooplineServingSlo',
  }[alert.kind];
  return [
    {
      labels: {
        alertname,
        model: alert.model,
        version: alert.version,
        severity: alert.severity,
        kind: alert.kind,
        entity: alert.entityRef,
      },
      annotations: {
        summary: `${alert.model} v${alert.version}: ${alert.summary}`,
        ...(alert.driftedFeatures?.length
          ? {
              description: `Drifted features: ${alert.driftedFeatures.join(
                ', ',
              )}`,
            }
          : {}),
      },
      startsAt: alert.raisedAt,
      generatorURL: link,
    },
  ];
}
