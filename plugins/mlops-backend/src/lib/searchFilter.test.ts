import { InputError } from '@backstage/errors';
import {
  MODEL_SEARCH_SCHEMA,
  VERSION_SEARCH_SCHEMA,
} from '../registry/searchSchemas';
import {
  EXPERIMENT_SEARCH_SCHEMA,
  RUN_SEARCH_SCHEMA,
} from '../tracking/searchSchemas';
import {
  parseOrderBy as parseOrderByOf,
  parseSearchFilter as parseSearchFilterOf,
  SearchSchema,
} from './searchFilter';

// Runs unless a test names another search.
const parseSearchFilter = (
  filter: string | undefined,
  schema: SearchSchema = RUN_SEARCH_SCHEMA,
) => parseSearchFilterOf(filter, schema);
const parseOrderBy = (
  orderBy: string[] | undefined,
  schema: SearchSchema = RUN_SEARCH_SCHEMA,
) => parseOrderByOf(orderBy, schema);

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('parseSearchFilter', () => {
  it('gives no clauses for an empty or blank filter', () => {
    expect(parseSearchFilter(undefined)).toEqual([]);
    expect(parseSearchFilter('')).toEqual([]);
    expect(parseSearchFilter('   ')).toEqual([]);
  });

  it('parses metrics, params, tags and attributes joined with AND (any case)', () => {
    expect(
      parseSearchFilter(
        "metrics.rmse < 1 and params.alpha = '0.5' AND tags.team = \"ml\" And attributes.status = 'FINISHED'",
      ),
    ).toEqual([
      {
        type: 'metric',
        key: 'rmse',
        valueType: 'numeric',
        comparator: '<',
        value: 1,
      },
      {
        type: 'param',
        key: 'alpha',
        valueType: 'string',
        comparator: '=',
        value: '0.5',
      },
      {
        type: 'tag',
        key: 'team',
        valueType: 'string',
        comparator: '=',
        value: 'ml',
      },
      {
        type: 'attribute',
        key: 'status',
        valueType: 'string',
        comparator: '=',
        value: 'FINISHED',
      },
    ]);
  });

  it('reads every numeric comparator and number form', () => {
    const clauses = parseSearchFilter(
      'metrics.a = 1 and metrics.b != -2.5 and metrics.c <= .5 and metrics.d >= 1e-3 and metrics.e > 10 and metrics.f <> 0 and metrics.g == 3',
    );
    expect(clauses.map(c => [c.key, c.comparator, c.value])).toEqual([
      ['a', '=', 1],
      ['b', '!=', -2.5],
      ['c', '<=', 0.5],
      ['d', '>=', 0.001],
      ['e', '>', 10],
      ['f', '!=', 0],
      ['g', '=', 3],
    ]);
  });

  it('needs no spaces around comparators', () => {
    expect(parseSearchFilter("metrics.rmse<=0.7 and params.alpha='1'")).toEqual(
      [
        {
          type: 'metric',
          key: 'rmse',
          valueType: 'numeric',
          comparator: '<=',
          value: 0.7,
        },
        {
          type: 'param',
          key: 'alpha',
          valueType: 'string',
          comparator: '=',
          value: '1',
        },
      ],
    );
  });

  it('takes keys with dots, dashes, slashes and quoted keys', () => {
    expect(
      parseSearchFilter(
        "metrics.train.loss < 2 and tags.`mlflow.runName` = 'x' and params.\"learning rate\" = '0.1' and metrics.val/acc-top1 > 0.9",
      ).map(c => [c.type, c.key]),
    ).toEqual([
      ['metric', 'train.loss'],
      ['tag', 'mlflow.runName'],
      ['param', 'learning rate'],
      ['metric', 'val/acc-top1'],
    ]);
  });

  it('accepts the singular and long prefixes and bare attributes', () => {
    expect(
      parseSearchFilter(
        "metric.m > 0 and param.p = 'a' and parameters.q = 'b' and tag.t = 'c' and attribute.run_name = 'd' and attr.user_id = 'e' and run_name = 'f' and `status` = 'RUNNING'",
      ).map(c => [c.type, c.key]),
    ).toEqual([
      ['metric', 'm'],
      ['param', 'p'],
      ['param', 'q'],
      ['tag', 't'],
      ['attribute', 'run_name'],
      ['attribute', 'user_id'],
      ['attribute', 'run_name'],
      ['attribute', 'status'],
    ]);
  });

  it('reads LIKE, ILIKE, IN and NOT IN, and numeric attributes', () => {
    expect(
      parseSearchFilter(
        "tags.k LIKE 'ab%' and params.p ilike '%X_' and attributes.run_id IN ('a1', 'b2') and run_id not in ('c3') and attributes.start_time >= 1700000000000 and end_time < 5",
      ),
    ).toEqual([
      {
        type: 'tag',
        key: 'k',
        valueType: 'string',
        comparator: 'LIKE',
        value: 'ab%',
      },
      {
        type: 'param',
        key: 'p',
        valueType: 'string',
        comparator: 'ILIKE',
        value: '%X_',
      },
      {
        type: 'attribute',
        key: 'run_id',
        valueType: 'list',
        comparator: 'IN',
        value: ['a1', 'b2'],
      },
      {
        type: 'attribute',
        key: 'run_id',
        valueType: 'list',
        comparator: 'NOT IN',
        value: ['c3'],
      },
      {
        type: 'attribute',
        key: 'start_time',
        valueType: 'numeric',
        comparator: '>=',
        value: 1700000000000,
      },
      {
        type: 'attribute',
        key: 'end_time',
        valueType: 'numeric',
        comparator: '<',
        value: 5,
      },
    ]);
  });

  it('unescapes quotes inside strings and resolves aliases', () => {
    expect(
      parseSearchFilter(
        "tags.note = 'it''s' and tags.q = 'a\\'b' and run_uuid = 'r'",
      ),
    ).toEqual([
      {
        type: 'tag',
        key: 'note',
        valueType: 'string',
        comparator: '=',
        value: "it's",
      },
      {
        type: 'tag',
        key: 'q',
        valueType: 'string',
        comparator: '=',
        value: "a'b",
      },
      {
        type: 'attribute',
        key: 'run_id',
        valueType: 'string',
        comparator: '=',
        value: 'r',
      },
    ]);
  });

  it.each([
    [
      'metrics.rmse < ',
      15,
      "expected a number to compare metric 'rmse' with, found the end of the filter",
    ],
    [
      "metrics.rmse < '1'",
      15,
      "expected a number to compare metric 'rmse' with, found '1'",
    ],
    [
      'params.alpha = 0.5',
      15,
      "expected a quoted string to compare parameter 'alpha' with, found '0.5'",
    ],
    [
      "params.alpha < '1'",
      13,
      "comparator '<' is not valid for parameter 'alpha'; expected one of =, !=, LIKE, ILIKE",
    ],
    [
      "metrics.rmse LIKE '1'",
      13,
      "comparator 'LIKE' is not valid for metric 'rmse'",
    ],
    ["foo.bar = 'x'", 0, "unknown entity type 'foo' in 'foo.bar'"],
    ["nonsense = 'x'", 0, "unknown attribute 'nonsense' for runs"],
    [
      'metrics.a < 1 or metrics.b > 2',
      14,
      'OR is not supported; join clauses with AND',
    ],
    [
      'metrics.a < 1 metrics.b > 2',
      14,
      "expected AND or the end of the filter, found 'metrics.b'",
    ],
    ['metrics.a < 1 and', 17, 'expected a clause, found the end of the filter'],
    ["tags.k = 'open", 9, 'unterminated quoted text'],
    ['metrics.a ? 1', 10, "unexpected character '?'"],
    ['metrics. < 1', 0, "missing key after 'metrics.'"],
    ["run_id IN 'a'", 10, "expected '(' and a list of quoted strings after IN"],
    ["run_id IN ('a' 'b')", 15, "expected ',' or ')' in the IN list"],
    [
      "status IN ('a')",
      7,
      "comparator 'IN' is not valid for attribute 'status'",
    ],
    [
      'metrics.a = 0.5x',
      12,
      "expected a number to compare metric 'a' with, found '0.5x'",
    ],
    ['metrics.a NOT 1', 14, 'expected IN after NOT'],
  ])('rejects %j at position %d', (filter, position, problem) => {
    const error = errorOf(() => parseSearchFilter(filter));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      `Invalid filter '${filter}' at position ${position}: `,
    );
    expect(error.message).toContain(problem);
  });

  it('uses the experiment schema: name, times and tags only', () => {
    expect(
      parseSearchFilter(
        "name LIKE 'wine%' and tags.owner = 'ml' and creation_time > 5",
        EXPERIMENT_SEARCH_SCHEMA,
      ).map(c => [c.type, c.key, c.comparator]),
    ).toEqual([
      ['attribute', 'name', 'LIKE'],
      ['tag', 'owner', '='],
      ['attribute', 'creation_time', '>'],
    ]);
    expect(
      errorOf(() =>
        parseSearchFilter('metrics.rmse < 1', EXPERIMENT_SEARCH_SCHEMA),
      ).message,
    ).toContain('metrics cannot be searched in experiments');
    expect(
      errorOf(() => parseSearchFilter("status = 'x'", EXPERIMENT_SEARCH_SCHEMA))
        .message,
    ).toContain("unknown attribute 'status' for experiments");
  });
});

