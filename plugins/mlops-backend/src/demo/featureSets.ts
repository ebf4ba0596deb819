/**
 * The demo's data preparation for the wine feature sets: the catalog's
 * `dataset:wine-features` (training rows) and `dataset:wine-quality-holdout`
 * (the hold-out rows) as Parquet files in examples/data, made from
 * winequality.csv with the same seeded split the wine-quality model trains
 * with. Features stay in lab units (the models standardise inside), so a
 * drift check compares them with requests as they are sent.
 */
import { writeFileSync } from 'fs';
import { join } from 'path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import { CsvTable } from './csv';
import {
  DEMO_DATA_FILES,
  readDemoTable,
  WINE_PHYSICOCHEMICAL_FEATURES,
} from './datasets';
import { trainTestSplit } from './random';
import { demoModelRecipe } from './recipes';

export const WINE_FEATURE_FILES = {
  features: 'wine-features.parquet',
  holdout: 'wine-holdout.parquet',
} as const;

export interface WineFeatureRows {
  sample_id: string[];
  features: Record<string, number[]>;
  is_red: number[];
  quality: number[];
}

function rowsOf(table: CsvTable, indices: number[]): WineFeatureRows {
  const features: Record<string, number[]> = {};
  for (const name of WINE_PHYSICOCHEMICAL_FEATURES) {
    features[name] = indices.map(i => Number(table.rows[i][name]));
  }
  return {
    // The row's line in winequality.csv (1 is the first data row): stable ids.
    sample_id: indices.map(i => `wine-${String(i + 1).padStart(4, '0')}`),
    features,
    is_red: indices.map(i => (table.rows[i].color === 'red' ? 1 : 0)),
    quality: indices.map(i => Number(table.rows[i].quality)),
  };
}

/** The training and hold-out rows, split as the wine-quality model's training splits them. */
export function wineFeatureSets(table: CsvTable): {
  features: WineFeatureRows;
  holdout: WineFeatureRows;
} {
  const { split } = demoModelRecipe('wine-quality');
  const { train, test } = trainTestSplit(table.rows.length, {
    testFraction: split.testFraction,
    seed: split.seed,
  });
  return { features: rowsOf(table, train), holdout: rowsOf(table, test) };
}

function columnsOf(rows: WineFeatureRows): ColumnSource[] {
  return [
    {
      name: 'sample_id',
      data: rows.sample_id,
      type: 'STRING',
      nullable: false,
    },
    ...WINE_PHYSICOCHEMICAL_FEATURES.map(
      (name): ColumnSource => ({
        name,
        data: rows.features[name],
        type: 'DOUBLE',
        nullable: false,
      }),
    ),
    { name: 'is_red', data: rows.is_red, type: 'INT32', nullable: false },
    { name: 'quality', data: rows.quality, type: 'INT32', nullable: false },
  ];
}

/** Writes both Parquet files into the demo data folder (`npm run demo:data`). */
export function writeWineFeatureFiles(dataDir: string): string[] {
  const sets = wineFeatureSets(
    readDemoTable(DEMO_DATA_FILES.wineQuality, dataDir),
  );
  const written: string[] = [];
  for (const [key, file] of Object.entries(WINE_FEATURE_FILES)) {
    const rows = sets[key as keyof typeof sets];
    const buffer = parquetWriteBuffer({
      columnData: columnsOf(rows),
      createdBy: 'loopline demo data prep (hyparquet-writer)',
    });
    const path = join(dataDir, file);
    writeFileSync(path, Buffer.from(buffer));
    written.push(path);
  }
  return written;
}
