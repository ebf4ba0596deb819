/*
 * A whole rollout stack on one database for tests: the real registry (ONNX
 * files on disk), onnxruntime sessions, the inference service, the inference
 * log, the rollout store and service. Clocks are the test's, and a fault
 * hook makes a version fail or slow down. Only tests import this file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Knex } from 'knex';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  DEFAULT_ROLLOUT_STEPS,
  Deployment,
  RolloutAction,
} from '@loopline/mlops-common';
import { AuditStore, AuditTrail } from '../../audit';
import { applyMigrations } from '../../database/migrations';
import {
  FileSystemArtifactStore,
  RegistryService,
  RegistryStore,
} from '../../registry';
import { writeLinearRegressor } from '../../registry/onnx/OnnxWriter';
import { InferenceError } from '../../serving/errors';
import { InferenceService } from '../../serving/InferenceService';
import { InferenceLogger } from '../../serving/log/InferenceLogger';
import { InferenceLogStore } from '../../serving/log/InferenceLogStore';
import { LoadedModel, ModelSessions } from '../../serving/ModelSessions';
import { ProductionTrafficRouter } from '../../serving/TrafficRouter';
import { RolloutConfig } from '../config';
import { EmbeddedDeploymentTarget, RolloutTrafficRouter } from '../embedded';
import { InferenceLogRolloutReader } from '../logReader';
import { RolloutService } from '../RolloutService';
import { RolloutStore } from '../RolloutStore';
import type { DeploymentTarget } from '../types';

export const MODEL = 'wine';
export const ANALYSIS_INTERVAL_MS = 30_000;

/** Linear models on three features; each version its own weights. */
export function linearModel(scale: number): Buffer {
  return writeLinearRegressor({
    weights: [0.5 * scale, -1, 2],
    bias: 0.25,
    featureNames: ['alcohol', 'volatile_acidity', 'sulphates'],
  });
}

/** What a version does wrong, set by the test. */
export interface Fault {
  /** Every run fails. */
  error?: boolean;
  /** Each run takes this long (on the service's clock). */
  delayMs?: number;
}

/** Sessions whose runs obey the test's faults and advance its clock. */
class FaultySessions extends ModelSessions {
  readonly faults = new Map<number, Fault>();
  constructor(
    options: ConstructorParameters<typeof ModelSessions>[0],
    private readonly elapse: (ms: number) => void,
  ) {
    super(options);
  }

  override async run(
    model: LoadedModel,
    ...rest: [any, any?]
  ): ReturnType<ModelSessions['run']> {
    const fault = this.faults.get(model.version);
    this.elapse(fault?.delayMs ?? 2);
    if (fault?.error) {
      throw new InferenceError('injected fault');
    }
    return super.run(model, ...rest);
  }
}

const TABLES = [
  'rollout_conversions',
  'rollout_events',
  'rollout_analyses',
  'rollout_rollouts',
  'rollout_deployments',
  'serving_ground_truth',
  'serving_inference_log',
  'registry_aliases',
  'registry_version_tags',
  'registry_versions',
  'registry_model_tags',
  'registry_models',
  'audit_events',
];

export async function prepareDatabase(knex: Knex): Promise<void> {
  await applyMigrations(knex);
}

