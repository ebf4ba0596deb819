import { BackstageCredentials } from '@backstage/backend-plugin-api';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PipelineStepKind } from '@loopline/mlops-common';
import { demoModelRecipe, trainDemoModel } from '../demo/recipes';
import { readDemoTable } from '../demo/datasets';
import type { RegistryService } from '../registry';
import type { RolloutService } from '../rollout';
import type { TrackingService } from '../tracking';
import type { DatasetValidationService, GateService } from '../quality';
import { LOWER_IS_BETTER } from '../quality/gates';
import type { BuiltinStep } from './PipelineService';
import type { StepResult } from './runners/types';
import { normalizeRef } from './triggers';

/** What `train` leaves in the run's workspace for `evaluate` and `register`. */
interface TrainedArtifact {
  model: string;
  mlflowRunId: string;
  metrics: Record<string, number>;
  onnxFile: string;
}

export interface BuiltinStepsOptions {
  tracking: TrackingService;
  registry: RegistryService;
  rollouts: Pick<RolloutService, 'start'>;
  /** The run's workspace folder (shared with its command steps). */
  workspaceOf(runId: string): string;
  serviceCredentials(): Promise<BackstageCredentials>;
  /** Where the demo's data files are (examples/data); found from the working folder when unset. */
  demoDataDir?: string;
  /** The Models' gates (`spec.gates`); without them, `evaluate` uses its `with` bounds only. */
  gates?: Pick<GateService, 'evaluate' | 'attachVersion'>;
  /** Dataset validations, for `validate-data`. */
  validations?: Pick<DatasetValidationService, 'validate'>;
}

const text = (value: unknown, name: string, step: string): string => {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`Step ${step} needs with.${name}`);
  }
  return value;
};

/**
 * The built-in step kinds over the tracking, registry and rollout services:
 * `train` (the demo's trainer, logged as an MLflow run), `evaluate` (the
 * candidate's metric against a bound and against Production), `register`
 * (a new version in Staging with its run) and `rollout` (a canary of the
 * version registered by the run).
 */
