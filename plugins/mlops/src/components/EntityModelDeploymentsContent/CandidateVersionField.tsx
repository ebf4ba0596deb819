import { useId } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import type { ModelVersion } from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { errorMessage } from '../shared';

/** The versions that can be rolled out: ready ones, but not the stable one. */
export function useCandidateVersions(
  modelName: string,
  stableVersion: number | undefined,
) {
  const mlopsApi = useApi(mlopsApiRef);
  return useAsync(
    async () =>
      (await mlopsApi.getModelVersions(modelName)).filter(
        v => v.status === 'READY' && v.version !== stableVersion,
      ),
    [mlopsApi, modelName, stableVersion],
  );
}

/**
 * The version to propose: the newest in Staging (what is usually rolled
 * out), else the newest one.
 */
export function proposedVersion(versions: ModelVersion[]): number | undefined {
  return (versions.find(v => v.stage === 'Staging') ?? versions[0])?.version;
}

/**
 * Picks the candidate of a rollout among the versions of
 * {@link useCandidateVersions}; says so when there is none, or when they
 * could not be read.
 */
export function CandidateVersionField(props: {
  modelName: string;
  stableVersion?: number;
  candidates: ReturnType<typeof useCandidateVersions>;
  value?: number;
  onChange: (version: number) => void;
  /** The registry stage a promotion moves the candidate to. */
  promotionStage?: string;
}) {
  const { modelName, stableVersion, candidates } = props;
  const id = useId();
  if (candidates.error) {
    return (
      <Alert severity="error">
        Could not load the versions of {modelName}:{' '}
        {errorMessage(candidates.error)}
      </Alert>
    );
  }
  if (!candidates.value) {
    return <Progress />;
  }
  if (candidates.value.length === 0) {
    return (
      <Alert severity="info">
        No ready version of {modelName} to roll out
        {stableVersion === undefined
          ? ''
          : ` besides version ${stableVersion}, which is running`}
        .
      </Alert>
    );
  }
  return (
    <TextField
      id={`${id}-version`}
      select
      label="Version"
      value={props.value ?? ''}
      onChange={event => props.onChange(Number(event.target.value))}
      SelectProps={{ native: true }}
      helperText={
        props.promotionStage
          ? `Promotion moves it to ${props.promotionStage} in the registry`
          : undefined
      }
      fullWidth
      margin="dense"
    >
      {candidates.value.map(v => (
        <option key={v.version} value={v.version}>
          {`Version ${v.version} · ${v.stage}${
            v.description ? ` · ${v.description}` : ''
          }`}
        </option>
      ))}
    </TextField>
  );
}
