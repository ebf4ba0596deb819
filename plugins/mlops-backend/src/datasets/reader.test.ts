import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import {
  findDemoDataDir,
  readDemoTable,
  DEMO_DATA_FILES,
} from '../demo/datasets';
import { WINE_FEATURE_FILES, wineFeatureSets } from '../demo/featureSets';
import { readDataset, resolveDatasetLocation } from './reader';

const dataDir = findDemoDataDir();
const repoRoot = join(dataDir, '..', '..');

interface DatasetDoc {
  kind: string;
  metadata: { name: string };
  spec: {
    location: string;
    format?: string;
    schema?: { fields: { name: string }[] };
  };
}

const demoDatasets = readFileSync(
  join(repoRoot, 'examples', 'datasets.yaml'),
  'utf8',
)
  .split(/^---$/m)
  .map(doc => parse(doc) as DatasetDoc)
  .filter(doc => doc?.kind === 'Dataset');

describe('demo Dataset locations', () => {
  const local = demoDatasets.filter(d => d.spec.location.startsWith('file:'));

  it('includes the file-backed demo datasets', () => {
    expect(local.map(d => d.metadata.name)).toEqual(
      expect.arrayContaining([
        'wine-quality-raw',
        'wine-features',
        'wine-quality-holdout',
        'churn-features',
      ]),
    );
  });

  it.each(local.map(d => [d.metadata.name, d] as const))(
    '%s resolves to a readable file with its schema columns',
    async (_, dataset) => {
      const table = await readDataset(dataset.spec.location, {
        format: dataset.spec.format,
        roots: [repoRoot],
      });
      expect(table.rowCount).toBeGreaterThan(0);
      for (const field of dataset.spec.schema?.fields ?? []) {
        expect(table.columns).toContain(field.name);
      }
    },
  );

  it('refuses object-store locations instead of pretending to read them', () => {
    expect(() => resolveDatasetLocation('s3://acme-lake/raw/x/')).toThrow(
      /not a local file/,
    );
  });
});

describe('the wine Parquet files', () => {
  it('hold exactly what the data prep writes', async () => {
    const expected = wineFeatureSets(
      readDemoTable(DEMO_DATA_FILES.wineQuality),
    );
    for (const key of ['features', 'holdout'] as const) {
      const table = await readDataset(join(dataDir, WINE_FEATURE_FILES[key]));
      const rows = expected[key];
      expect(table.data.sample_id).toEqual(rows.sample_id);
      expect(table.data.alcohol).toEqual(rows.features.alcohol);
      expect(table.data.is_red).toEqual(rows.is_red);
      expect(table.data.quality).toEqual(rows.quality);
    }
    expect(
      expected.features.sample_id.length + expected.holdout.sample_id.length,
    ).toBe(608);
  });
});

describe('readDataset', () => {
  it('types CSV columns: numbers, strings and empty cells as null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopline-ds-'));
    writeFileSync(join(dir, 'x.csv'), 'a,b,c\n1,red,\n2.5,white,3\n,red,4\n');
    const table = await readDataset('file:x.csv', { roots: [dir] });
    expect(table.data).toEqual({
      a: [1, 2.5, null],
      b: ['red', 'white', 'red'],
      c: [null, 3, 4],
    });
  });

  it('says which file is missing and which format is unsupported', async () => {
    await expect(
      readDataset('file:nope.csv', { roots: [tmpdir()] }),
    ).rejects.toThrow(/No dataset file/);
    const dir = mkdtempSync(join(tmpdir(), 'loopline-ds-'));
    writeFileSync(join(dir, 'x.json'), '{}');
    await expect(readDataset('file:x.json', { roots: [dir] })).rejects.toThrow(
      /Unsupported dataset format/,
    );
    writeFileSync(join(dir, 'bad.parquet'), 'not parquet');
    await expect(
      readDataset('file:bad.parquet', { roots: [dir] }),
    ).rejects.toThrow(/Not a Parquet file/);
  });
});
