import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { existsSync, readFileSync } from 'fs';
import { dirname, join, resolve } from 'path';
import { CsvTable, parseCsv } from './csv';
import { Matrix } from './preprocessing';

/** The demo data files in examples/data (see examples/data/README.md for sources and licences). */
export const DEMO_DATA_FILES = {
  /** UCI Wine Quality (Cortez et al. 2009), CC BY 4.0: 308 red + 300 white samples. */
  wineQuality: 'winequality.csv',
  /** IBM Telco Customer Churn sample data: 351 customers. */
  telcoChurn: 'telco-churn.csv',
} as const;

/** Columns of winequality.csv. */
export const WINE_QUALITY_COLUMNS = [
  'fixed_acidity',
  'volatile_acidity',
  'citric_acid',
  'residual_sugar',
  'chlorides',
  'free_sulfur_dioxide',
  'total_sulfur_dioxide',
  'density',
  'pH',
  'sulphates',
  'alcohol',
  'color',
  'quality',
] as const;

/** The 11 physicochemical test results of a wine sample. */
export const WINE_PHYSICOCHEMICAL_FEATURES = WINE_QUALITY_COLUMNS.slice(0, 11);

/** Columns of telco-churn.csv (IBM's columns in snake_case; Churn Yes/No became churned true/false). */
export const TELCO_CHURN_COLUMNS = [
  'customer_id',
  'gender',
  'senior_citizen',
  'partner',
  'dependents',
  'tenure_months',
  'phone_service',
  'multiple_lines',
  'internet_service',
  'online_security',
  'online_backup',
  'device_protection',
  'tech_support',
  'streaming_tv',
  'streaming_movies',
  'contract',
  'paperless_billing',
  'payment_method',
  'monthly_charges',
  'total_charges',
  'churned',
] as const;

/**
 * One model input column: a numeric CSV column as is, or, with `oneHotOf`,
 * 1 when the CSV column equals that value and 0 otherwise.
 */
export interface DemoFeature {
  name: string;
  column: string;
  oneHotOf?: string;
}

/** The target: a numeric column (regression) or, with `positive`, 1 when the column equals it (classification). */
export interface DemoTarget {
  column: string;
  positive?: string;
}

/**
 * The first examples/data folder holding the demo files found walking up
 * from `start` (default: this plugin's package folder, so in a checkout of
 * the repository its root's examples/data). An installed package has none
 * above it: pass the data directory to readDemoTable then.
 */
export function findDemoDataDir(
  start: string = resolvePackagePath('@loopline/plugin-mlops-backend'),
): string {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, 'examples', 'data');
    if (existsSync(join(candidate, DEMO_DATA_FILES.wineQuality))) {
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new InputError(
        `No examples/data/${DEMO_DATA_FILES.wineQuality} above ${start}; pass the data directory explicitly`,
      );
    }
    dir = parent;
  }
}

/** Reads and parses one demo CSV file (the only function here that does I/O). */
export function readDemoTable(fileName: string, dataDir?: string): CsvTable {
  const dir = dataDir ?? findDemoDataDir();
  return parseCsv(readFileSync(join(dir, fileName), 'utf8'));
}

/** Throws unless the table has every listed column. */
export function requireColumns(
  table: CsvTable,
  columns: readonly string[],
): void {
  const missing = columns.filter(c => !table.columns.includes(c));
  if (missing.length > 0) {
    throw new InputError(`The table lacks the column(s) ${missing.join(', ')}`);
  }
}

/** The model input matrix of the rows, one column per feature. */
export function featureMatrix(
  rows: ReadonlyArray<Record<string, string>>,
  features: readonly DemoFeature[],
): Matrix {
  return rows.map((row, i) =>
    features.map(feature => {
      const raw = row[feature.column];
      if (raw === undefined) {
        throw new InputError(`Row ${i} has no column "${feature.column}"`);
      }
      if (feature.oneHotOf !== undefined) {
        return raw === feature.oneHotOf ? 1 : 0;
      }
      return parseNumber(raw, i, feature.column);
    }),
  );
}

/** The target values of the rows (0/1 for classification). */
export function targetVector(
  rows: ReadonlyArray<Record<string, string>>,
  target: DemoTarget,
): number[] {
  return rows.map((row, i) => {
    const raw = row[target.column];
    if (raw === undefined) {
      throw new InputError(`Row ${i} has no column "${target.column}"`);
    }
    if (target.positive !== undefined) {
      return raw === target.positive ? 1 : 0;
    }
    return parseNumber(raw, i, target.column);
  });
}

function parseNumber(raw: string, row: number, column: string): number {
  const text = raw.trim();
  const value = text === '' ? NaN : Number(text);
  if (!Number.isFinite(value)) {
    throw new InputError(
      `Row ${row}, column "${column}": "${raw}" is not a number`,
    );
  }
  return value;
}
