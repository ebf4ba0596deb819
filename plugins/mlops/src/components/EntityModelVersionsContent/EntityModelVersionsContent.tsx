import { useCallback, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import {
  modelAliasManagePermission,
  modelStageTransitionPermission,
  GateResult,
  ModelVersion,
  RegisteredModel,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { MlflowHint, modelCardMetrics, useRegisteredModels } from '../shared';
import { RemoveAliasDialog, SetAliasDialog } from './AliasDialogs';
import { RegistryHistoryCard } from './RegistryHistoryCard';
import { TransitionStageDialog } from './TransitionStageDialog';
import { VersionDetailsDialog } from './VersionDetailsDialog';
import { VersionAction, VersionActions, VersionsTable } from './VersionsTable';

/** Props of {@link EntityModelVersionsContent}. */
export interface EntityModelVersionsContentProps {
  /** How many audit events the history reads at a time; defaults to 100. */
  historyPageSize?: number;
}

/** The versions of one registered model, with the dialogs acting on them. */
function RegisteredModelVersions(props: {
  entity: Entity;
  model: RegisteredModel;
  title: string;
  actions: VersionActions;
  refreshKey: number;
  onChanged: (message: string) => void;
}) {
  const { entity, model, title, actions, refreshKey, onChanged } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const preferredMetrics = modelCardMetrics(entity);
  const [open, setOpen] = useState<{
    action: VersionAction;
    version: ModelVersion;
  }>();
  const { value: versions, error } = useAsyncRetry(
    () => mlopsApi.getModelVersions(model.name),
    // A new refreshKey (after an action) reloads.
    [mlopsApi, model.name, refreshKey],
  );
  // The latest gate decision per version; a Model without gates shows no column.
  const hasGates = Boolean((entity.spec as { gates?: unknown })?.gates);
  const { value: gates } = useAsyncRetry(async () => {
    if (!hasGates) return undefined;
    const { items } = await mlopsApi.getGateResults(model.name);
    const latest = new Map<number, GateResult>();
    for (const result of items) {
      if (result.version !== undefined && !latest.has(result.version)) {
        latest.set(result.version, result);
      }
    }
    return latest;
  }, [mlopsApi, model.name, refreshKey, hasGates]);

  const close = () => setOpen(undefined);
  const done = (message: string) => {
    setOpen(undefined);
    onChanged(message);
  };

  let content;
  if (error) {
    content = (
      <ResponseErrorPanel
        title={`Could not load the versions of ${model.name}`}
        error={error}
      />
    );
  } else if (!versions) {
    content = <Progress />;
  } else if (versions.length === 0) {
    content = (
      <>
        <Typography variant="body2" paragraph>
          No versions of {model.name} are registered yet.
        </Typography>
        <MlflowHint modelName={model.name} />
      </>
    );
  } else {
    content = (
      <VersionsTable
        modelName={model.name}
        versions={versions}
        preferredMetrics={preferredMetrics}
        actions={actions}
        onAction={(action, version) => setOpen({ action, version })}
        gates={hasGates ? gates ?? new Map() : undefined}
      />
    );
  }

  const dialogKey = open && `${open.action}:${open.version.version}`;
  return (
    <InfoCard title={title} subheader={model.description || undefined}>
      {content}
      {open?.action === 'details' && (
        <VersionDetailsDialog
          key={dialogKey}
          entity={entity}
          version={open.version}
          preferredMetrics={preferredMetrics}
          onClose={close}
        />
      )}
      {open?.action === 'transition' && actions.canTransition && (
        <TransitionStageDialog
          key={dialogKey}
          version={open.version}
          versions={versions ?? []}
          onClose={close}
          onDone={done}
        />
      )}
      {open?.action === 'setAlias' && actions.canManageAliases && (
        <SetAliasDialog
          key={dialogKey}
          version={open.version}
          versions={versions ?? []}
          onClose={close}
          onDone={done}
        />
      )}
      {open?.action === 'removeAlias' && actions.canManageAliases && (
        <RemoveAliasDialog
          key={dialogKey}
          version={open.version}
          onClose={close}
          onDone={done}
        />
      )}
    </InfoCard>
  );
}

/**
 * The Model's registered versions (stage, aliases, metrics, signature), the
 * actions on them for those allowed, and the registry's history.
 */
export function EntityModelVersionsContent(
  props: EntityModelVersionsContentProps,
) {
  const { historyPageSize = 100 } = props;
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const alertApi = useApi(alertApiRef);
  const models = useRegisteredModels(entity);
  const transition = usePermission({
    permission: modelStageTransitionPermission,
    resourceRef: entityRef,
  });
  const aliases = usePermission({
    permission: modelAliasManagePermission,
    resourceRef: entityRef,
  });
  const actions: VersionActions = {
    canTransition: transition.allowed,
    canManageAliases: aliases.allowed,
  };
  const [refreshKey, setRefreshKey] = useState(0);
  const onChanged = useCallback(
    (message: string) => {
      alertApi.post({ message, severity: 'success', display: 'transient' });
      setRefreshKey(key => key + 1);
    },
    [alertApi],
  );

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
        title="No registered versions yet"
        description={`Register a version of ${entity.metadata.name} from training code and it shows up here, with its stage, aliases, metrics and signature.`}
        action={<MlflowHint modelName={entity.metadata.name} />}
      />
    );
  }
  const single = models.value.length === 1;
  return (
    <Grid container spacing={3}>
      {models.value.map(model => (
        <Grid item xs={12} key={model.name}>
          <RegisteredModelVersions
            entity={entity}
            model={model}
            title={single ? 'Versions' : `Versions of ${model.name}`}
            actions={actions}
            refreshKey={refreshKey}
            onChanged={onChanged}
          />
        </Grid>
      ))}
      <Grid item xs={12}>
        <RegistryHistoryCard
          entityRef={entityRef}
          refreshKey={refreshKey}
          pageSize={historyPageSize}
        />
      </Grid>
    </Grid>
  );
}
