import { DatasetExpectation, ExpectationResult } from '@loopline/mlops-common';
import type { DatasetTable, DatasetValue } from '../datasets';

const SAMPLE = 10;

/**
 * Runs a Dataset's expectations on its table, as Great Expectations would:
 * column-value expectations look at the non-null values (except
 * not_be_null) and pass when the share of expected values reaches `mostly`
 * (default 1); aggregate expectations compare one observed value with
 * their bounds. Pure: no I/O.
 */
export function runExpectations(
  table: DatasetTable,
  expectations: DatasetExpectation[],
): ExpectationResult[] {
  return expectations.map(e => runExpectation(table, e));
}

function kwargsOf(e: DatasetExpectation): Record<string, unknown> {
  const { type: _t, column: _c, ...rest } = e;
  return rest;
}

function runExpectation(
  table: DatasetTable,
  e: DatasetExpectation,
): ExpectationResult {
  const base = {
    type: e.type,
    ...(e.column ? { column: e.column } : {}),
    kwargs: kwargsOf(e),
  };
  if (e.type === 'expect_table_row_count_to_be_between') {
    return aggregate(base, table.rowCount, e, 'row count');
  }
  if (!e.column) {
    return failed(base, `${e.type} needs a column`);
  }
  const values = table.data[e.column];
  if (!values) {
    return failed(
      base,
      `The data has no column ${e.column} (it has ${table.columns.join(', ')})`,
    );
  }
  const present = values.filter((v): v is number | string => v !== null);
  switch (e.type) {
    case 'expect_column_values_to_not_be_null':
      return byValue(base, values, e, v => v !== null);
    case 'expect_column_values_to_be_unique': {
      const counts = new Map<number | string, number>();
      for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
      return byValue(
        base,
        present,
        e,
        v => counts.get(v as number | string) === 1,
      );
    }
    case 'expect_column_values_to_be_between':
      return byValue(base, present, e, v => {
        const n = typeof v === 'number' ? v : Number(v);
        return (
          Number.isFinite(n) &&
          (e.min === undefined || n >= e.min) &&
          (e.max === undefined || n <= e.max)
        );
      });
    case 'expect_column_values_to_be_in_set': {
      const allowed = new Set((e.values ?? []).map(v => String(v)));
      return byValue(base, present, e, v => allowed.has(String(v)));
    }
    case 'expect_column_values_to_match_regex': {
      if (!e.regex) return failed(base, `${e.type} needs a regex`);
      let pattern: RegExp;
      try {
        pattern = new RegExp(e.regex);
      } catch (error) {
        return failed(base, `Invalid regex ${e.regex}: ${error}`);
      }
      return byValue(base, present, e, v => pattern.test(String(v)));
    }
    case 'expect_column_mean_to_be_between': {
      const numbers = present
        .map(v => (typeof v === 'number' ? v : Number(v)))
        .filter(Number.isFinite);
      if (numbers.length === 0) {
        return failed(base, `Column ${e.column} has no numeric values`);
      }
      const mean = numbers.reduce((s, v) => s + v, 0) / numbers.length;
      return aggregate(base, mean, e, `mean of ${e.column}`, numbers.length);
    }
    default:
      return failed(base, `Unknown expectation type ${e.type}`);
  }
}

function byValue(
  base: Pick<ExpectationResult, 'type' | 'column' | 'kwargs'>,
  values: DatasetValue[],
  e: DatasetExpectation,
  expected: (v: DatasetValue) => boolean,
): ExpectationResult {
  const unexpected = values.filter(v => !expected(v));
  const elementCount = values.length;
  const unexpectedPercent =
    elementCount === 0 ? 0 : (100 * unexpected.length) / elementCount;
  const mostly = e.mostly ?? 1;
  const success =
    elementCount === 0 ||
    1 - unexpected.length / elementCount >= mostly - 1e-12;
  return {
    ...base,
    success,
    elementCount,
    unexpectedCount: unexpected.length,
    unexpectedPercent,
    partialUnexpectedList: unexpected.slice(0, SAMPLE),
    ...(success
      ? {}
      : {
          message: `${unexpected.length} of ${elementCount} values of ${
            e.column
          } (${unexpectedPercent.toFixed(2)}%) are unexpected${
            mostly < 1
              ? `; at most ${((1 - mostly) * 100).toFixed(2)}% may be`
              : ''
          }`,
        }),
  };
}

function aggregate(
  base: Pick<ExpectationResult, 'type' | 'column' | 'kwargs'>,
  observed: number,
  e: DatasetExpectation,
  what: string,
  elementCount = observed,
): ExpectationResult {
  const low = e.min !== undefined && observed < e.min;
  const high = e.max !== undefined && observed > e.max;
  const success = !low && !high;
  return {
    ...base,
    success,
    elementCount,
    unexpectedCount: 0,
    unexpectedPercent: 0,
    partialUnexpectedList: [],
    observedValue: observed,
    ...(success
      ? {}
      : {
          message: `The ${what} is ${round(observed)}, ${
            low ? `below the minimum ${e.min}` : `above the maximum ${e.max}`
          }`,
        }),
  };
}

function failed(
  base: Pick<ExpectationResult, 'type' | 'column' | 'kwargs'>,
  message: string,
): ExpectationResult {
  return {
    ...base,
    success: false,
    elementCount: 0,
    unexpectedCount: 0,
    unexpectedPercent: 0,
    partialUnexpectedList: [],
    message,
  };
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}
