import {
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
} from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Link from '@material-ui/core/Link';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import { makeStyles } from '@material-ui/core/styles';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import type {
  GateResult,
  ModelSignature,
  ModelVersion,
  ModelVersionStatus,
} from '@loopline/mlops-common';
import { Actor, Time } from '../fields';
import {
  AliasChip,
  formatNumber,
  formatTensor,
  orderMetricKeys,
  StageChip,
} from '../shared';

/** What a user may do with the versions. */
export interface VersionActions {
  canTransition: boolean;
  canManageAliases: boolean;
}

export type VersionAction =
  | 'details'
  | 'transition'
  | 'setAlias'
  | 'removeAlias';

/** How many metrics a row shows; the details show them all. */
const KEY_METRICS = 4;

export function VersionStatus(props: {
  status: ModelVersionStatus;
  message?: string;
}) {
  const { status, message } = props;
  let content;
  if (status === 'READY') {
    content = <StatusOK>Ready</StatusOK>;
  } else if (status === 'PENDING_REGISTRATION') {
    content = <StatusPending>Pending</StatusPending>;
  } else {
    content = <StatusError>Failed</StatusError>;
  }
  return message ? (
    <Tooltip title={message}>
      <span>{content}</span>
    </Tooltip>
  ) : (
    content
  );
}

/** A version's latest gate decision, its checks in the tooltip. */
export function GateStatus(props: { version: number; result?: GateResult }) {
  const { version, result } = props;
  if (!result) return <Missing>not evaluated</Missing>;
  let content;
  let label;
  if (result.passed) {
    label = 'Passed';
    content = <StatusOK>Passed</StatusOK>;
  } else if (result.overriddenBy) {
    label = 'Overridden';
    content = <StatusWarning>Overridden</StatusWarning>;
  } else {
    label = 'Refused';
    content = <StatusError>Refused</StatusError>;
  }
  const title = [
    ...result.checks.map(c => `${c.passed ? '✓' : '✗'} ${c.message}`),
    ...(result.overriddenBy
      ? [`Overridden by ${result.overriddenBy}: ${result.comment ?? ''}`]
      : []),
  ].join('\n');
  return (
    <Tooltip title={<span style={{ whiteSpace: 'pre-line' }}>{title}</span>}>
      <span aria-label={`Gates of version ${version}: ${label}`}>
        {content}
        <Typography variant="caption" color="textSecondary" component="div">
          {result.context === 'evaluate' ? 'pipeline' : 'promotion'},{' '}
          {result.checks.filter(c => c.passed).length}/{result.checks.length}{' '}
          checks
        </Typography>
      </span>
    </Tooltip>
  );
}

/** The inputs and outputs in a line, e.g. `features FP32[?, 11] → quality FP32[?, 1]`. */
export function signatureSummary(signature: ModelSignature): string {
  const side = (tensors: ModelSignature['inputs'], noun: string) =>
    tensors.length <= 2
      ? tensors.map(formatTensor).join(', ')
      : `${tensors.length} ${noun}s`;
  return `${side(signature.inputs, 'input')} → ${side(
    signature.outputs,
    'output',
  )}`;
}

/** The key metrics of a version: the model card's first, then the others. */
export function keyMetrics(
  metrics: Record<string, number>,
  preferred: ReadonlyArray<string>,
): string {
  const keys = orderMetricKeys(Object.keys(metrics), preferred);
  const shown = keys
    .slice(0, KEY_METRICS)
    .map(key => `${key} ${formatNumber(metrics[key])}`);
  const more = keys.length - KEY_METRICS;
  return more > 0 ? `${shown.join(', ')} (+${more} more)` : shown.join(', ');
}

function Missing(props: { children: string }) {
  return (
    <Typography variant="body2" color="textSecondary" component="span">
      {props.children}
    </Typography>
  );
}

const useStyles = makeStyles({
  // Short columns stay on one line; metrics and signature (the 4th and 5th
  // columns) wrap, with room to stay readable.
  table: {
    '& th, & td': { whiteSpace: 'nowrap' },
    '& td:nth-child(4), & td:nth-child(5)': {
      whiteSpace: 'normal',
      minWidth: '14em',
    },
  },
});

/** The versions of one registered model, newest first, with their actions. */
export function VersionsTable(props: {
  modelName: string;
  versions: ModelVersion[];
  preferredMetrics: ReadonlyArray<string>;
  actions: VersionActions;
  onAction: (action: VersionAction, version: ModelVersion) => void;
  /** Each version's latest gate result, when the Model has gates. */
  gates?: ReadonlyMap<number, GateResult>;
}) {
  const { modelName, versions, preferredMetrics, actions, onAction, gates } =
    props;
  const classes = useStyles();
  const withActions = actions.canTransition || actions.canManageAliases;
  const headers = [
    'Version',
    'Stage',
    'Aliases',
    'Metrics',
    'Signature',
    'Creator',
    'Created',
    'Status',
    ...(gates ? ['Gates'] : []),
    ...(withActions ? ['Actions'] : []),
  ];
  return (
    <Box overflow="auto">
      <Table
        size="small"
        aria-label={`Versions of ${modelName}`}
        className={classes.table}
      >
        <TableHead>
          <TableRow>
            {headers.map(header => (
              <TableCell key={header}>{header}</TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {versions.map(version => (
            <TableRow key={version.version} hover>
              <TableCell>
                <Link
                  component="button"
                  variant="body2"
                  aria-label={`Details of version ${version.version}`}
                  onClick={() => onAction('details', version)}
                >
                  {version.version}
                </Link>
              </TableCell>
              <TableCell>
                <StageChip stage={version.stage} />
              </TableCell>
              <TableCell>
                {version.aliases.map(alias => (
                  <AliasChip key={alias} alias={alias} />
                ))}
              </TableCell>
              <TableCell>
                {Object.keys(version.metrics).length ? (
                  keyMetrics(version.metrics, preferredMetrics)
                ) : (
                  <Missing>none</Missing>
                )}
              </TableCell>
              <TableCell>
                {version.signature ? (
                  <code>{signatureSummary(version.signature)}</code>
                ) : (
                  <Missing>not inspected</Missing>
                )}
              </TableCell>
              <TableCell>
                <Actor actor={version.creator} />
              </TableCell>
              <TableCell>
                <Time value={version.createdAt} />
              </TableCell>
              <TableCell>
                <VersionStatus
                  status={version.status}
                  message={version.statusMessage}
                />
              </TableCell>
              {gates && (
                <TableCell>
                  <GateStatus
                    version={version.version}
                    result={gates.get(version.version)}
                  />
                </TableCell>
              )}
              {withActions && (
                <TableCell>
                  <Box display="flex" flexWrap="wrap" style={{ gap: 4 }}>
                    {actions.canTransition && (
                      <Button
                        size="small"
                        color="primary"
                        variant="outlined"
                        onClick={() => onAction('transition', version)}
                      >
                        Transition stage
                      </Button>
                    )}
                    {actions.canManageAliases && (
                      <Button
                        size="small"
                        color="primary"
                        onClick={() => onAction('setAlias', version)}
                      >
                        Set alias
                      </Button>
                    )}
                    {actions.canManageAliases && version.aliases.length > 0 && (
                      <Button
                        size="small"
                        onClick={() => onAction('removeAlias', version)}
                      >
                        Remove alias
                      </Button>
                    )}
                  </Box>
                </TableCell>
              )}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Box>
  );
}