describe('parseOrderBy', () => {
  it('parses keys and directions (ascending by default)', () => {
    expect(
      parseOrderBy([
        'metrics.rmse ASC',
        'attributes.start_time DESC',
        'params.`learning rate`',
        'tags.team desc',
        'run_name',
      ]),
    ).toEqual([
      { type: 'metric', key: 'rmse', ascending: true },
      { type: 'attribute', key: 'start_time', ascending: false },
      { type: 'param', key: 'learning rate', ascending: true },
      { type: 'tag', key: 'team', ascending: false },
      { type: 'attribute', key: 'run_name', ascending: true },
    ]);
    expect(parseOrderBy(undefined)).toEqual([]);
  });

  it('checks the attributes that may be ordered by', () => {
    expect(
      parseOrderBy(['name ASC', 'experiment_id'], EXPERIMENT_SEARCH_SCHEMA),
    ).toEqual([
      { type: 'attribute', key: 'name', ascending: true },
      { type: 'attribute', key: 'experiment_id', ascending: true },
    ]);
    expect(parseOrderBy(['experiment_id'], RUN_SEARCH_SCHEMA)).toEqual([
      { type: 'attribute', key: 'experiment_id', ascending: true },
    ]);
  });

  it.each([
    ['metrics.rmse UP', 13, "expected ASC or DESC, found 'UP'"],
    [
      'metrics.rmse ASC extra',
      17,
      "expected the end of the clause, found 'extra'",
    ],
    ['colour', 0, "unknown attribute 'colour'"],
    ["'rmse'", 0, 'expected an identifier'],
  ])('rejects %j at position %d', (clause, position, problem) => {
    const error = errorOf(() => parseOrderBy([clause]));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      `Invalid order_by clause '${clause}' at position ${position}: `,
    );
    expect(error.message).toContain(problem);
  });

  it('rejects run attributes when ordering experiments', () => {
    expect(
      errorOf(() => parseOrderBy(['status'], EXPERIMENT_SEARCH_SCHEMA)).message,
    ).toContain("unknown attribute 'status' for experiments");
  });
});

