import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import type { AuditEvent } from '@loopline/mlops-common';
import { Actor, CompactColumn, CompactTable, Time } from '../fields';
import { useAuditEvents } from '../shared';

const ACTIONS: Record<string, string> = {
  'registry.version.create': 'Version registered',
  'registry.stage.transition': 'Stage transition',
  'registry.alias.set': 'Alias set',
  'registry.alias.delete': 'Alias removed',
};

export function isRegistryEvent(event: AuditEvent): boolean {
  return event.action.startsWith('registry.');
}

const text = (value: unknown) =>
  value === undefined || value === null ? undefined : String(value);

/** What changed, e.g. `Staging → Production` or `@champion: v1 → v2`. */
export function describeChange(event: AuditEvent): string {
  const { details } = event;
  switch (event.action) {
    case 'registry.stage.transition': {
      const change = `${text(details.from) ?? '?'} → ${
        text(details.to) ?? '?'
      }`;
      const archived = Array.isArray(details.archived) ? details.archived : [];
      return archived.length
        ? `${change} (archived ${
            archived.length === 1 ? 'version' : 'versions'
          } ${archived.join(', ')})`
        : change;
    }
    case 'registry.alias.set': {
      const previous = text(details.previousVersion);
      const to = `v${text(details.version) ?? '?'}`;
      return previous
        ? `@${text(details.alias)}: v${previous} → ${to}`
        : `@${text(details.alias)} → ${to}`;
    }
    case 'registry.alias.delete': {
      const from = text(details.previousVersion) ?? text(details.version);
      return `@${text(details.alias)}: ${from ? `v${from}` : '?'} → removed`;
    }
    case 'registry.version.create':
      return text(details.source) ?? '';
    default:
      return Object.entries(details)
        .filter(([key]) => key !== 'version')
        .map(
          ([key, value]) =>
            `${key}: ${
              typeof value === 'string' ? value : JSON.stringify(value)
            }`,
        )
        .join(', ');
  }
}

const columns: CompactColumn<AuditEvent>[] = [
  { title: 'Time', render: event => <Time value={event.createdAt} /> },
  { title: 'Who', render: event => <Actor actor={event.actor} /> },
  {
    title: 'Action',
    render: event => ACTIONS[event.action] ?? <code>{event.action}</code>,
  },
  { title: 'Version', render: event => text(event.details.version) },
  { title: 'Change', render: describeChange },
  { title: 'Comment', render: event => event.comment },
];

/**
 * The registry's part of the entity's audit trail: registrations, stage
 * transitions and alias changes; newest first.
 */
export function RegistryHistoryCard(props: {
  entityRef: string;
  /** Changing it reloads the history (after an action). */
  refreshKey: number;
  pageSize: number;
}) {
  const { entityRef, refreshKey, pageSize } = props;
  const {
    events: trail,
    loading,
    error,
    hasOlder,
    loadOlder,
  } = useAuditEvents({ entityRef, pageSize, refreshKey });
  const events = trail?.filter(isRegistryEvent);

  let content;
  if (error) {
    content = (
      <ResponseErrorPanel title="Could not load the history" error={error} />
    );
  } else if (!events) {
    content = <Progress />;
  } else if (events.length === 0) {
    content = (
      <Typography variant="body2" color="textSecondary">
        No registrations, stage transitions or alias changes recorded yet.
      </Typography>
    );
  } else {
    content = (
      <CompactTable
        label="Registry history"
        columns={columns}
        rows={events}
        rowKey={event => String(event.id)}
      />
    );
  }
  return (
    <InfoCard
      title="History"
      subheader="Registrations, stage transitions and alias changes"
      actions={
        hasOlder &&
        !error && (
          <Button color="primary" disabled={loading} onClick={loadOlder}>
            Show older events
          </Button>
        )
      }
    >
      {content}
    </InfoCard>
  );
}
