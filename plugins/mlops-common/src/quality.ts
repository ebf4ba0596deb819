/**
 * Data quality and promotion gates as the API returns them, shared by the
 * backend and the UI: a Dataset's expectation results (its data docs) and a
 * Model version's gate results.
 */

/** The expectation types Loopline runs, as Great Expectations names them. */
export const EXPECTATION_TYPES = [
  'expect_column_values_to_not_be_null',
  'expect_column_values_to_be_unique',
  'expect_column_values_to_be_between',
  'expect_column_values_to_be_in_set',
  'expect_column_values_to_match_regex',
  'expect_column_mean_to_be_between',
  'expect_table_row_count_to_be_between',
] as const;
export type ExpectationType = (typeof EXPECTATION_TYPES)[number];

/** One expectation's outcome, in the shape of a Great Expectations validation result. */
export interface ExpectationResult {
  type: string;
  column?: string;
  /** The expectation's arguments as declared (min, max, values, regex, mostly). */
  kwargs: Record<string, unknown>;
  success: boolean;
  /** Rows looked at (non-null rows for column-value expectations). */
  elementCount: number;
  unexpectedCount: number;
  unexpectedPercent: number;
  /** Up to 10 offending values. */
  partialUnexpectedList: Array<string | number | null>;
  /** The aggregate observed (mean, row count), when the expectation is one. */
  observedValue?: number;
  /** Why it failed, in words. */
  message?: string;
}

/** A validation of a Dataset's expectations on the data at its location. */
export interface DatasetValidation {
  id: string;
  entityRef: string;
  location: string;
  success: boolean;
  statistics: {
    evaluatedExpectations: number;
    successfulExpectations: number;
    unsuccessfulExpectations: number;
    successPercent: number;
  };
  rowCount: number;
  results: ExpectationResult[];
  /** The pipeline run that validated it, if one did. */
  pipelineRunId?: string;
  /** ISO-8601. */
  validatedAt: string;
}

export interface DatasetValidationList {
  items: DatasetValidation[];
}

/** A Model's promotion gates (`spec.gates`). */
export type ModelGates = {
  /** Bounds on the candidate's metrics, e.g. `{ metric: rmse, max: 0.9 }`. */
  metrics?: Array<{ metric: string; min?: number; max?: number }>;
  /**
   * The candidate must beat the Production version on `metric` by `margin`
   * (in the metric's own direction; a negative margin tolerates that much worse).
   */
  beatProduction?: { metric: string; margin?: number };
  /** Largest p95 latency of one prediction, measured by a short in-process probe. */
  maxLatencyP95Ms?: number;
};

export interface GateCheck {
  /** `metric:rmse`, `beatProduction:rmse` or `latencyP95`. */
  gate: string;
  passed: boolean;
  observed?: number;
  /** The bound or the Production value it was compared with. */
  threshold?: number;
  message: string;
}

/** One evaluation of a version (or a pipeline's candidate) against its Model's gates. */
export interface GateResult {
  id: string;
  model: string;
  /** Absent for a candidate evaluated before it was registered. */
  version?: number;
  entityRef: string;
  /** What asked: a pipeline's evaluate step, or a move to Production. */
  context: 'evaluate' | 'transition';
  passed: boolean;
  checks: GateCheck[];
  /** Set when a platform-group member promoted a failing version anyway. */
  overriddenBy?: string;
  comment?: string;
  actor: string;
  pipelineRunId?: string;
  /** ISO-8601. */
  evaluatedAt: string;
}

export interface GateResultList {
  items: GateResult[];
}
