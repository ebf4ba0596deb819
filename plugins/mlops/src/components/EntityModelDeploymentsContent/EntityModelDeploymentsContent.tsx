import { useCallback, useId, useState } from 'react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  deploymentManagePermission,
  DeploymentDetail,
} from '@loopline/mlops-common';
import { MlopsApi, mlopsApiRef } from '../../api';
import { Time } from '../fields';
import {
  errorMessage,
  formatDuration,
  MlflowHint,
  RegisteredModelSelect,
  usePolling,
  useRegisteredModels,
} from '../shared';
import { DeploymentCard } from './DeploymentCard';
import { EnvironmentInfo } from './RolloutDialogs';

/** Props of {@link EntityModelDeploymentsContent}. */
export interface EntityModelDeploymentsContentProps {
  /** How often the deployments refresh, in milliseconds; defaults to 5000. */
  pollIntervalMs?: number;
}

/** An environment with its deployment's details, if it has one. */
interface EnvironmentDeployment extends EnvironmentInfo {
  detail?: DeploymentDetail;
}

/**
 * The configured environments in their order (plus any that still has a
 * deployment but left the configuration), each with its deployment's
 * details; environments without one are not asked for details.
 */
async function loadEnvironments(
  mlopsApi: MlopsApi,
  modelName: string,
): Promise<EnvironmentDeployment[]> {
  const list = await mlopsApi.listDeployments(modelName);
  const environments: EnvironmentInfo[] = [...list.environments];
  for (const deployment of list.items) {
    if (!environments.some(env => env.name === deployment.environment)) {
      environments.push({
        name: deployment.environment,
        target: deployment.target,
      });
    }
  }
  const deployed = new Set(list.items.map(d => d.environment));
  return Promise.all(
    environments.map(async env => ({
      ...env,
      defaults: list.defaults,
      detail: deployed.has(env.name)
        ? await mlopsApi.getDeployment(modelName, env.name)
        : undefined,
    })),
  );
}

/** One registered model's deployments, refreshed every `pollIntervalMs`. */
function ModelDeployments(props: {
  modelName: string;
  entityRef: string;
  pollIntervalMs: number;
}) {
  const { modelName, entityRef, pollIntervalMs } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const alertApi = useApi(alertApiRef);
  const polled = usePolling(
    modelName,
    () => loadEnvironments(mlopsApi, modelName),
    pollIntervalMs,
  );
  // For environments without a deployment, whose details would say.
  const manage = usePermission({
    permission: deploymentManagePermission,
    resourceRef: entityRef,
  });
  const { refresh } = polled;
  const onChanged = useCallback(
    (message: string) => {
      alertApi.post({ message, severity: 'success', display: 'transient' });
      refresh();
    },
    [alertApi, refresh],
  );

  if (!polled.value) {
    return polled.error ? (
      <ResponseErrorPanel
        title={`Could not load the deployments of ${modelName}`}
        error={polled.error}
      />
    ) : (
      <Progress />
    );
  }
  if (polled.value.length === 0) {
    return (
      <EmptyState
        missing="field"
        title="No environments configured"
        description="Configure the environments models are deployed to under mlops.rollout.environments in app-config.yaml."
      />
    );
  }
  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Typography variant="body2" color="textSecondary">
          {polled.updatedAt && (
            <>
              Updated <Time value={polled.updatedAt} />;{' '}
            </>
          )}
          refreshes every {formatDuration(pollIntervalMs)}.
        </Typography>
        {polled.error && (
          <Alert severity="warning">
            Could not refresh the deployments: {errorMessage(polled.error)}
          </Alert>
        )}
      </Grid>
      {polled.value.map(env => (
        <Grid item xs={12} key={env.name}>
          <DeploymentCard
            modelName={modelName}
            environment={env}
            detail={env.detail}
            canManage={env.detail?.canManage ?? manage.allowed}
            onChanged={onChanged}
          />
        </Grid>
      ))}
    </Grid>
  );
}

/**
 * A Model's deployments, one card per environment: stable and candidate
 * versions, target and its status, strategy and state, the traffic split,
 * the steps with the current one, the analyses with their SLO checks, and
 * the timeline; refreshed every few seconds, so steps are seen to advance.
 * Users allowed to manage deployments get the controls: start a rollout,
 * promote, roll back, pause and resume.
 */
export function EntityModelDeploymentsContent(
  props: EntityModelDeploymentsContentProps,
) {
  const { pollIntervalMs = 5000 } = props;
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const models = useRegisteredModels(entity);
  const [selected, setSelected] = useState<string>();
  const selectId = useId();

  if (models.error) {
    return (
      <ResponseErrorPanel
        title="Could not load the registered models"
        error={models.error}
      />
    );
  }
  if (!models.value) {
    return <Progress />;
  }
  if (models.value.length === 0) {
    return (
      <EmptyState
        missing="data"
        title="Nothing to deploy yet"
        description={`Register a version of ${entity.metadata.name} from training code; it can then be rolled out to each environment here.`}
        action={<MlflowHint modelName={entity.metadata.name} />}
      />
    );
  }
  const model = models.value.find(m => m.name === selected) ?? models.value[0];
  return (
    <>
      <RegisteredModelSelect
        id={`${selectId}-model`}
        models={models.value}
        value={model.name}
        onChange={setSelected}
      />
      <ModelDeployments
        key={model.name}
        modelName={model.name}
        entityRef={entityRef}
        pollIntervalMs={pollIntervalMs}
      />
    </>
  );
}
