import { useId, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { discoveryApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  isModelEntity,
  modelInvokePermission,
  ModelVersion,
  RegisteredModel,
  ServiceLevelObjectives,
  ServingModelInfo,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { Section } from '../fields';
import {
  AliasChip,
  errorMessage,
  formatNumber,
  modelCardMetrics,
  orderMetricKeys,
  RegisteredModelSelect,
  StageChip,
  useEntityTabPath,
  useRegisteredModels,
} from '../shared';
import { ServingRequests } from './ServingRequests';
import { ServingStatsView } from './ServingStatsView';
import { TryItForm } from './TryItForm';
import { usePolledStats } from './usePolledStats';

/** Props of {@link EntityModelServingCard}. */
export interface EntityModelServingCardProps {
  /** Defaults to "Serving". */
  title?: string;
  /** The window of the live figures, in seconds; defaults to 300 (5 min). */
  windowSeconds?: number;
  /** How often the live figures refresh, in milliseconds; defaults to 5000. */
  pollIntervalMs?: number;
}

/** What requests without a version get, and why; what is loaded. */
function ServedVersion(props: {
  entity: Entity;
  info: ServingModelInfo;
  versions?: ReadonlyArray<ModelVersion>;
}) {
  const { entity, info, versions } = props;
  const tabPath = useEntityTabPath(entity);
  const served =
    info.servedVersion === undefined
      ? undefined
      : versions?.find(v => v.version === info.servedVersion);
  const metrics = served
    ? orderMetricKeys(Object.keys(served.metrics), modelCardMetrics(entity))
        .slice(0, 3)
        .map(key => `${key} ${formatNumber(served.metrics[key])}`)
    : [];
  const loaded = [...info.loadedVersions].sort((a, b) => b - a);

  return (
    <>
      {info.servedVersion === undefined ? (
        <Alert severity="info">
          Requests without a version are refused: {info.model} has no version in
          Production. Move one to Production on the{' '}
          <Link to={tabPath('versions')}>Versions tab</Link> to serve it; you
          can try a specific version below meanwhile.
        </Alert>
      ) : (
        <>
          <Box display="flex" alignItems="center" flexWrap="wrap" gridGap={8}>
            <Typography variant="h5" component="p" aria-label="Served version">
              Version {info.servedVersion}
            </Typography>
            {served && <StageChip stage={served.stage} />}
            {served?.aliases.map(alias => (
              <AliasChip key={alias} alias={alias} />
            ))}
          </Box>
          <Typography variant="body2" paragraph>
            {served?.stage === 'Production'
              ? `Requests without a version go to version ${info.servedVersion}: it is the version in Production.`
              : `Requests without a version go to version ${info.servedVersion}, as the model's traffic routing decides.`}
            {served?.description &&
              ` ${served.description.replace(/\.\s*$/, '')}.`}
            {metrics.length > 0 && ` Its run scored ${metrics.join(', ')}.`}
          </Typography>
        </>
      )}
      <Typography variant="body2" color="textSecondary">
        Loaded in memory:{' '}
        {loaded.length > 0
          ? loaded.map(v => `version ${v}`).join(', ')
          : 'none yet (a version loads on its first request)'}
        .
      </Typography>
    </>
  );
}

/** The live figures; polls re-render this alone, not the form. */
function LiveTraffic(props: {
  modelName: string;
  windowSeconds: number;
  intervalMs: number;
  objectives?: ServiceLevelObjectives;
  versions?: ReadonlyArray<ModelVersion>;
}) {
  const { modelName, windowSeconds, intervalMs, objectives, versions } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const polled = usePolledStats(mlopsApi, modelName, {
    windowSeconds,
    intervalMs,
  });
  return (
    <ServingStatsView
      polled={polled}
      windowSeconds={windowSeconds}
      intervalMs={intervalMs}
      objectives={objectives}
      versions={versions}
    />
  );
}

/** How one registered model is served, its live figures and the form. */
function ServingModelPanel(props: {
  entity: Entity;
  model: RegisteredModel;
  windowSeconds: number;
  pollIntervalMs: number;
}) {
  const { entity, model, windowSeconds, pollIntervalMs } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const discoveryApi = useApi(discoveryApiRef);
  const info = useAsyncRetry(
    () => mlopsApi.getServingInfo(model.name),
    [mlopsApi, model.name],
  );
  // Stages and metrics of the versions; the card does without on failure.
  const versions = useAsync(
    () => mlopsApi.getModelVersions(model.name),
    [mlopsApi, model.name],
  );
  const baseUrl = useAsync(
    () => discoveryApi.getBaseUrl('mlops'),
    [discoveryApi],
  );
  const invoke = usePermission({
    permission: modelInvokePermission,
    resourceRef: stringifyEntityRef(entity),
  });
  const objectives = isModelEntity(entity)
    ? entity.spec.monitoring?.slos
    : undefined;

  let served;
  let tryIt;
  if (info.error) {
    const failure = (
      <Alert severity="error">
        Could not read how {model.name} is served: {errorMessage(info.error)}
      </Alert>
    );
    served = failure;
    tryIt = (
      <Typography variant="body2" color="textSecondary">
        The form needs the model's input features, which could not be read.
      </Typography>
    );
  } else if (!info.value) {
    served = <Progress />;
    tryIt = null;
  } else {
    served = (
      <ServedVersion
        entity={entity}
        info={info.value}
        versions={versions.value}
      />
    );
    tryIt = (
      <TryItForm
        modelName={model.name}
        info={info.value}
        versions={versions.value}
        canInvoke={invoke.allowed}
        baseUrl={baseUrl.value}
      />
    );
  }

  return (
    <>
      {served}
      <Section title="Live traffic">
        <LiveTraffic
          modelName={model.name}
          windowSeconds={windowSeconds}
          intervalMs={pollIntervalMs}
          objectives={objectives}
          versions={versions.value}
        />
      </Section>
      <Section title="Latest requests">
        <ServingRequests modelName={model.name} />
      </Section>
      <Section title="Try it">{tryIt}</Section>
    </>
  );
}

/**
 * A Model's serving: the version requests go to and why (its stage), the
 * versions loaded, live request rate, error rate and latency percentiles
 * (refreshed every few seconds, held to the Model's SLOs), and a form to try
 * it with the Model's features, showing the prediction, and the equivalent
 * Open Inference Protocol request as a curl command.
 */
export function EntityModelServingCard(props: EntityModelServingCardProps) {
  const {
    title = 'Serving',
    windowSeconds = 300,
    pollIntervalMs = 5000,
  } = props;
  const { entity } = useEntity();
  const models = useRegisteredModels(entity);
  const [selected, setSelected] = useState<string>();
  const formId = useId();

  let content;
  if (models.error) {
    content = (
      <ResponseErrorPanel
        title="Could not load the registered models"
        error={models.error}
      />
    );
  } else if (!models.value) {
    content = <Progress />;
  } else if (models.value.length === 0) {
    content = (
      <Typography variant="body2">
        Nothing to serve yet: no versions of {entity.metadata.name} are
        registered. Register one and move it to Production to serve it here.
      </Typography>
    );
  } else {
    const model =
      models.value.find(m => m.name === selected) ?? models.value[0];
    content = (
      <>
        <RegisteredModelSelect
          id={`${formId}-model`}
          models={models.value}
          value={model.name}
          onChange={setSelected}
        />
        <ServingModelPanel
          key={model.name}
          entity={entity}
          model={model}
          windowSeconds={windowSeconds}
          pollIntervalMs={pollIntervalMs}
        />
      </>
    );
  }

  return (
    <InfoCard
      title={title}
      subheader="Open Inference Protocol v2 at /api/mlops/v2"
    >
      {content}
    </InfoCard>
  );
}
