import express, { Request } from 'express';
import type { LoggedModel } from '../../tracking';
import { toMlflowLoggedModel } from '../mappers';
import { mlflowSchemas as s } from '../schemas';
import { MlflowRouteContext, nextPageToken } from './context';

/**
 * MLflow 3's `logged-models` routes, which `mlflow.<flavor>.log_model` calls
 * before uploading the model's files, and `runs/outputs`. Like runs, any
 * signed-in user or service may log models; registering one is the registry's
 * permissioned `model-versions/create`.
 */
export function addLoggedModelRoutes(
  api: express.Router,
  context: MlflowRouteContext,
) {
  const { auth, input, tags, artifacts, loggedModels, registry } = context;
  /** Logged models in MLflow's shape, with the versions registered from each. */
  const withRegistrations = async (models: LoggedModel[]) => {
    const registrations = await registry.registrationsOf(
      models.map(m => m.modelId),
    );
    return models.map(m =>
      toMlflowLoggedModel(m, registrations.get(m.modelId)),
    );
  };
  const one = async (model: LoggedModel) =>
    (await withRegistrations([model]))[0];
  /** The path's `model_id` over anything the body says. */
  const withModelId = (req: Request) => {
    if (req.method === 'GET') {
      req.query = { ...req.query, ...req.params };
    } else {
      req.body = { ...(req.body ?? {}), ...req.params };
    }
    return req;
  };

  api.post('/logged-models', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.createLoggedModel);
    const model = await loggedModels.create({
      experimentId: body.experiment_id,
      name: body.name,
      modelType: body.model_type,
      sourceRunId: body.source_run_id || undefined,
      params: tags(body.params),
      tags: tags(body.tags),
    });
    res.json({ model: toMlflowLoggedModel(model) });
  });

  const search = async (req: Request, res: express.Response) => {
    await auth.credentialsOf(req);
    const body = input(req, s.searchLoggedModels);
    const page = await loggedModels.search({
      experimentIds: body.experiment_ids,
      filter: body.filter,
      orderBy: body.order_by?.map(o => ({
        fieldName: o.field_name,
        ascending: o.ascending,
      })),
      maxResults: body.max_results,
      pageToken: body.page_token,
    });
    res.json({
      models: await withRegistrations(page.items),
      ...nextPageToken(page),
    });
  };
  api.post('/logged-models/search', search);

  api.get('/logged-models/:model_id', async (req, res) => {
    await auth.credentialsOf(req);
    const { model_id } = input(withModelId(req), s.loggedModelId);
    res.json({ model: await one(await loggedModels.get(model_id)) });
  });

  api.patch('/logged-models/:model_id', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(withModelId(req), s.finalizeLoggedModel);
    const model = await loggedModels.finalize(body.model_id, body.status);
    res.json({ model: await one(model) });
  });

  api.delete('/logged-models/:model_id', async (req, res) => {
    await auth.credentialsOf(req);
    const { model_id } = input(withModelId(req), s.loggedModelId);
    await loggedModels.delete(model_id);
    res.json({});
  });

  api.patch('/logged-models/:model_id/tags', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(withModelId(req), s.loggedModelTags);
    await loggedModels.setTags(body.model_id, tags(body.tags));
    res.json({});
  });

  api.delete('/logged-models/:model_id/tags/:tag_key', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(withModelId(req), s.loggedModelTag);
    await loggedModels.deleteTag(body.model_id, body.tag_key);
    res.json({});
  });

  api.post('/logged-models/:model_id/params', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(withModelId(req), s.loggedModelParams);
    await loggedModels.logParams(body.model_id, tags(body.params));
    res.json({});
  });

  api.get(
    '/logged-models/:model_id/artifacts/directories',
    async (req, res) => {
      await auth.credentialsOf(req);
      const body = input(withModelId(req), s.listLoggedModelArtifacts);
      res.json(
        await artifacts.listLoggedModel(
          body.model_id,
          body.artifact_directory_path,
        ),
      );
    },
  );

  // MLflow's path is `runs/outputs`; `runs/log-outputs` is accepted as well.
  const logOutputs = async (req: Request, res: express.Response) => {
    await auth.credentialsOf(req);
    const body = input(req, s.logOutputs);
    const models = (body.models ?? []).map(m => ({
      modelId: m.model_id,
      step: m.step,
    }));
    await loggedModels.logRunOutputs(body.run_id, models);
    await context.runIo?.outputsLogged(body.run_id, models);
    res.json({});
  };
  api.post('/runs/outputs', logOutputs);
  api.post('/runs/log-outputs', logOutputs);
}