describe('the registry searches', () => {
  it('read the clauses MLflow clients send for model versions', () => {
    expect(
      parseSearchFilter(
        `name='wine' and run_id IN ('a1', "b2") AND version_number >= 2 ` +
          `AND tags.team LIKE 'ml%' and tags.\`mlflow.source\` != 'x' ` +
          `and current_stage = 'production' and source_path ILIKE 's3://%'`,
        VERSION_SEARCH_SCHEMA,
      ),
    ).toEqual([
      {
        type: 'attribute',
        key: 'name',
        valueType: 'string',
        comparator: '=',
        value: 'wine',
      },
      {
        type: 'attribute',
        key: 'run_id',
        valueType: 'list',
        comparator: 'IN',
        value: ['a1', 'b2'],
      },
      {
        type: 'attribute',
        key: 'version_number',
        valueType: 'numeric',
        comparator: '>=',
        value: 2,
      },
      {
        type: 'tag',
        key: 'team',
        valueType: 'string',
        comparator: 'LIKE',
        value: 'ml%',
      },
      {
        type: 'tag',
        key: 'mlflow.source',
        valueType: 'string',
        comparator: '!=',
        value: 'x',
      },
      {
        type: 'attribute',
        key: 'current_stage',
        valueType: 'string',
        comparator: '=',
        value: 'production',
      },
      {
        type: 'attribute',
        key: 'source_path',
        valueType: 'string',
        comparator: 'ILIKE',
        value: 's3://%',
      },
    ]);
  });

  it('take a quoted number for an attribute, attribute prefixes and synonyms', () => {
    const one = (filter: string) =>
      parseSearchFilter(filter, VERSION_SEARCH_SCHEMA)[0];
    expect(one(`version_number = '3'`).value).toBe(3);
    expect(one(`name = 'it''s'`).value).toBe("it's");
    expect(one(`attributes.name ILIKE 'W%'`)).toEqual({
      type: 'attribute',
      key: 'name',
      valueType: 'string',
      comparator: 'ILIKE',
      value: 'W%',
    });
    expect(one(`name <> 'x'`).comparator).toBe('!=');
    expect(one(`run_id not in ('x')`).comparator).toBe('NOT IN');
    expect(one(`name IN ('a', 'b')`).value).toEqual(['a', 'b']);
  });

  it.each([
    [
      `name = wine`,
      MODEL_SEARCH_SCHEMA,
      7,
      "expected a quoted string to compare attribute 'name' with, found 'wine'",
    ],
    [
      `owner = 'x'`,
      MODEL_SEARCH_SCHEMA,
      0,
      "unknown attribute 'owner' for registered models; expected one of name",
    ],
    [
      `name > 'x'`,
      MODEL_SEARCH_SCHEMA,
      5,
      "comparator '>' is not valid for attribute 'name'; expected one of =, !=, LIKE, ILIKE, IN, NOT IN",
    ],
    [
      `run_id LIKE 'a%'`,
      VERSION_SEARCH_SCHEMA,
      7,
      "comparator 'LIKE' is not valid for attribute 'run_id'; expected one of =, !=, IN, NOT IN",
    ],
    [
      `version_number > abc`,
      VERSION_SEARCH_SCHEMA,
      17,
      "expected a number to compare attribute 'version_number' with, found 'abc'",
    ],
    [
      `version_number = '3x'`,
      VERSION_SEARCH_SCHEMA,
      17,
      "expected a number to compare attribute 'version_number' with, found '3x'",
    ],
    [
      `params.alpha = '1'`,
      VERSION_SEARCH_SCHEMA,
      0,
      'parameters cannot be searched in model versions',
    ],
    [
      `name = 'x' OR name = 'y'`,
      MODEL_SEARCH_SCHEMA,
      11,
      'OR is not supported; join clauses with AND',
    ],
  ])('refuse %j', (filter, schema, position, problem) => {
    const error = errorOf(() => parseSearchFilter(filter, schema));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `Invalid filter '${filter}' at position ${position}: ${problem}`,
    );
  });

  it('order by their attributes only', () => {
    expect(
      parseOrderBy(
        ['name DESC', 'last_updated_timestamp', 'attributes.timestamp asc'],
        MODEL_SEARCH_SCHEMA,
      ),
    ).toEqual([
      { type: 'attribute', key: 'name', ascending: false },
      { type: 'attribute', key: 'last_updated_timestamp', ascending: true },
      { type: 'attribute', key: 'timestamp', ascending: true },
    ]);
    expect(() => parseOrderBy(['owner'], MODEL_SEARCH_SCHEMA)).toThrow(
      "Invalid order_by clause 'owner' at position 0: unknown attribute 'owner' for registered models",
    );
    expect(() => parseOrderBy(['version_number'], MODEL_SEARCH_SCHEMA)).toThrow(
      InputError,
    );
    expect(parseOrderBy(['version_number'], VERSION_SEARCH_SCHEMA)).toEqual([
      { type: 'attribute', key: 'version_number', ascending: true },
    ]);
  });
});
