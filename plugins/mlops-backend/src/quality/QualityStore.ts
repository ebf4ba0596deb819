import { Knex } from 'knex';
import {
  DatasetValidation,
  ExpectationResult,
  GateCheck,
  GateResult,
} from '@loopline/mlops-common';

const VALIDATIONS = 'dataset_validations';
const GATES = 'model_gate_results';

const parse = <T>(text: string): T => JSON.parse(text) as T;

/** Dataset validations and gate results (knex, SQLite and PostgreSQL). */
export class QualityStore {
  constructor(private readonly db: Knex) {}

  async addValidation(validation: DatasetValidation): Promise<void> {
    await this.db(VALIDATIONS).insert({
      id: validation.id,
      entity_ref: validation.entityRef,
      location: validation.location,
      success: validation.success,
      row_count: validation.rowCount,
      results: JSON.stringify(validation.results),
      pipeline_run_id: validation.pipelineRunId ?? null,
      validated_at: Date.parse(validation.validatedAt),
    });
  }

  /** The latest validations of a Dataset, newest first. */
  async listValidations(
    entityRef: string,
    limit: number,
  ): Promise<DatasetValidation[]> {
    const rows = await this.db(VALIDATIONS)
      .where({ entity_ref: entityRef })
      .orderBy([
        { column: 'validated_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map(toValidation);
  }

  async addGateResult(result: GateResult): Promise<void> {
    await this.db(GATES).insert({
      id: result.id,
      model_name: result.model,
      version: result.version ?? null,
      entity_ref: result.entityRef,
      context: result.context,
      passed: result.passed,
      checks: JSON.stringify(result.checks),
      overridden_by: result.overriddenBy ?? null,
      comment: result.comment ?? null,
      actor: result.actor,
      pipeline_run_id: result.pipelineRunId ?? null,
      evaluated_at: Date.parse(result.evaluatedAt),
    });
  }

  async setGateResultVersion(id: string, version: number): Promise<void> {
    await this.db(GATES).where({ id }).update({ version });
  }

  /** A model's gate results, newest first; one version's when given. */
  async listGateResults(
    model: string,
    options: { version?: number; limit: number },
  ): Promise<GateResult[]> {
    const query = this.db(GATES).where({ model_name: model });
    if (options.version !== undefined) {
      query.andWhere({ version: options.version });
    }
    const rows = await query
      .orderBy([
        { column: 'evaluated_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit);
    return rows.map(toGateResult);
  }
}

function toValidation(row: any): DatasetValidation {
  const results = parse<ExpectationResult[]>(row.results);
  const successful = results.filter(r => r.success).length;
  return {
    id: row.id,
    entityRef: row.entity_ref,
    location: row.location,
    success: Boolean(row.success),
    statistics: {
      evaluatedExpectations: results.length,
      successfulExpectations: successful,
      unsuccessfulExpectations: results.length - successful,
      successPercent:
        results.length === 0 ? 100 : (100 * successful) / results.length,
    },
    rowCount: Number(row.row_count),
    results,
    ...(row.pipeline_run_id ? { pipelineRunId: row.pipeline_run_id } : {}),
    validatedAt: new Date(Number(row.validated_at)).toISOString(),
  };
}

function toGateResult(row: any): GateResult {
  return {
    id: row.id,
    model: row.model_name,
    ...(row.version !== null && row.version !== undefined
      ? { version: Number(row.version) }
      : {}),
    entityRef: row.entity_ref,
    context: row.context,
    passed: Boolean(row.passed),
    checks: parse<GateCheck[]>(row.checks),
    ...(row.overridden_by ? { overriddenBy: row.overridden_by } : {}),
    ...(row.comment ? { comment: row.comment } : {}),
    actor: row.actor,
    ...(row.pipeline_run_id ? { pipelineRunId: row.pipeline_run_id } : {}),
    evaluatedAt: new Date(Number(row.evaluated_at)).toISOString(),
  };
}
