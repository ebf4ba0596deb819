import {
  modelAliasManagePermission,
  modelVersionCreatePermission,
} from '@loopline/mlops-common';
import express, { Request } from 'express';
import { MlflowRouteContext, nextPageToken } from './context';
import { mlflowSchemas as s } from '../schemas';
import { toMlflowModelVersion, toMlflowRegisteredModel } from '../mappers';
import { requireModelEntity, validateModelName } from '../../registry';

/** MLflow's `registered-models/*` routes. */
export function addRegisteredModelRoutes(
  api: express.Router,
  context: MlflowRouteContext,
) {
  const { auth, input, tags, registry } = context;

  async function registeredModelBody(name: string) {
    const model = await registry.getRegisteredModel(name);
    const latest = await registry.getLatestVersions(name);
    return toMlflowRegisteredModel(model, latest);
  }

  api.post('/registered-models/create', async (req, res) => {
    const credentials = await auth.credentialsOf(req);
    const body = input(req, s.createRegisteredModel);
    // The name first: it becomes part of the entity ref looked up below.
    validateModelName(body.name);
    const entityRef = registry.entityRefFor(body.name, tags(body.tags));
    // No catalog Model, no owner for a policy to decide on: refused, naming
    // the two ways to attach it (README, "Tracking and registry").
    await requireModelEntity(context.modelEntityExists, {
      name: body.name,
      entityRef,
    });
    // Registering a model for a catalog Model is the Model's owners' call.
    await auth.authorize(credentials, modelVersionCreatePermission, entityRef);
    await registry.createRegisteredModel({
      name: body.name,
      entityRef,
      description: body.description,
      tags: tags(body.tags),
    });
    res.json({ registered_model: await registeredModelBody(body.name) });
  });

  api.get('/registered-models/get', async (req, res) => {
    await auth.credentialsOf(req);
    const { name } = input(req, s.registeredModelName);
    res.json({ registered_model: await registeredModelBody(name) });
  });

  api.patch('/registered-models/update', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.updateRegisteredModel);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    await registry.updateRegisteredModel(body.name, {
      description: body.description,
    });
    res.json({ registered_model: await registeredModelBody(body.name) });
  });

  api.post('/registered-models/rename', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.renameRegisteredModel);
    const { credentials } = await auth.authorizedModel(
      req,
      modelVersionCreatePermission,
      body.name,
    );
    await registry.renameRegisteredModel({
      name: body.name,
      newName: body.new_name,
      credentials,
    });
    res.json({ registered_model: await registeredModelBody(body.new_name) });
  });

  // Deleting needs what registering needs; routed versions are INVALID_STATE (409).
  api.delete('/registered-models/delete', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.registeredModelName);
    const { credentials } = await auth.authorizedModel(
      req,
      modelVersionCreatePermission,
      body.name,
    );
    await registry.deleteRegisteredModel({ name: body.name, credentials });
    res.json({});
  });

  api.post('/registered-models/set-tag', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.registeredModelTag);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    await registry.setRegisteredModelTag(body.name, body.key, body.value);
    res.json({});
  });

  api.delete('/registered-models/delete-tag', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.registeredModelTagKey);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    await registry.deleteRegisteredModelTag(body.name, body.key);
    res.json({});
  });

  const searchRegisteredModels = async (
    req: Request,
    res: express.Response,
  ) => {
    await auth.credentialsOf(req);
    const body = input(req, s.searchRegisteredModels);
    const page = await registry.searchRegisteredModels({
      filter: body.filter,
      maxResults: body.max_results,
      orderBy: body.order_by,
      pageToken: body.page_token,
    });
    const latest = await registry.getLatestVersionsOf(
      page.items.map(model => model.name),
    );
    const models = page.items.map(model =>
      toMlflowRegisteredModel(model, latest.get(model.name) ?? []),
    );
    res.json({
      registered_models: models,
      ...nextPageToken(page),
    });
  };
  api.get('/registered-models/search', searchRegisteredModels);
  api.post('/registered-models/search', searchRegisteredModels);

  const latestVersions = async (req: Request, res: express.Response) => {
    await auth.credentialsOf(req);
    const body = input(req, s.latestVersions);
    const versions = await registry.getLatestVersions(body.name, body.stages);
    res.json({ model_versions: versions.map(toMlflowModelVersion) });
  };
  api.post('/registered-models/get-latest-versions', latestVersions);
  api.get('/registered-models/get-latest-versions', latestVersions);

  api.post('/registered-models/alias', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.setAlias);
    const version = body.version;
    const { credentials } = await auth.authorizedModel(
      req,
      modelAliasManagePermission,
      body.name,
    );
    await registry.setAlias({
      name: body.name,
      alias: body.alias,
      version,
      credentials,
    });
    res.json({});
  });

  api.delete('/registered-models/alias', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.alias);
    const { credentials } = await auth.authorizedModel(
      req,
      modelAliasManagePermission,
      body.name,
    );
    await registry.deleteAlias({
      name: body.name,
      alias: body.alias,
      credentials,
    });
    res.json({});
  });

  api.get('/registered-models/alias', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.alias);
    const version = await registry.getVersionByAlias(body.name, body.alias);
    res.json({ model_version: toMlflowModelVersion(version) });
  });
}
