import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { parseEntityRef } from '@backstage/catalog-model';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import { randomUUID } from 'node:crypto';
import {
  GateCheck,
  GateResult,
  ModelEntityV1alpha1,
  ModelSignature,
} from '@loopline/mlops-common';
import { actorOf } from '../audit/AuditTrail';
import type { AuditTrail } from '../audit';
import { InvalidStateError } from '../lib/errors';
import type { RegistryService } from '../registry';
import type { GateOverride, StageGate } from '../registry/stageGate';
import { evaluateGates, probeLatencyP95 } from './gates';
import { QualityStore } from './QualityStore';

/** Reads Model entities (their `spec.gates`). */
export interface ModelSource {
  getModel(entityRef: string): Promise<ModelEntityV1alpha1 | undefined>;
}

export interface GateServiceOptions {
  store: QualityStore;
  registry: Pick<
    RegistryService,
    'getRegisteredModel' | 'getVersion' | 'listVersions' | 'readArtifact'
  >;
  models: ModelSource;
  auditTrail: AuditTrail;
  notifications?: NotificationService;
  logger: LoggerService;
  /** The latency probe; onnxruntime in this process by default. */
  probe?: (
    bytes: Uint8Array,
    signature: ModelSignature | undefined,
  ) => Promise<number>;
  now?: () => number;
}

/**
 * A Model's gates (`spec.gates`), applied to a pipeline's candidate (the
 * evaluate step) and to every move of a version to Production by the stage
 * routes. Each decision is stored (the Versions tab shows it) and audited; a
 * refusal tells the Model's owners. A failing version may still be promoted
 * by a caller the policy allows to override (a platform group), with a
 * comment; the override is audited as such.
 */
export class GateService implements StageGate {
  private readonly probe: NonNullable<GateServiceOptions['probe']>;
  private readonly now: () => number;

  constructor(private readonly options: GateServiceOptions) {
    this.probe = options.probe ?? probeLatencyP95;
    this.now = options.now ?? Date.now;
  }

  /**
   * Evaluates a candidate against its Model's gates and records the result.
   * Returns undefined when the Model declares no gates.
   */
  async evaluate(request: {
    model: string;
    version?: number;
    metrics: Record<string, number>;
    onnx?: Uint8Array;
    signature?: ModelSignature;
    context: GateResult['context'];
    credentials: BackstageCredentials;
    /** The Model entity, for a candidate of a model not registered yet. */
    entityRef?: string;
    pipelineRunId?: string;
    comment?: string;
    overriddenBy?: string;
  }): Promise<GateResult | undefined> {
    const registered = await this.options.registry
      .getRegisteredModel(request.model)
      .catch(error => {
        if (request.entityRef && (error as Error)?.name === 'NotFoundError') {
          return undefined;
        }
        throw error;
      });
    const entityRef = registered?.entityRef ?? request.entityRef!;
    const entity = await this.options.models.getModel(entityRef);
    const gates = entity?.spec.gates;
    if (!gates) return undefined;
    const production = registered
      ? (await this.options.registry.listVersions(request.model)).find(
          v => v.stage === 'Production' && v.version !== request.version,
        )
      : undefined;
    let latencyP95Ms: number | undefined;
    let latencyError: string | undefined;
    if (gates.maxLatencyP95Ms !== undefined) {
      if (request.onnx) {
        try {
          latencyP95Ms = await this.probe(request.onnx, request.signature);
        } catch (error) {
          latencyError = String((error as Error)?.message ?? error);
        }
      } else {
        latencyError = 'the version has no ONNX file';
      }
    }
    const checks = evaluateGates(gates, {
      metrics: request.metrics,
      ...(production
        ? {
            production: {
              version: production.version,
              metrics: production.metrics,
            },
          }
        : {}),
      ...(latencyP95Ms !== undefined ? { latencyP95Ms } : {}),
      ...(latencyError ? { latencyError } : {}),
    });
    const result: GateResult = {
      id: randomUUID(),
      model: request.model,
      ...(request.version !== undefined ? { version: request.version } : {}),
      entityRef,
      context: request.context,
      passed: checks.every(c => c.passed),
      checks,
      ...(request.overriddenBy ? { overriddenBy: request.overriddenBy } : {}),
      ...(request.comment ? { comment: request.comment } : {}),
      actor: actorOf(request.credentials),
      ...(request.pipelineRunId
        ? { pipelineRunId: request.pipelineRunId }
        : {}),
      evaluatedAt: new Date(this.now()).toISOString(),
    };
    await this.options.store.addGateResult(result);
    await this.options.auditTrail.record({
      entityRef,
      action: result.passed ? 'model.gate.passed' : 'model.gate.refused',
      credentials: request.credentials,
      ...(request.comment ? { comment: request.comment } : {}),
      details: {
        registeredModel: request.model,
        version: request.version ?? null,
        context: request.context,
        pipelineRunId: request.pipelineRunId ?? null,
        checks: checks.map(c => ({ gate: c.gate, passed: c.passed })),
        reasons: failures(checks),
      },
    });
    if (!result.passed) await this.notifyRefusal(result);
    return result;
  }

