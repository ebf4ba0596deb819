import {
  modelStageTransitionPermission,
  modelVersionCreatePermission,
} from '@loopline/mlops-common';
import express, { Request } from 'express';
import { MlflowRouteContext, nextPageToken } from './context';
import { mlflowSchemas as s } from '../schemas';
import { toMlflowModelVersion } from '../mappers';
import { gateOverrideOf } from '../../registry/stageGate';

/** MLflow's `model-versions/*` routes. */
export function addModelVersionRoutes(
  api: express.Router,
  context: MlflowRouteContext,
) {
  const { auth, input, tags, tracking, registry, artifacts, loggedModels } =
    context;

  api.post('/model-versions/create', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.createVersion);
    const { credentials } = await auth.authorizedModel(
      req,
      modelVersionCreatePermission,
      body.name,
    );
    // MLflow 3 registers a logged model: `model_id`, source `models:/<model_id>`.
    const loggedModel = body.model_id
      ? await loggedModels.get(body.model_id)
      : undefined;
    const runId = body.run_id || loggedModel?.sourceRunId;
    if (runId) {
      await tracking.getRun(runId);
    }
    // An ONNX file at the source (the run's or the logged model's artifacts)
    // becomes the version's artifact, checked before anything is stored.
    const artifact = await artifacts.findOnnxModel(body.source, runId);
    const version = await registry.createVersion({
      name: body.name,
      source: body.source,
      runId,
      modelId: loggedModel?.modelId,
      description: body.description,
      tags: tags(body.tags),
      artifact,
      credentials,
    });
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  api.get('/model-versions/get', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.version);
    const version = await registry.getVersion(body.name, body.version);
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  api.patch('/model-versions/update', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.updateVersion);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    const version = await registry.updateVersion(body.name, body.version, {
      description: body.description,
    });
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  const searchVersions = async (req: Request, res: express.Response) => {
    await auth.credentialsOf(req);
    const body = input(req, s.searchVersions);
    const page = await registry.searchVersions({
      filter: body.filter,
      maxResults: body.max_results,
      orderBy: body.order_by,
      pageToken: body.page_token,
    });
    res.json({
      model_versions: page.items.map(toMlflowModelVersion),
      ...nextPageToken(page),
    });
  };
  api.get('/model-versions/search', searchVersions);
  api.post('/model-versions/search', searchVersions);

  api.post('/model-versions/transition-stage', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.transitionStage);
    const { credentials } = await auth.authorizedModel(
      req,
      modelStageTransitionPermission,
      body.name,
    );
    await context.stageGate?.beforeTransition({
      name: body.name,
      version: body.version,
      stage: body.stage,
      credentials,
      comment: body.comment,
      override: await gateOverrideOf(
        context.permissions,
        credentials,
        body.override_gates,
      ),
    });
    const version = await registry.transitionStage({
      name: body.name,
      version: body.version,
      stage: body.stage,
      archiveExistingVersions: body.archive_existing_versions ?? false,
      comment: body.comment,
      credentials,
    });
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  api.post('/model-versions/set-tag', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.versionTag);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    await registry.setVersionTag(body.name, body.version, body.key, body.value);
    res.json({});
  });

  api.delete('/model-versions/delete-tag', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.versionTagKey);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    await registry.deleteVersionTag(body.name, body.version, body.key);
    res.json({});
  });

  // Deleting needs what creating needs; a routed version is INVALID_STATE (409).
  api.delete('/model-versions/delete', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.deleteVersion);
    const { credentials } = await auth.authorizedModel(
      req,
      modelVersionCreatePermission,
      body.name,
    );
    await registry.deleteVersion({
      name: body.name,
      version: body.version,
      comment: body.comment,
      credentials,
    });
    res.json({});
  });

  api.get('/model-versions/get-download-uri', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.version);
    const version = await registry.getVersion(body.name, body.version);
    res.json({ artifact_uri: version.source });
  });
}
