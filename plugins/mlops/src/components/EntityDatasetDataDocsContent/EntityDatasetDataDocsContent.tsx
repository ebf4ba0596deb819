import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Link from '@material-ui/core/Link';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import type {
  DatasetValidation,
  ExpectationResult,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { Time } from '../fields';

/** Props of {@link EntityDatasetDataDocsContent}. */
export interface EntityDatasetDataDocsContentProps {
  /** How many past validations the history lists; defaults to 20. */
  limit?: number;
}

function argumentsOf(result: ExpectationResult): string {
  return Object.entries(result.kwargs)
    .map(
      ([key, value]) =>
        `${key}=${Array.isArray(value) ? `[${value.join(', ')}]` : value}`,
    )
    .join(', ');
}

function observedOf(result: ExpectationResult): string {
  if (result.observedValue !== undefined) {
    const v = result.observedValue;
    return Number.isInteger(v) ? String(v) : v.toFixed(4);
  }
  if (result.elementCount === 0 && result.message) return '–';
  return `${result.unexpectedCount} of ${
    result.elementCount
  } unexpected (${result.unexpectedPercent.toFixed(2)}%)`;
}

/** One validation as Great Expectations' data docs show it: an expectation per row. */
function ValidationTable(props: { validation: DatasetValidation }) {
  const { validation } = props;
  return (
    <Table size="small" aria-label="Expectation results">
      <TableHead>
        <TableRow>
          <TableCell>Status</TableCell>
          <TableCell>Expectation</TableCell>
          <TableCell>Column</TableCell>
          <TableCell>Arguments</TableCell>
          <TableCell>Observed</TableCell>
          <TableCell>Sample of unexpected values</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {validation.results.map((result, index) => (
          <TableRow key={index}>
            <TableCell>
              {result.success ? (
                <StatusOK>Passed</StatusOK>
              ) : (
                <StatusError>Failed</StatusError>
              )}
            </TableCell>
            <TableCell>
              <code>{result.type}</code>
              {result.message && (
                <Typography variant="caption" color="error" component="div">
                  {result.message}
                </Typography>
              )}
            </TableCell>
            <TableCell>{result.column ?? '–'}</TableCell>
            <TableCell>{argumentsOf(result) || '–'}</TableCell>
            <TableCell>{observedOf(result)}</TableCell>
            <TableCell>
              {result.partialUnexpectedList.length > 0
                ? result.partialUnexpectedList
                    .map(v => (v === null ? 'null' : String(v)))
                    .join(', ')
                : '–'}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/**
 * The Dataset's data docs: the latest validation of its `expectations` on
 * the data at its location (each expectation's result), and the history of
 * validations, as a pipeline's `validate-data` step records them.
 */
export function EntityDatasetDataDocsContent(
  props: EntityDatasetDataDocsContentProps,
) {
  const { limit = 20 } = props;
  const { entity } = useEntity();
  const mlopsApi = useApi(mlopsApiRef);
  const namespace = entity.metadata.namespace ?? 'default';
  const name = entity.metadata.name;
  const [selected, setSelected] = useState<string>();
  const { value, error, loading } = useAsyncRetry(
    () => mlopsApi.getDatasetValidations({ namespace, name, limit }),
    [mlopsApi, namespace, name, limit],
  );
  const declared =
    (entity.spec as { expectations?: unknown[] } | undefined)?.expectations ??
    [];

  if (error) {
    return (
      <ResponseErrorPanel
        title="Could not load the validations of this dataset"
        error={error}
      />
    );
  }
  if (loading && !value) return <Progress />;
  const items = value?.items ?? [];
  if (items.length === 0) {
    return (
      <EmptyState
        missing="data"
        title="Not validated yet"
        description={
          declared.length > 0
            ? `${name} declares ${declared.length} expectations; a pipeline's validate-data step runs them on its data and the results show here.`
            : `${name} declares no expectations (spec.expectations); add some, and a pipeline's validate-data step runs them.`
        }
      />
    );
  }
  const shown = items.find(v => v.id === selected) ?? items[0];
  const { statistics } = shown;
  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <InfoCard
          title="Data docs"
          subheader={`Validation of ${shown.location} (${shown.rowCount} rows)`}
        >
          <Box
            display="flex"
            alignItems="center"
            style={{ gap: 16 }}
            mb={2}
            aria-label="Validation summary"
          >
            {shown.success ? (
              <StatusOK>All expectations met</StatusOK>
            ) : (
              <StatusError>
                {statistics.unsuccessfulExpectations} of{' '}
                {statistics.evaluatedExpectations} expectations failed
              </StatusError>
            )}
            <Typography variant="body2" color="textSecondary">
              {statistics.successfulExpectations}/
              {statistics.evaluatedExpectations} passed (
              {statistics.successPercent.toFixed(0)}%), validated{' '}
              <Time value={Date.parse(shown.validatedAt)} />
              {shown.pipelineRunId
                ? ` by pipeline run ${shown.pipelineRunId.slice(0, 8)}`
                : ''}
            </Typography>
          </Box>
          <ValidationTable validation={shown} />
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <InfoCard title="Validation history">
          <Table size="small" aria-label="Validation history">
            <TableHead>
              <TableRow>
                <TableCell>Validated</TableCell>
                <TableCell>Result</TableCell>
                <TableCell>Expectations passed</TableCell>
                <TableCell>Rows</TableCell>
                <TableCell>Pipeline run</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {items.map(v => (
                <TableRow key={v.id} selected={v.id === shown.id} hover>
                  <TableCell>
                    <Link
                      component="button"
                      variant="body2"
                      onClick={() => setSelected(v.id)}
                    >
                      <Time value={Date.parse(v.validatedAt)} />
                    </Link>
                  </TableCell>
                  <TableCell>
                    {v.success ? (
                      <StatusOK>Passed</StatusOK>
                    ) : (
                      <StatusError>Failed</StatusError>
                    )}
                  </TableCell>
                  <TableCell>
                    {v.statistics.successfulExpectations}/
                    {v.statistics.evaluatedExpectations}
                  </TableCell>
                  <TableCell>{v.rowCount}</TableCell>
                  <TableCell>
                    {v.pipelineRunId ? v.pipelineRunId.slice(0, 8) : '–'}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </InfoCard>
      </Grid>
    </Grid>
  );
}