  /** The version's gates, before a stage route moves it (only moves to Production are gated). */
  async beforeTransition(request: {
    name: string;
    version: number;
    stage: string;
    credentials: BackstageCredentials;
    comment?: string;
    override: GateOverride;
  }): Promise<void> {
    if (request.stage !== 'Production') return;
    const version = await this.options.registry.getVersion(
      request.name,
      request.version,
    );
    if (version.stage === 'Production') return;
    const overriding =
      request.override === 'allowed' && !!request.comment?.trim();
    if (request.override === 'allowed' && !overriding) {
      throw new InputError(
        'comment: overriding the gates needs a comment saying why',
      );
    }
    const onnx = version.artifact
      ? await this.options.registry
          .readArtifact(request.name, request.version)
          .catch(() => undefined)
      : undefined;
    const result = await this.evaluate({
      model: request.name,
      version: request.version,
      metrics: version.metrics,
      onnx,
      signature: version.signature,
      context: 'transition',
      credentials: request.credentials,
      comment: request.comment,
      ...(overriding ? { overriddenBy: actorOf(request.credentials) } : {}),
    });
    if (!result || result.passed) return;
    const reasons = failures(result.checks).join('; ');
    if (overriding) {
      await this.options.auditTrail.record({
        entityRef: result.entityRef,
        action: 'model.gate.override',
        credentials: request.credentials,
        comment: request.comment,
        details: {
          registeredModel: request.name,
          version: request.version,
          gateResultId: result.id,
          reasons: failures(result.checks),
        },
      });
      return;
    }
    if (request.override === 'denied') {
      throw new NotAllowedError(
        `Version ${request.version} of ${request.name} fails its gates (${reasons}), and only a platform group may override them`,
      );
    }
    throw new InvalidStateError(
      `Version ${request.version} of ${request.name} may not go to Production: ${reasons}`,
    );
  }

  /** Ties a candidate's result (the evaluate step's) to the version it was registered as. */
  async attachVersion(resultId: string, version: number): Promise<void> {
    await this.options.store.setGateResultVersion(resultId, version);
  }

  /** The gate results of a model (one version's when given), newest first. */
  async list(
    model: string,
    options: { version?: number; limit: number },
  ): Promise<GateResult[]> {
    return this.options.store.listGateResults(model, options);
  }

  private async notifyRefusal(result: GateResult): Promise<void> {
    if (!this.options.notifications) return;
    const { namespace, name } = parseEntityRef(result.entityRef);
    const what =
      result.version !== undefined
        ? `v${result.version}`
        : `the candidate of run ${result.pipelineRunId ?? '?'}`;
    try {
      await this.options.notifications.send({
        recipients: { type: 'entity', entityRef: result.entityRef },
        payload: {
          title: `${result.model} ${what}: refused by its gates${
            result.overriddenBy ? ` (overridden by ${result.overriddenBy})` : ''
          }`,
          description: failures(result.checks).join('; '),
          link: `/catalog/${namespace}/model/${name}/versions`,
          severity: result.overriddenBy ? 'normal' : 'high',
          topic: `loopline-gates:${result.model}`,
        },
      });
    } catch (error) {
      this.options.logger.warn(
        `Could not notify the owners of ${result.entityRef}: ${
          (error as Error)?.message
        }`,
      );
    }
  }
}

function failures(checks: GateCheck[]): string[] {
  return checks.filter(c => !c.passed).map(c => c.message);
}