export function createBuiltinSteps(
  options: BuiltinStepsOptions,
): Partial<Record<PipelineStepKind, BuiltinStep>> {
  const artifactFile = (runId: string, model: string) =>
    path.join(
      options.workspaceOf(runId),
      '.loopline',
      `trained-${model.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`,
    );
  const readTrained = async (
    runId: string,
    model: string,
  ): Promise<TrainedArtifact> => {
    try {
      return JSON.parse(await fs.readFile(artifactFile(runId, model), 'utf8'));
    } catch {
      throw new Error(
        `No trained ${model} in this run: a train step must run before`,
      );
    }
  };

  const train: BuiltinStep = {
    async run({ run, step, log }): Promise<StepResult> {
      const model = text(step.with?.model, 'model', step.name);
      // `with.setting`, else the run's `setting` parameter, else 1.
      const setting =
        Number(step.with?.setting ?? run.parameters.setting ?? 1) === 0 ? 0 : 1;
      const recipe = demoModelRecipe(model);
      const table = readDemoTable(recipe.dataset.file, options.demoDataDir);
      log(
        `Training ${model} (${recipe.settings[setting].label}) on ${table.rows.length} rows of ${recipe.dataset.file}`,
      );
      const result = trainDemoModel(recipe, setting, table);
      const experimentId = await options.tracking
        .getExperimentByName(recipe.experimentName)
        .then(e => e.experimentId)
        .catch(
          async () =>
            (
              await options.tracking.createExperiment({
                name: recipe.experimentName,
              })
            ).experimentId,
        );
      const startTime = Date.now();
      const tracked = await options.tracking.createRun({
        experimentId,
        userId: `pipeline:${run.pipeline}`,
        runName: `${run.pipeline}-${run.id.slice(0, 8)}`,
        startTime,
        tags: {
          'loopline.dev/pipeline-run': run.id,
          'loopline.dev/dataset': recipe.dataset.entityRef,
        },
      });
      await options.tracking.logBatch({
        runId: tracked.runId,
        params: Object.entries(result.params).map(([key, value]) => ({
          key,
          value,
        })),
        metrics: Object.entries(result.metrics).map(([key, value]) => ({
          key,
          value,
          timestamp: startTime,
          step: 0,
        })),
      });
      await options.tracking.updateRun({
        runId: tracked.runId,
        status: 'FINISHED',
        endTime: Date.now(),
      });
      const onnxFile = path.join(
        options.workspaceOf(run.id),
        '.loopline',
        `${model}.onnx`,
      );
      await fs.mkdir(path.dirname(onnxFile), { recursive: true });
      await fs.writeFile(onnxFile, result.onnx);
      const artifact: TrainedArtifact = {
        model,
        mlflowRunId: tracked.runId,
        metrics: result.metrics,
        onnxFile,
      };
      await fs.writeFile(artifactFile(run.id, model), JSON.stringify(artifact));
      log(
        `MLflow run ${tracked.runId}: ${Object.entries(result.metrics)
          .map(([k, v]) => `${k}=${v.toFixed(4)}`)
          .join(', ')}`,
      );
      return { state: 'succeeded', outputs: { mlflowRunIds: [tracked.runId] } };
    },
  };

  const gateResultFile = (runId: string, model: string) =>
    `${artifactFile(runId, model)}.gates`;

  const evaluate: BuiltinStep = {
    async run({ run, step, log }): Promise<StepResult> {
      const model = text(step.with?.model, 'model', step.name);
      const trained = await readTrained(run.id, model);
      // The Model's own gates first: the same ones a move to Production meets.
      const gated = await options.gates?.evaluate({
        model,
        metrics: trained.metrics,
        onnx: await fs.readFile(trained.onnxFile),
        context: 'evaluate',
        credentials: await options.serviceCredentials(),
        entityRef: demoModelRecipe(model).entityRef,
        pipelineRunId: run.id,
      });
      if (gated) {
        for (const check of gated.checks) {
          log(
            `${check.passed ? 'PASS' : 'FAIL'} ${check.gate}: ${check.message}`,
          );
        }
        await fs.writeFile(gateResultFile(run.id, model), gated.id);
        if (!gated.passed) {
          return {
            state: 'failed',
            message: `Gate refused: ${gated.checks
              .filter(c => !c.passed)
              .map(c => c.message)
              .join('; ')}`,
          };
        }
        if (step.with?.metric === undefined) {
          log(`The Model's gates passed (${gated.checks.length} checks)`);
          return { state: 'succeeded' };
        }
      }
      const metric = text(step.with?.metric, 'metric', step.name);
      const value = trained.metrics[metric];
      if (value === undefined) {
        return {
          state: 'failed',
          message: `The candidate has no metric ${metric} (it has ${Object.keys(
            trained.metrics,
          ).join(', ')})`,
        };
      }
      const lower = LOWER_IS_BETTER.has(metric);
      const reasons: string[] = [];
      const max = step.with?.max;
      const min = step.with?.min;
      if (typeof max === 'number' && value > max) {
        reasons.push(
          `${metric} ${value.toFixed(4)} is above the maximum ${max}`,
        );
      }
      if (typeof min === 'number' && value < min) {
        reasons.push(
          `${metric} ${value.toFixed(4)} is below the minimum ${min}`,
        );
      }
      const margin = step.with?.beatProductionBy;
      if (typeof margin === 'number') {
        const production = (await options.registry.listVersions(model)).find(
          v => v.stage === 'Production',
        );
        const productionRun = production?.runId
          ? await options.tracking
              .getRun(production.runId)
              .catch(() => undefined)
          : undefined;
        const reference = productionRun?.metrics.find(
          m => m.key === metric,
        )?.value;
        if (reference === undefined) {
          log(`No ${metric} of a Production version to compare with`);
        } else {
          const better = lower
            ? value <= reference - margin
            : value >= reference + margin;
          log(
            `${metric}: candidate ${value.toFixed(4)}, Production v${
              production!.version
            } ${reference.toFixed(4)}`,
          );
          if (!better) {
            reasons.push(
              `${metric} ${value.toFixed(4)} does not beat Production v${
                production!.version
              } (${reference.toFixed(4)}) by ${margin}`,
            );
          }
        }
      }
      if (reasons.length > 0) {
        return {
          state: 'failed',
          message: `Gate refused: ${reasons.join('; ')}`,
        };
      }
      log(`Gates passed: ${metric} ${value.toFixed(4)}`);
      return { state: 'succeeded' };
    },
  };

  const register: BuiltinStep = {
    async run({ run, step, log }): Promise<StepResult> {
      const model = text(step.with?.model, 'model', step.name);
      const trained = await readTrained(run.id, model);
      const credentials = await options.serviceCredentials();
      const recipe = demoModelRecipe(model);
      await options.registry
        .createRegisteredModel({ name: model, entityRef: recipe.entityRef })
        .catch(() => undefined); // it exists already
      const version = await options.registry.createVersion({
        name: model,
        source: `runs:/${trained.mlflowRunId}/model`,
        runId: trained.mlflowRunId,
        description: `Trained by pipeline ${run.pipeline}, run ${run.id}`,
        tags: {
          'loopline.dev/pipeline-run': run.id,
          'loopline.dev/dataset': recipe.dataset.entityRef,
        },
        artifact: await fs.readFile(trained.onnxFile),
        credentials,
      });
      await options.registry.transitionStage({
        name: model,
        version: version.version,
        stage: 'Staging',
        comment: `Registered by pipeline ${run.pipeline} (${run.trigger.cause})`,
        credentials,
      });
      const gated = await fs
        .readFile(gateResultFile(run.id, model), 'utf8')
        .catch(() => undefined);
      if (gated) await options.gates?.attachVersion(gated, version.version);
      log(`Registered ${model} version ${version.version} in Staging`);
      return {
        state: 'succeeded',
        outputs: { modelVersions: [{ name: model, version: version.version }] },
      };
    },
  };

  const rollout: BuiltinStep = {
    async run({ run, step, log }): Promise<StepResult> {
      const model = text(step.with?.model, 'model', step.name);
      const environment =
        typeof step.with?.environment === 'string'
          ? step.with.environment
          : 'production';
      const registered = run.outputs.modelVersions.filter(
        v => v.name === model,
      );
      const version = registered[registered.length - 1]?.version;
      if (version === undefined) {
        return {
          state: 'failed',
          message: `No version of ${model} was registered by this run: a register step must run before`,
        };
      }
      await options.rollouts.start({
        modelName: model,
        environment,
        body: {
          version,
          strategy: 'canary',
          comment: `Pipeline ${run.pipeline}, run ${run.id}`,
        },
        credentials: await options.serviceCredentials(),
      });
      log(`Canary of ${model} v${version} started in ${environment}`);
      return {
        state: 'succeeded',
        outputs: { rollouts: [{ model, environment, version }] },
      };
    },
  };

  const validateData: BuiltinStep = {
    async run({ run, pipeline, step, log }): Promise<StepResult> {
      if (!options.validations) {
        return {
          state: 'failed',
          message: 'Dataset validation is not available on this backend',
        };
      }
      const declared =
        typeof step.with?.dataset === 'string'
          ? step.with.dataset
          : pipeline.spec.consumes?.[0];
      if (!declared) {
        throw new Error(
          `Step ${step.name} needs with.dataset (or the pipeline's spec.consumes)`,
        );
      }
      const entityRef = normalizeRef(declared, 'dataset');
      log(`Validating ${entityRef}`);
      const validation = await options.validations.validate({
        entityRef,
        credentials: await options.serviceCredentials(),
        pipelineRunId: run.id,
      });
      log(`${validation.rowCount} rows at ${validation.location}`);
      for (const result of validation.results) {
        log(
          `${result.success ? 'PASS' : 'FAIL'} ${result.type}${
            result.column ? ` (${result.column})` : ''
          }${result.message ? `: ${result.message}` : ''}`,
        );
      }
      const { unsuccessfulExpectations, evaluatedExpectations } =
        validation.statistics;
      if (!validation.success) {
        return {
          state: 'failed',
          message: `${unsuccessfulExpectations} of ${evaluatedExpectations} expectations of ${entityRef} failed: ${validation.results
            .filter(r => !r.success)
            .map(r => r.message)
            .join('; ')}`,
        };
      }
      log(`All ${evaluatedExpectations} expectations of ${entityRef} passed`);
      return { state: 'succeeded' };
    },
  };

  return { train, evaluate, register, rollout, 'validate-data': validateData };
}
