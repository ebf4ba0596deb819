import { parseCsv } from './csv';
import {
  DEMO_DATA_FILES,
  featureMatrix,
  findDemoDataDir,
  readDemoTable,
  requireColumns,
  targetVector,
  TELCO_CHURN_COLUMNS,
  WINE_QUALITY_COLUMNS,
} from './datasets';

describe('the demo data files', () => {
  it('are found from this folder', () => {
    expect(findDemoDataDir()).toMatch(/examples[\\/]data$/);
    expect(() => findDemoDataDir('/')).toThrow(
      'pass the data directory explicitly',
    );
  });

  describe('winequality.csv (UCI Wine Quality subset)', () => {
    const table = readDemoTable(DEMO_DATA_FILES.wineQuality);

    it('has the catalog schema columns and 308 red + 300 white samples', () => {
      expect(table.columns).toEqual([...WINE_QUALITY_COLUMNS]);
      expect(table.rows).toHaveLength(608);
      expect(table.rows.filter(r => r.color === 'red')).toHaveLength(308);
      expect(table.rows.filter(r => r.color === 'white')).toHaveLength(300);
    });

    it('holds the UCI files in their order (first rows as published)', () => {
      const values = (i: number) =>
        WINE_QUALITY_COLUMNS.map(c => table.rows[i][c]).join(',');
      expect(values(0)).toBe(
        '7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4,red,5',
      );
      expect(values(307)).toBe(
        '10.3,0.41,0.42,2.4,0.213,6,14,0.9994,3.19,0.62,9.5,red,6',
      );
      expect(values(308)).toBe(
        '7,0.27,0.36,20.7,0.045,45,170,1.001,3,0.45,8.8,white,6',
      );
      expect(values(607)).toBe(
        '6.7,0.17,0.5,2.1,0.043,27,122,0.9923,3.15,0.45,10.3,white,6',
      );
    });

    it('meets the wine-quality-raw dataset expectations (except its 1000-row minimum)', () => {
      const features = WINE_QUALITY_COLUMNS.filter(c => c !== 'color').map(
        c => ({
          name: c,
          column: c,
        }),
      );
      const x = featureMatrix(table.rows, features); // throws on any non-number
      const col = (name: string) =>
        x.map(row => row[features.findIndex(f => f.name === name)]);
      expect(col('pH').every(v => v >= 2.5 && v <= 4.5)).toBe(true);
      expect(
        col('quality').every(v => Number.isInteger(v) && v >= 0 && v <= 10),
      ).toBe(true);
      expect(new Set(col('quality'))).toEqual(new Set([3, 4, 5, 6, 7, 8]));
      // Known properties of the UCI data: whites are sweeter and have more total SO2.
      const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
      const tso2 = col('total_sulfur_dioxide');
      const red = table.rows.map(r => r.color === 'red');
      expect(mean(tso2.filter((_, i) => !red[i]))).toBeGreaterThan(
        2 * mean(tso2.filter((_, i) => red[i])),
      );
    });
  });

  describe('telco-churn.csv (IBM Telco Customer Churn subset)', () => {
    const table = readDemoTable(DEMO_DATA_FILES.telcoChurn);

    it('has 351 customers with unique ids, 90 of whom churned', () => {
      expect(table.columns).toEqual([...TELCO_CHURN_COLUMNS]);
      expect(table.rows).toHaveLength(351);
      expect(new Set(table.rows.map(r => r.customer_id)).size).toBe(351);
      expect(table.rows[0].customer_id).toBe('7590-VHVEG');
      expect(table.rows[350].customer_id).toBe('0513-RBGPE');
      expect(
        targetVector(table.rows, {
          column: 'churned',
          positive: 'true',
        }).filter(v => v === 1),
      ).toHaveLength(90);
      expect(new Set(table.rows.map(r => r.churned))).toEqual(
        new Set(['true', 'false']),
      );
    });

    it('has numeric tenure and charges, tenure >= 0', () => {
      const x = featureMatrix(table.rows, [
        { name: 't', column: 'tenure_months' },
        { name: 'm', column: 'monthly_charges' },
        { name: 'c', column: 'total_charges' },
      ]);
      expect(x.every(([t]) => Number.isInteger(t) && t >= 0 && t <= 72)).toBe(
        true,
      );
      // Total charges are at least the monthly charge for anyone billed once.
      expect(x.every(([t, m, c]) => t === 0 || c >= m - 1e-9)).toBe(true);
      expect(new Set(table.rows.map(r => r.contract))).toEqual(
        new Set(['Month-to-month', 'One year', 'Two year']),
      );
    });
  });
});

describe('featureMatrix and targetVector', () => {
  const { rows } = parseCsv('n,c,y\n1.5,a,yes\n-2,b,no\n');

  it('read numbers and one-hot categories', () => {
    expect(
      featureMatrix(rows, [
        { name: 'n', column: 'n' },
        { name: 'is_a', column: 'c', oneHotOf: 'a' },
      ]),
    ).toEqual([
      [1.5, 1],
      [-2, 0],
    ]);
    expect(targetVector(rows, { column: 'y', positive: 'yes' })).toEqual([
      1, 0,
    ]);
    expect(targetVector(rows, { column: 'n' })).toEqual([1.5, -2]);
  });

  it('name the row and column of a bad value', () => {
    expect(() => featureMatrix(rows, [{ name: 'c', column: 'c' }])).toThrow(
      'Row 0, column "c": "a" is not a number',
    );
    expect(() => targetVector(rows, { column: 'nope' })).toThrow(
      'no column "nope"',
    );
    expect(() =>
      requireColumns({ columns: ['a'], rows: [] }, ['a', 'b', 'c']),
    ).toThrow('lacks the column(s) b, c');
  });
});
