import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { RegistryService } from '../registry';
import { MODEL_EXPERIMENT_TAG, TrackingService } from '../tracking';
import { readDemoTable } from './datasets';
import { demoModelRecipes, DemoModelRecipe, trainDemoModel } from './recipes';

const DEMO_USER = 'loopline-demo';
const MAX_METRICS_PER_BATCH = 1000;

/**
 * Gives each demo Model two real versions: trains both settings of its
 * recipe on the demo data, logs each run through the tracking service (params,
 * final metrics, per-epoch losses), registers the ONNX models (checked by the
 * registry like any upload), puts version 1 in Production and version 2 in
 * Staging. A model that already has versions is left alone, so a restart on
 * a persistent database does not add more.
 */
export async function seedDemoModels(options: {
  tracking: TrackingService;
  registry: RegistryService;
  credentials: BackstageCredentials;
  logger: LoggerService;
  dataDir?: string;
  recipes?: DemoModelRecipe[];
}): Promise<void> {
  const { tracking, registry, credentials, logger } = options;
  for (const recipe of options.recipes ?? demoModelRecipes()) {
    if ((await existingVersionCount(registry, recipe.modelName)) > 0) {
      logger.info(
        `Demo model ${recipe.modelName} has versions already; not seeding it`,
      );
      continue;
    }
    const table = readDemoTable(recipe.dataset.file, options.dataDir);
    const experimentId = await experimentFor(tracking, recipe);
    await registry
      .createRegisteredModel({
        name: recipe.modelName,
        entityRef: recipe.entityRef,
        description: `Trained by Loopline's demo from ${recipe.dataset.entityRef}`,
        tags: {},
      })
      .catch(ignoreConflict);

    const versions: number[] = [];
    for (const settingIndex of [0, 1] as const) {
      const result = trainDemoModel(recipe, settingIndex, table);
      const startTime = Date.now();
      const run = await tracking.createRun({
        experimentId,
        userId: DEMO_USER,
        runName: result.setting.label,
        startTime,
        tags: {
          'mlflow.note.content': result.setting.description,
          'loopline.dev/dataset': recipe.dataset.entityRef,
          // Where the data is, for lineage when the catalog is not read yet.
          'loopline.dev/dataset-location': `file:examples/data/${recipe.dataset.file}`,
        },
      });
      const history = result.metricHistory.map(point => ({
        ...point,
        timestamp: startTime + point.step,
      }));
      // The final figures come last, at the last step of the history.
      const lastStep = Math.max(0, ...history.map(point => point.step));
      const finalMetrics = Object.entries(result.metrics).map(
        ([key, value]) => ({
          key,
          value,
          timestamp: startTime + lastStep + 1,
          step: lastStep,
        }),
      );
      const metrics = [...history, ...finalMetrics];
      for (let i = 0; i < metrics.length; i += MAX_METRICS_PER_BATCH) {
        await tracking.logBatch({
          runId: run.runId,
          metrics: metrics.slice(i, i + MAX_METRICS_PER_BATCH),
          params:
            i === 0
              ? Object.entries(result.params).map(([key, value]) => ({
                  key,
                  value,
                }))
              : undefined,
        });
      }
      await tracking.updateRun({
        runId: run.runId,
        status: 'FINISHED',
        endTime: Date.now(),
      });
      const version = await registry.createVersion({
        name: recipe.modelName,
        source: `runs:/${run.runId}/model`,
        runId: run.runId,
        description: result.setting.description,
        tags: { 'loopline.dev/setting': result.setting.label },
        artifact: result.onnx,
        creator: DEMO_USER,
        credentials,
      });
      versions.push(version.version);
    }

    const [stable, candidate] = versions;
    await registry.transitionStage({
      name: recipe.modelName,
      version: stable,
      stage: 'Production',
      archiveExistingVersions: true,
      comment: 'Demo: the first trained version serves production',
      credentials,
    });
    await registry.transitionStage({
      name: recipe.modelName,
      version: candidate,
      stage: 'Staging',
      archiveExistingVersions: true,
      comment: 'Demo: the second version waits in staging',
      credentials,
    });
    await registry.setAlias({
      name: recipe.modelName,
      alias: 'champion',
      version: stable,
      comment: 'Demo seed',
      credentials,
    });
    await registry.setAlias({
      name: recipe.modelName,
      alias: 'challenger',
      version: candidate,
      comment: 'Demo seed',
      credentials,
    });
    logger.info(
      `Demo model ${recipe.modelName}: version ${stable} in Production, version ${candidate} in Staging`,
    );
  }
}

async function existingVersionCount(registry: RegistryService, name: string) {
  try {
    return (await registry.listVersions(name)).length;
  } catch (error) {
    if ((error as Error).name === NotFoundError.name) return 0;
    throw error;
  }
}

async function experimentFor(
  tracking: TrackingService,
  recipe: DemoModelRecipe,
) {
  try {
    return (await tracking.getExperimentByName(recipe.experimentName))
      .experimentId;
  } catch (error) {
    if ((error as Error).name !== NotFoundError.name) throw error;
    const experiment = await tracking.createExperiment({
      name: recipe.experimentName,
      tags: { [MODEL_EXPERIMENT_TAG]: recipe.modelName },
    });
    return experiment.experimentId;
  }
}

function ignoreConflict(error: Error) {
  if (error.name !== 'ConflictError') throw error;
}
