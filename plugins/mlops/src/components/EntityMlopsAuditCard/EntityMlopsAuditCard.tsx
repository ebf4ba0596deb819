import { useEffect, useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import type { AuditEvent, AuditEventList } from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { Actor, CompactColumn, CompactTable } from '../fields';

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
  const mlopsApi = useApi(mlopsApiRef);
  const [pages, setPages] = useState<AuditEventList[]>([]);

  // Without a cursor the first page replaces what was shown (another entity's
  // trail, say); with one, the older page is appended.
  const [{ loading, error }, load] = useAsyncFn(
    async (before?: number) => {
      const page = await mlopsApi.getAuditEvents({
        entityRef,
        limit: pageSize,
        before,
      });
      setPages(shown => (before === undefined ? [page] : [...shown, page]));
    },
    [mlopsApi, entityRef, pageSize],
  );
  useEffect(() => {
    load();
  }, [load]);

  const events = pages.flatMap(page => page.items);
  const nextCursor = pages[pages.length - 1]?.nextCursor;

  let content;
  if (error) {
    content = (
      <ResponseErrorPanel
        title="Could not load the audit trail"
        error={error}
      />
    );
  } else if (pages.length === 0) {
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
        nextCursor !== undefined &&
        !error && (
          <Button
            color="primary"
            disabled={loading}
            onClick={() => load(nextCursor)}
          >
            Show older events
          </Button>
        )
      }
    >
      {content}
    </InfoCard>
  );
}
