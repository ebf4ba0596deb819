import { useId } from 'react';
import Box from '@material-ui/core/Box';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import type { RolloutSlo } from '@loopline/mlops-common';

/** The SLO fields a rollout may override, as typed; empty keeps the configured value. */
export interface SloOverrideTexts {
  minRequests: string;
  /** In percent. */
  maxErrorRate: string;
  maxLatencyP95Ms: string;
  maxLatencyP99Ms: string;
}

export const NO_SLO_OVERRIDES: SloOverrideTexts = {
  minRequests: '',
  maxErrorRate: '',
  maxLatencyP95Ms: '',
  maxLatencyP99Ms: '',
};

/** A number field's value, or why it is not one within the bounds. */
function readNumber(
  text: string,
  options: { min: number; max?: number; integer?: boolean },
): { value?: number; problem?: string } {
  if (!text.trim()) {
    return {};
  }
  const value = Number(text);
  if (
    !Number.isFinite(value) ||
    (options.integer && !Number.isInteger(value))
  ) {
    return { problem: options.integer ? 'A whole number' : 'A number' };
  }
  if (
    value < options.min ||
    (options.max !== undefined && value > options.max)
  ) {
    return {
      problem:
        options.max === undefined
          ? `At least ${options.min}`
          : `From ${options.min} to ${options.max}`,
    };
  }
  return { value };
}

/** What the SLO override fields say. */
export interface SloOverrides {
  /** Why a field's text is not a value it accepts, per field. */
  problems: Partial<Record<keyof SloOverrideTexts, string>>;
  /** The overrides to send (only the fields filled in); none when a field has a problem. */
  overrides?: Partial<RolloutSlo>;
}

/** Reads the override fields: each one's value or problem. */
export function readSloOverrides(texts: SloOverrideTexts): SloOverrides {
  const fields = {
    minRequests: readNumber(texts.minRequests, { min: 0, integer: true }),
    // Entered in percent, sent as a share (0..1) as the SLO holds it.
    maxErrorRate: readNumber(texts.maxErrorRate, { min: 0, max: 100 }),
    maxLatencyP95Ms: readNumber(texts.maxLatencyP95Ms, { min: 0 }),
    maxLatencyP99Ms: readNumber(texts.maxLatencyP99Ms, { min: 0 }),
  };
  const problems: SloOverrides['problems'] = {};
  for (const [key, field] of Object.entries(fields)) {
    if (field.problem) {
      problems[key as keyof SloOverrideTexts] = field.problem;
    }
  }
  if (Object.keys(problems).length) {
    return { problems };
  }
  const overrides: Partial<RolloutSlo> = {};
  if (fields.minRequests.value !== undefined) {
    overrides.minRequests = fields.minRequests.value;
  }
  if (fields.maxErrorRate.value !== undefined) {
    overrides.maxErrorRate = fields.maxErrorRate.value / 100;
  }
  if (fields.maxLatencyP95Ms.value !== undefined) {
    overrides.maxLatencyP95Ms = fields.maxLatencyP95Ms.value;
  }
  if (fields.maxLatencyP99Ms.value !== undefined) {
    overrides.maxLatencyP99Ms = fields.maxLatencyP99Ms.value;
  }
  return { problems, overrides };
}

/** A field's help with the server's default for it, when known. */
function withDefault(help: string, value: string | number | undefined) {
  return value === undefined ? help : `${help}; default ${value}`;
}

const msOrNone = (ms: number | undefined) =>
  ms === undefined ? 'none' : `${ms} ms`;

/**
 * Optional overrides of the environment's configured SLO for one rollout,
 * each field saying the server's default.
 */
export function SloOverrideFields(props: {
  value: SloOverrideTexts;
  onChange: (texts: SloOverrideTexts) => void;
  problems: SloOverrides['problems'];
  /** The environment's configured SLO, when the server said. */
  defaults?: RolloutSlo;
}) {
  const { value, onChange, problems, defaults } = props;
  const id = useId();
  const field = (
    key: keyof SloOverrideTexts,
    idSuffix: string,
    label: string,
    help: string,
  ) => (
    <TextField
      id={`${id}-${idSuffix}`}
      label={label}
      type="number"
      inputProps={{ step: 'any', min: 0 }}
      value={value[key]}
      onChange={event => onChange({ ...value, [key]: event.target.value })}
      error={Boolean(problems[key])}
      helperText={problems[key] ?? help}
      margin="dense"
    />
  );
  return (
    <Box mt={2}>
      <Typography variant="subtitle2">SLO overrides</Typography>
      <Typography variant="body2" color="textSecondary">
        Empty fields keep the configured SLO.
      </Typography>
      <Box display="flex" flexWrap="wrap" gridColumnGap={16}>
        {field(
          'minRequests',
          'min-requests',
          'Min requests',
          withDefault('Per step; fewer → wait', defaults?.minRequests),
        )}
        {field(
          'maxErrorRate',
          'max-error-rate',
          'Max error rate (%)',
          withDefault(
            'Of the candidate’s requests',
            defaults && `${defaults.maxErrorRate * 100}%`,
          ),
        )}
        {field(
          'maxLatencyP95Ms',
          'max-p95',
          'Max p95 latency (ms)',
          withDefault(
            'Candidate’s 95th percentile',
            defaults && msOrNone(defaults.maxLatencyP95Ms),
          ),
        )}
        {field(
          'maxLatencyP99Ms',
          'max-p99',
          'Max p99 latency (ms)',
          withDefault(
            'Candidate’s 99th percentile',
            defaults && msOrNone(defaults.maxLatencyP99Ms),
          ),
        )}
      </Box>
    </Box>
  );
}
