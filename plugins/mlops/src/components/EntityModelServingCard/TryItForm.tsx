import { FormEvent, useId, useMemo, useState } from 'react';
import { CodeSnippet, CopyTextButton } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import type {
  ModelVersion,
  OipInferResponse,
  PredictRequest,
  PredictResponse,
  ServingModelInfo,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { CompactTable, Field, FieldGrid } from '../fields';
import { errorMessage, formatShape } from '../shared';
import {
  buildInferRequest,
  curlCommand,
  FeatureField,
  featureFields,
  inferUrl,
  parseFeatureValues,
  TOKEN_VARIABLE,
  tryItRequestId,
} from './requests';

type Outcome =
  | { kind: 'predict'; response: PredictResponse }
  | {
      kind: 'oip';
      response: OipInferResponse;
      requestId: string;
      roundTripMs: number;
    }
  | { kind: 'error'; via: 'predict' | 'oip'; error: Error };

const precise = new Intl.NumberFormat('en-US', {
  maximumSignificantDigits: 6,
  useGrouping: false,
});

/** A predicted value: numbers to 6 significant digits, the rest as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? precise.format(value) : String(value);
  }
  if (Array.isArray(value) && value.length === 1) {
    return formatValue(value[0]);
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value, (_key, item) =>
    typeof item === 'number' && Number.isFinite(item)
      ? Number(precise.format(item))
      : item,
  );
}

/** "Request failed with 400 Bad Request" → "The request failed (400)". */
function failureTitle(outcome: Extract<Outcome, { kind: 'error' }>) {
  const status = (outcome.error as { statusCode?: number }).statusCode;
  const what = outcome.via === 'predict' ? 'The prediction' : 'The OIP request';
  return status ? `${what} failed (${status})` : `${what} failed`;
}

function FeatureInput(props: {
  id: string;
  field: FeatureField;
  value: string;
  error?: string;
  disabled: boolean;
  onChange: (value: string) => void;
}) {
  const { id, field, value, error, disabled, onChange } = props;
  const numeric = field.kind === 'float' || field.kind === 'integer';
  const hint = [field.type, field.datatype && `in ${field.datatype}`]
    .filter(Boolean)
    .join(' ');
  return (
    <TextField
      id={id}
      fullWidth
      variant="outlined"
      size="small"
      margin="dense"
      label={field.name}
      value={value}
      disabled={disabled}
      onChange={event => onChange(event.target.value)}
      type={numeric ? 'number' : 'text'}
      select={field.kind === 'boolean'}
      SelectProps={field.kind === 'boolean' ? { native: true } : undefined}
      inputProps={
        numeric
          ? {
              step: field.kind === 'integer' ? 1 : 'any',
              inputMode: field.kind === 'integer' ? 'numeric' : 'decimal',
            }
          : undefined
      }
      InputLabelProps={{ shrink: true }}
      placeholder={field.kind === 'boolean' ? undefined : field.type}
      error={Boolean(error)}
      helperText={error ?? (field.description || hint)}
    >
      {field.kind === 'boolean' && (
        <>
          <option value="" />
          <option value="true">true</option>
          <option value="false">false</option>
        </>
      )}
    </TextField>
  );
}

function PredictResult(props: { response: PredictResponse }) {
  const { response } = props;
  const outputs = Object.entries(response.outputs);
  return (
    <>
      <Typography variant="overline" color="textSecondary" component="div">
        Prediction
      </Typography>
      <Typography variant="h4" component="p" aria-label="Prediction">
        {formatValue(response.prediction)}
      </Typography>
      <FieldGrid>
        <Field label="Version" value={String(response.version)} />
        <Field
          label="Latency"
          value={`${precise.format(response.latencyMs)} ms`}
        />
        <Field
          label="Request id"
          value={
            <>
              <code>{response.requestId}</code>
              <CopyTextButton
                text={response.requestId}
                tooltipText="Request id copied"
                aria-label="Copy the request id"
              />
            </>
          }
        />
      </FieldGrid>
      {outputs.length > 1 && (
        <Box mt={1}>
          <CompactTable
            label="Outputs"
            rowKey={([name]) => name}
            rows={outputs}
            columns={[
              { title: 'Output', render: ([name]) => <code>{name}</code> },
              { title: 'Value', render: ([, value]) => formatValue(value) },
            ]}
          />
        </Box>
      )}
    </>
  );
}

function OipResult(props: {
  response: OipInferResponse;
  requestId: string;
  roundTripMs: number;
}) {
  const { response, requestId, roundTripMs } = props;
  return (
    <>
      <FieldGrid>
        <Field label="Version" value={response.model_version ?? 'not said'} />
        <Field
          label="Round trip"
          value={`${precise.format(roundTripMs)} ms, from this browser`}
        />
        <Field
          label="Request id"
          value={<code>{response.id ?? requestId}</code>}
        />
      </FieldGrid>
      <Box mt={1}>
        <CompactTable
          label="Outputs"
          rowKey={output => output.name}
          rows={response.outputs}
          columns={[
            { title: 'Output', render: output => <code>{output.name}</code> },
            {
              title: 'Tensor',
              render: output =>
                `${output.datatype}${formatShape(output.shape)}`,
            },
            { title: 'Data', render: output => formatValue(output.data) },
          ]}
        />
      </Box>
    </>
  );
}

/**
 * A form to try a served model: one field per input feature, in the model's
 * order (numbers for numeric features), and a version to send to. It
 * predicts with the convenience route or sends the equivalent Open Inference
 * Protocol request, whose curl command it shows as the fields are filled.
 */
export function TryItForm(props: {
  modelName: string;
  info: ServingModelInfo;
  /** The registered versions, to offer a specific one. */
  versions?: ReadonlyArray<ModelVersion>;
  canInvoke: boolean;
  /** The backend's base URL (`/api/mlops`), for the curl command. */
  baseUrl?: string;
}) {
  const { modelName, info, versions, canInvoke, baseUrl } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const formId = useId();
  const fields = useMemo(() => featureFields(info), [info]);
  const [raw, setRaw] = useState<Record<string, string>>({});
  const [chosenVersion, setChosenVersion] = useState<string>();
  const [showErrors, setShowErrors] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>();

  const readyVersions = useMemo(() => {
    const numbers = versions
      ? versions.filter(v => v.status === 'READY').map(v => v.version)
      : info.loadedVersions;
    return [...new Set(numbers)].sort((a, b) => b - a);
  }, [versions, info.loadedVersions]);
  // Nothing routed: the newest ready version, rather than a sure 404.
  const version =
    chosenVersion ??
    (info.servedVersion === undefined && readyVersions.length > 0
      ? String(readyVersions[0])
      : '');
  const versionNumber = version === '' ? undefined : Number(version);

  const { values, errors } = parseFeatureValues(fields, raw);
  const valid = Object.keys(errors).length === 0;
  const inferRequest = buildInferRequest(info, values);

  const run = async (via: 'predict' | 'oip') => {
    if (!valid) {
      setShowErrors(true);
      return;
    }
    setBusy(true);
    setOutcome(undefined);
    try {
      if (via === 'predict') {
        const request: PredictRequest =
          versionNumber === undefined
            ? { features: values }
            : { features: values, version: versionNumber };
        const response = await mlopsApi.predict(modelName, request);
        setOutcome({ kind: 'predict', response });
      } else if (inferRequest) {
        const requestId = tryItRequestId();
        const started = performance.now();
        const response = await mlopsApi.infer(
          modelName,
          { id: requestId, ...inferRequest },
          versionNumber,
        );
        setOutcome({
          kind: 'oip',
          response,
          requestId,
          roundTripMs: performance.now() - started,
        });
      }
    } catch (error) {
      setOutcome({ kind: 'error', via, error: error as Error });
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    run('predict');
  };

  if (fields.length === 0) {
    return (
      <Typography variant="body2" color="textSecondary">
        The input features of {modelName} are unknown: the version's ONNX
        metadata names none and no Dataset schema lists them. Send an Open
        Inference Protocol request to{' '}
        <code>{inferUrl(baseUrl ?? '<backend>/api/mlops', modelName)}</code>{' '}
        instead.
      </Typography>
    );
  }

  const servedLabel =
    info.servedVersion === undefined
      ? 'Routed (no version in Production)'
      : `Routed (now version ${info.servedVersion})`;
  const loaded = new Set(info.loadedVersions);
  const stageOf = (number: number) =>
    versions?.find(v => v.version === number)?.stage;

  return (
    <form onSubmit={submit} noValidate aria-label={`Try ${modelName}`}>
      {!canInvoke && (
        <Box mb={2}>
          <Alert severity="info">
            You may not invoke {modelName} (permission{' '}
            <code>loopline.model.invoke</code>); ask its owners.
          </Alert>
        </Box>
      )}
      <Grid container spacing={1}>
        {fields.map((field, index) => (
          <Grid item xs={12} sm={6} md={4} key={field.name}>
            <FeatureInput
              id={`${formId}-feature-${index}`}
              field={field}
              value={raw[field.name] ?? ''}
              error={showErrors ? errors[field.name] : undefined}
              disabled={!canInvoke}
              onChange={value =>
                setRaw(previous => ({ ...previous, [field.name]: value }))
              }
            />
          </Grid>
        ))}
        <Grid item xs={12} sm={6} md={4}>
          <TextField
            id={`${formId}-version`}
            select
            fullWidth
            variant="outlined"
            size="small"
            margin="dense"
            label="Version"
            value={version}
            disabled={!canInvoke}
            onChange={event => setChosenVersion(event.target.value)}
            SelectProps={{ native: true }}
            InputLabelProps={{ shrink: true }}
            helperText="Routed = what requests without a version get"
          >
            <option value="">{servedLabel}</option>
            {readyVersions.map(number => (
              <option key={number} value={String(number)}>
                {[
                  `Version ${number}`,
                  stageOf(number),
                  loaded.has(number) ? 'loaded' : undefined,
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </option>
            ))}
          </TextField>
        </Grid>
      </Grid>
      <Box display="flex" gridGap={8} mt={1} mb={2}>
        <Button
          type="submit"
          color="primary"
          variant="contained"
          disabled={busy || !canInvoke}
        >
          Predict
        </Button>
        <Button
          variant="outlined"
          disabled={busy || !canInvoke || !inferRequest}
          onClick={() => run('oip')}
        >
          Send as OIP request
        </Button>
      </Box>

      {outcome?.kind === 'error' && (
        <Alert severity="error" role="alert">
          <AlertTitle>{failureTitle(outcome)}</AlertTitle>
          {errorMessage(outcome.error)}
        </Alert>
      )}
      {(outcome?.kind === 'predict' || outcome?.kind === 'oip') && (
        <Box component="section" aria-label="Result" mb={2}>
          {outcome.kind === 'predict' ? (
            <PredictResult response={outcome.response} />
          ) : (
            <OipResult
              response={outcome.response}
              requestId={outcome.requestId}
              roundTripMs={outcome.roundTripMs}
            />
          )}
        </Box>
      )}

      <Box mt={2}>
        <Typography variant="subtitle2" component="h4" gutterBottom>
          The same request over the Open Inference Protocol
        </Typography>
        {inferRequest ? (
          <>
            <Typography variant="body2" color="textSecondary" paragraph>
              {valid
                ? 'With the values above. '
                : 'Fields not filled in yet appear as <name>. '}
              Set <code>{TOKEN_VARIABLE}</code> to a Backstage token (an
              external-access token for services).
            </Typography>
            <CodeSnippet
              text={curlCommand(
                inferUrl(
                  baseUrl ?? '<backend>/api/mlops',
                  modelName,
                  versionNumber,
                ),
                inferRequest,
              )}
              language="bash"
              showCopyCodeButton
              wrapLongLines
            />
          </>
        ) : (
          <Typography variant="body2" color="textSecondary">
            The model's signature does not say how the features map to its
            inputs, so there is no OIP equivalent to show.
          </Typography>
        )}
      </Box>
    </form>
  );
}
