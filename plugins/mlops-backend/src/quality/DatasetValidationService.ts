import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { randomUUID } from 'node:crypto';
import {
  DatasetEntityV1alpha1,
  DatasetValidation,
} from '@loopline/mlops-common';
import type { AuditTrail } from '../audit';
import { DatasetTable, readDataset } from '../datasets';
import { runExpectations } from './expectations';
import { QualityStore } from './QualityStore';

/** Reads Dataset entities (their location and expectations). */
export interface DatasetEntitySource {
  getDataset(entityRef: string): Promise<DatasetEntityV1alpha1 | undefined>;
}

/**
 * Validates a Dataset: its `expectations` on the data at its `location`,
 * read by the same reader as monitoring's references (CSV, Parquet). Each
 * validation is stored: the Dataset's data docs.
 */
export class DatasetValidationService {
  private readonly read: (
    location: string,
    format: string,
  ) => Promise<DatasetTable>;
  private readonly now: () => number;

  constructor(
    private readonly options: {
      store: QualityStore;
      datasets: DatasetEntitySource;
      auditTrail?: AuditTrail;
      readDataset?: (location: string, format: string) => Promise<DatasetTable>;
      now?: () => number;
    },
  ) {
    this.read =
      options.readDataset ??
      ((location, format) => readDataset(location, { format }));
    this.now = options.now ?? Date.now;
  }

  async validate(request: {
    entityRef: string;
    credentials: BackstageCredentials;
    pipelineRunId?: string;
  }): Promise<DatasetValidation> {
    const entity = await this.options.datasets.getDataset(request.entityRef);
    if (!entity) {
      throw new NotFoundError(`No Dataset ${request.entityRef} in the catalog`);
    }
    const entityRef = stringifyEntityRef(entity).toLocaleLowerCase('en-US');
    const table = await this.read(entity.spec.location, entity.spec.format);
    const results = runExpectations(table, entity.spec.expectations ?? []);
    const successful = results.filter(r => r.success).length;
    const validation: DatasetValidation = {
      id: randomUUID(),
      entityRef,
      location: entity.spec.location,
      success: successful === results.length,
      statistics: {
        evaluatedExpectations: results.length,
        successfulExpectations: successful,
        unsuccessfulExpectations: results.length - successful,
        successPercent:
          results.length === 0 ? 100 : (100 * successful) / results.length,
      },
      rowCount: table.rowCount,
      results,
      ...(request.pipelineRunId
        ? { pipelineRunId: request.pipelineRunId }
        : {}),
      validatedAt: new Date(this.now()).toISOString(),
    };
    await this.options.store.addValidation(validation);
    await this.options.auditTrail?.record({
      entityRef,
      action: validation.success
        ? 'dataset.validation.passed'
        : 'dataset.validation.failed',
      credentials: request.credentials,
      details: {
        validationId: validation.id,
        pipelineRunId: request.pipelineRunId ?? null,
        failed: results.filter(r => !r.success).map(r => r.message),
      },
    });
    return validation;
  }

  async list(entityRef: string, limit: number): Promise<DatasetValidation[]> {
    return this.options.store.listValidations(
      entityRef.toLocaleLowerCase('en-US'),
      limit,
    );
  }
}
