import { PermissionsService } from '@backstage/backend-plugin-api';
import { RegisteredModel } from '@loopline/mlops-common';
import { Request } from 'express';
import { z } from 'zod';
import { RequestAuth } from '../../lib/http';
import { describeIssues } from '../../lib/validation';
import { ModelEntityLookup, RegistryService } from '../../registry';
import type { StageGate } from '../../registry/stageGate';
import { LoggedModelService, TrackingService } from '../../tracking';
import { MlflowError } from '../errors';
import { MlflowArtifacts } from '../MlflowArtifacts';

/** Told what a run read and wrote (lineage records it); never throws. */
export interface MlflowRunIoListener {
  inputsLogged(
    runId: string,
    datasets: Array<{
      dataset?: {
        name?: string;
        digest?: string;
        source_type?: string;
        source?: string;
        schema?: string;
      };
      tags?: Array<{ key: string; value: string }>;
    }>,
  ): Promise<void>;
  outputsLogged(
    runId: string,
    models: Array<{ modelId: string; name?: string; step?: number }>,
  ): Promise<void>;
}

/** What every MLflow route file is given. */
export interface MlflowRouteContext {
  auth: RequestAuth<RegisteredModel>;
  tracking: TrackingService;
  loggedModels: LoggedModelService;
  registry: RegistryService;
  /** Whether the catalog has a Model entity (registered models need one). */
  modelEntityExists: ModelEntityLookup;
  artifacts: MlflowArtifacts;
  /** The request's fields checked against `schema`; INVALID_PARAMETER_VALUE otherwise. */
  input<T extends z.ZodTypeAny>(req: Request, schema: T): z.infer<T>;
  /** MLflow's `[{key, value}]` as a record. */
  tags(list?: { key: string; value: string }[]): Record<string, string>;
  /** The largest artifact upload, in bytes. */
  artifactBodyLimit: number;
  permissions: PermissionsService;
  /** The Model's gates, checked before a version moves to Production. */
  stageGate?: StageGate;
  runIo?: MlflowRunIoListener;
}

/** GET calls send their fields as query parameters, others as a JSON body. */
export function mlflowInput<T extends z.ZodTypeAny>(
  req: Request,
  schema: T,
): z.infer<T> {
  const raw =
    req.method === 'GET' ? req.query : { ...req.query, ...(req.body ?? {}) };
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid request: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}

export function tagRecord(
  list?: { key: string; value: string }[],
): Record<string, string> {
  return Object.fromEntries((list ?? []).map(t => [t.key, t.value]));
}

/** MLflow's `next_page_token`, present only when another page follows. */
export function nextPageToken(page: { nextPageToken?: string }) {
  return page.nextPageToken ? { next_page_token: page.nextPageToken } : {};
}
