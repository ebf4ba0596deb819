import { createPermission } from '@backstage/plugin-permission-common';
import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';

/**
 * Loopline's permissions. The ones that change ML state are resource
 * permissions on the catalog entity they concern, so a policy can decide them
 * with the catalog's own rules (e.g. `isEntityOwner`).
 */

/** Read ML state (versions, runs, deployments, lineage) of an entity. */
export const mlopsEntityReadPermission = createPermission({
  name: 'loopline.entity.read',
  attributes: { action: 'read' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Register a new version of a Model. */
export const modelVersionCreatePermission = createPermission({
  name: 'loopline.model.version.create',
  attributes: { action: 'create' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Move a Model version between stages (None, Staging, Production, Archived). */
export const modelStageTransitionPermission = createPermission({
  name: 'loopline.model.stage.transition',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Set or delete an alias (e.g. `champion`) on a Model version. */
export const modelAliasManagePermission = createPermission({
  name: 'loopline.model.alias.manage',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Send inference requests to a served Model. */
export const modelInvokePermission = createPermission({
  name: 'loopline.model.invoke',
  attributes: {},
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Start, promote, pause, resume or roll back a Model's deployment. */
export const deploymentManagePermission = createPermission({
  name: 'loopline.deployment.manage',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Run a Model's monitoring checks now (drift, quality) and manage its reference. */
export const modelMonitorPermission = createPermission({
  name: 'loopline.model.monitor',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Trigger a run of a Pipeline. */
export const pipelineRunPermission = createPermission({
  name: 'loopline.pipeline.run',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/**
 * Move a version to Production although it fails its Model's gates (with a
 * comment, audited). A basic permission, so that a policy gives it to a
 * platform team rather than to each Model's owners.
 */
export const modelGateOverridePermission = createPermission({
  name: 'loopline.model.gate.override',
  attributes: { action: 'update' },
});

/**
 * Record OpenLineage events (the ingest routes). A basic permission: events
 * name jobs and datasets that need not be catalog entities.
 */
export const lineageIngestPermission = createPermission({
  name: 'loopline.lineage.ingest',
  attributes: { action: 'create' },
});

/**
 * Act as a serving data plane of this backend: read its routing table and
 * model files, have tokens verified, and hand in inference log events. For
 * the service token of a standalone `loopline-serving` process.
 */
export const dataPlaneConnectPermission = createPermission({
  name: 'loopline.serving.dataplane.connect',
  attributes: { action: 'update' },
});

/** Every Loopline permission, for registration with the permissions registry. */
export const mlopsPermissions = [
  mlopsEntityReadPermission,
  modelVersionCreatePermission,
  modelStageTransitionPermission,
  modelAliasManagePermission,
  modelInvokePermission,
  deploymentManagePermission,
  pipelineRunPermission,
  modelMonitorPermission,
  modelGateOverridePermission,
  lineageIngestPermission,
  dataPlaneConnectPermission,
];
