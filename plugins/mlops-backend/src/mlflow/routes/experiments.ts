import express, { Request } from 'express';
import { MlflowRouteContext, nextPageToken } from './context';
import { mlflowSchemas as s } from '../schemas';
import { toMlflowExperiment } from '../mappers';

/** MLflow's `experiments/*` routes. */
export function addExperimentRoutes(
  api: express.Router,
  context: MlflowRouteContext,
) {
  const { auth, input, tags, tracking } = context;

  api.post('/experiments/create', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.createExperiment);
    const experiment = await tracking.createExperiment({
      name: body.name,
      artifactLocation: body.artifact_location || undefined,
      tags: tags(body.tags),
    });
    res.json({ experiment_id: experiment.experimentId });
  });

  api.get('/experiments/get', async (req, res) => {
    await auth.credentialsOf(req);
    const { experiment_id } = input(req, s.experimentId);
    const experiment = await tracking.getExperiment(experiment_id);
    res.json({ experiment: toMlflowExperiment(experiment) });
  });

  api.get('/experiments/get-by-name', async (req, res) => {
    await auth.credentialsOf(req);
    const { experiment_name } = input(req, s.experimentByName);
    const experiment = await tracking.getExperimentByName(experiment_name);
    res.json({ experiment: toMlflowExperiment(experiment) });
  });

  const searchExperiments = async (req: Request, res: express.Response) => {
    await auth.credentialsOf(req);
    const body = input(req, s.searchExperiments);
    const page = await tracking.searchExperiments({
      filter: body.filter,
      maxResults: body.max_results,
      orderBy: body.order_by,
      pageToken: body.page_token,
      viewType: body.view_type,
    });
    res.json({
      experiments: page.items.map(toMlflowExperiment),
      ...nextPageToken(page),
    });
  };
  api.post('/experiments/search', searchExperiments);
  api.get('/experiments/search', searchExperiments);

  api.post('/experiments/set-experiment-tag', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.setExperimentTag);
    await tracking.setExperimentTag(body.experiment_id, body.key, body.value);
    res.json({});
  });

  api.post('/experiments/update', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.updateExperiment);
    await tracking.renameExperiment(body.experiment_id, body.new_name);
    res.json({});
  });

  api.post('/experiments/delete', async (req, res) => {
    await auth.credentialsOf(req);
    await tracking.deleteExperiment(input(req, s.experimentId).experiment_id);
    res.json({});
  });

  api.post('/experiments/restore', async (req, res) => {
    await auth.credentialsOf(req);
    await tracking.restoreExperiment(input(req, s.experimentId).experiment_id);
    res.json({});
  });
}
