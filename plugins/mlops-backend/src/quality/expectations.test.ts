import { runExpectations } from './expectations';
import type { DatasetTable } from '../datasets';

const table: DatasetTable = {
  columns: ['id', 'pH', 'color', 'code', 'alcohol'],
  rowCount: 5,
  data: {
    id: ['a', 'b', 'c', 'c', 'e'],
    pH: [3.1, 3.3, null, 5.2, 2.9],
    color: ['red', 'white', 'red', 'rose', 'white'],
    code: ['W-001', 'W-002', 'X3', 'W-004', 'W-005'],
    alcohol: [9, 10, 11, 12, 13],
  },
};

describe('runExpectations', () => {
  it('runs each Great Expectations type, counting unexpected values and honouring mostly', () => {
    const results = runExpectations(table, [
      { type: 'expect_column_values_to_not_be_null', column: 'pH' },
      {
        type: 'expect_column_values_to_not_be_null',
        column: 'pH',
        mostly: 0.8,
      },
      { type: 'expect_column_values_to_be_unique', column: 'id' },
      {
        type: 'expect_column_values_to_be_between',
        column: 'pH',
        min: 2.5,
        max: 4.5,
      },
      {
        type: 'expect_column_values_to_be_in_set',
        column: 'color',
        values: ['red', 'white'],
      },
      {
        type: 'expect_column_values_to_match_regex',
        column: 'code',
        regex: '^W-\\d{3}$',
      },
      {
        type: 'expect_column_mean_to_be_between',
        column: 'alcohol',
        min: 9,
        max: 12,
      },
      { type: 'expect_column_mean_to_be_between', column: 'alcohol', max: 10 },
      { type: 'expect_table_row_count_to_be_between', min: 500 },
      { type: 'expect_table_row_count_to_be_between', min: 1, max: 10 },
      { type: 'expect_column_values_to_not_be_null', column: 'missing' },
    ]);
    expect(
      results.map(r => [r.type, r.column, r.success, r.unexpectedCount]),
    ).toEqual([
      ['expect_column_values_to_not_be_null', 'pH', false, 1],
      ['expect_column_values_to_not_be_null', 'pH', true, 1],
      ['expect_column_values_to_be_unique', 'id', false, 2],
      ['expect_column_values_to_be_between', 'pH', false, 1],
      ['expect_column_values_to_be_in_set', 'color', false, 1],
      ['expect_column_values_to_match_regex', 'code', false, 1],
      ['expect_column_mean_to_be_between', 'alcohol', true, 0],
      ['expect_column_mean_to_be_between', 'alcohol', false, 0],
      ['expect_table_row_count_to_be_between', undefined, false, 0],
      ['expect_table_row_count_to_be_between', undefined, true, 0],
      ['expect_column_values_to_not_be_null', 'missing', false, 0],
    ]);
    // Values are checked among the non-null ones; the offenders are listed.
    expect(results[3]).toMatchObject({
      elementCount: 4,
      unexpectedPercent: 25,
      partialUnexpectedList: [5.2],
      message: '1 of 4 values of pH (25.00%) are unexpected',
    });
    expect(results[4].partialUnexpectedList).toEqual(['rose']);
    expect(results[7]).toMatchObject({
      observedValue: 11,
      message: 'The mean of alcohol is 11, above the maximum 10',
    });
    expect(results[8].message).toBe(
      'The row count is 5, below the minimum 500',
    );
    expect(results[10].message).toMatch(/^The data has no column missing/);
  });
});