export async function createRolloutHarness(
  knex: Knex,
  options: {
    config?: Partial<RolloutConfig>;
    extraTargets?: DeploymentTarget[];
    /** Keep the tables (a "restart" on the same database). */
    keepData?: boolean;
    /** Share the artifacts of an earlier harness. */
    artifactDir?: string;
    startAt?: number;
  } = {},
) {
  if (!options.keepData) {
    for (const table of TABLES) await knex(table).delete();
  }
  const artifactDir =
    options.artifactDir ??
    fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-rollout-'));
  let now = options.startAt ?? 1_800_000_000_000;
  let monotonic = 0;
  const clock = () => now;
  const logger = mockServices.logger.mock();
  const auditStore = new AuditStore(knex);
  const auditTrail = new AuditTrail(auditStore, mockServices.auditor.mock());
  const registry = new RegistryService({
    store: new RegistryStore(knex),
    artifacts: new FileSystemArtifactStore(artifactDir, {
      maxBytes: 1024 * 1024,
    }),
    auditTrail,
    clock,
  });
  const logStore = new InferenceLogStore(knex);
  const inferenceLogger = new InferenceLogger({
    store: logStore,
    sampleRate: 1,
    flushIntervalMs: 3_600_000,
    clock,
  });
  const sessions = new FaultySessions(
    { registry, logger, failureBackoffMs: 0 },
    ms => {
      monotonic += ms;
    },
  );
  const config: RolloutConfig = {
    environments: [
      { name: 'production', target: 'embedded', stage: 'Production' },
      { name: 'staging', target: 'embedded', stage: 'Staging' },
    ],
    servingEnvironment: 'production',
    analysisIntervalMs: ANALYSIS_INTERVAL_MS,
    defaultSlo: { minRequests: 20, maxErrorRate: 0.05, maxLatencyP99Ms: 50 },
    defaultSteps: DEFAULT_ROLLOUT_STEPS,
    requireStaging: false,
    archivePrevious: true,
    abKeyHeader: 'x-loopline-ab-key',
    ...options.config,
  };
  const production = new ProductionTrafficRouter({ registry, cacheTtlMs: 0 });
  const actions: Array<{
    deployment: Deployment;
    action: RolloutAction;
    actor: string;
    automatic: boolean;
    comment?: string;
    /** The candidate's stage in the registry when the listener heard of it. */
    candidateStage?: string;
  }> = [];
  const store = new RolloutStore(knex);
  const trafficRouter = new RolloutTrafficRouter({
    store,
    environment: config.servingEnvironment,
    environments: config.environments
      .filter(e => e.target === 'embedded')
      .map(e => e.name),
    fallback: production,
    abKeyHeader: config.abKeyHeader,
    cacheTtlMs: 0,
  });
  const inference = new InferenceService({
    registry,
    sessions,
    trafficRouter,
    observers: [inferenceLogger],
    logger,
    cacheTtlMs: 0,
    clock,
    now: () => monotonic,
  });
  const rollouts = new RolloutService({
    store,
    registry,
    logReader: new InferenceLogRolloutReader(logStore),
    targets: [
      new EmbeddedDeploymentTarget({
        sessions,
        clock,
        routedElsewhere: (model, environment) =>
          store.routedVersions(model, environment),
      }),
      ...(options.extraTargets ?? []),
    ],
    config,
    auditTrail,
    serviceCredentials: async () => mockCredentials.service('plugin:mlops'),
    storageUriOf: v => `s3://models/${v.name}/${v.version}/model.onnx`,
    logger,
    listeners: [
      {
        onAction: async event => {
          const candidate = event.deployment.rollout?.candidateVersion;
          actions.push({
            ...event,
            ...(candidate !== undefined
              ? {
                  candidateStage: (
                    await registry.getVersion(
                      event.deployment.modelName,
                      candidate,
                    )
                  ).stage,
                }
              : {}),
          });
        },
      },
    ],
    clock,
  });

  const owner = mockCredentials.user('user:default/alice');

  /** Registers a version with its ONNX file, optionally in a stage. */
  async function registerVersion(
    bytes: Buffer,
    stage?: 'Production' | 'Staging',
  ): Promise<number> {
    try {
      await registry.getRegisteredModel(MODEL);
    } catch {
      await registry.createRegisteredModel({ name: MODEL });
    }
    const created = await registry.createVersion({
      name: MODEL,
      source: 'test',
      artifact: bytes,
      credentials: owner,
    });
    if (stage) {
      await registry.transitionStage({
        name: MODEL,
        version: created.version,
        stage,
        credentials: owner,
      });
    }
    return created.version;
  }

  let requestCounter = 0;
  /**
   * Sends `count` OIP requests (no version: routed), one after the other;
   * returns the version that answered each, and fails on any client error.
   */
  async function send(
    count: number,
    keys: { abKey?: (i: number) => string; environment?: string } = {},
  ): Promise<number[]> {
    const answered: number[] = [];
    for (let i = 0; i < count; i++) {
      const key = keys.abKey?.(i);
      const result = await inference.infer({
        modelName: MODEL,
        request: {
          id: `req-${(requestCounter += 1)}`,
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [1, 3],
              data: [10 + (i % 5), 0.5, 0.6],
            },
          ],
        },
        hints: {
          header: name => {
            if (name === config.abKeyHeader) return key;
            return name === 'x-loopline-environment'
              ? keys.environment
              : undefined;
          },
        },
      });
      answered.push(result.version);
    }
    return answered;
  }

  /** Lets an analysis interval pass, flushes the log and runs the analyses. */
  async function analyze(): Promise<Deployment> {
    await inference.mirrorsSettled();
    await inferenceLogger.flush();
    now += config.analysisIntervalMs;
    await rollouts.analyzeAll();
    return (await rollouts.detail(MODEL, 'production')).deployment;
  }

  return {
    knex,
    logger,
    registry,
    rollouts,
    store,
    sessions,
    faults: sessions.faults,
    inference,
    inferenceLogger,
    logStore,
    auditStore,
    config,
    owner,
    actions,
    artifactDir,
    registerVersion,
    send,
    analyze,
    advance: (ms: number) => {
      now += ms;
    },
    clock,
    close: once(async () => {
      await inferenceLogger.close();
      await sessions.close();
    }),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
