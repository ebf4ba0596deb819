import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import type { AuditEvent } from '@loopline/mlops-common';
import { Actor, CompactColumn, CompactTable } from '../fields';
import { useAuditEvents } from '../shared';

/** Props of {@link EntityMlopsAuditCard}. */
export interface EntityMlopsAuditCardProps {
  /** Defaults to "Audit trail". */
  title?: string;
  /** How many events to load at a time; defaults to 20. */
  pageSize?: number;
}

function formatDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(
      ([key, value]) =>
        `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
    )
    .join(', ');
}

const columns: CompactColumn<AuditEvent>[] = [
  {
    title: 'Time',
    render: event => (
      <time dateTime={event.createdAt}>
        {new Date(event.createdAt).toLocaleString()}
      </time>
    ),
  },
  { title: 'Actor', render: event => <Actor actor={event.actor} /> },
  {
    title: 'Action',
    render: event => {
      const details = formatDetails(event.details);
      return (
        <>
          <code>{event.action}</code>
          {details && (
            <Typography variant="body2" color="textSecondary">
              {details}
            </Typography>
          )}
        </>
      );
    },
  },
  { title: 'Comment', render: event => event.comment },
];

/** Who did what to the current entity, when and why; newest first. */
export function EntityMlopsAuditCard(props: EntityMlopsAuditCardProps) {
  const { title = 'Audit trail', pageSize = 20 } = props;
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const { events, loading, error, hasOlder, loadOlder } = useAuditEvents({
    entityRef,
    pageSize,
  });

  let content;
  if (error) {
    content = (
      <ResponseErrorPanel
        title="Could not load the audit trail"
        error={error}
      />
    );
  } else if (!events) {
    content = <Progress />;
  } else if (events.length === 0) {
    content = (
      <Typography variant="body2" color="textSecondary">
        Nothing has been recorded for this entity yet.
      </Typography>
    );
  } else {
    content = (
      <CompactTable
        label={title}
        columns={columns}
        rows={events}
        rowKey={event => String(event.id)}
      />
    );
  }

  return (
    <InfoCard
      title={title}
      variant="gridItem"
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
