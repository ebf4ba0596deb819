import { InputError } from '@backstage/errors';
import { FilterSpec, parseOrderBy, parseSearchFilter } from './searchFilter';

const spec: FilterSpec = {
  what: 'model version',
  fields: {
    name: { type: 'string', operators: ['=', '!=', 'LIKE', 'ILIKE', 'IN'] },
    run_id: { type: 'string', operators: ['=', 'IN', 'NOT IN'] },
    version_number: { type: 'number', operators: ['=', '<', '<=', '>', '>='] },
  },
  tagOperators: ['=', '!=', 'LIKE'],
};

describe('parseSearchFilter', () => {
  it('reads nothing from an empty filter', () => {
    expect(parseSearchFilter(undefined, spec)).toEqual([]);
    expect(parseSearchFilter('   ', spec)).toEqual([]);
  });

  it('reads the clauses MLflow clients send', () => {
    expect(
      parseSearchFilter(
        `name='wine' and run_id IN ('a1', "b2") AND version_number >= 2 ` +
          `AND tags.team LIKE 'ml%' and tags.\`mlflow.source\` != 'x'`,
        spec,
      ),
    ).toEqual(
      [
        { field: 'name', op: '=', value: 'wine' },
        { field: 'run_id', op: 'IN', value: ['a1', 'b2'] },
        { field: 'version_number', op: '>=', value: 2 },
        { field: 'tags', op: 'LIKE', value: 'ml%', tagKey: 'team' },
        { field: 'tags', op: '!=', value: 'x', tagKey: 'mlflow.source' },
      ].map(c => ({ tagKey: undefined, ...c })),
    );
  });

  it('accepts quotes inside strings, attribute prefixes and synonyms', () => {
    expect(parseSearchFilter(`name = 'it''s'`, spec)[0].value).toBe("it's");
    expect(parseSearchFilter(`name = 'it\\'s'`, spec)[0].value).toBe("it's");
    expect(parseSearchFilter(`attributes.name ILIKE 'W%'`, spec)[0]).toEqual({
      field: 'name',
      op: 'ILIKE',
      value: 'W%',
      tagKey: undefined,
    });
    expect(parseSearchFilter(`name <> 'x'`, spec)[0].op).toBe('!=');
    expect(parseSearchFilter(`run_id not in ('x')`, spec)[0].op).toBe('NOT IN');
    expect(parseSearchFilter(`version_number = '3'`, spec)[0].value).toBe(3);
  });

  it.each([
    [
      `name = wine`,
      'expected a quoted string for "name", found "wine" at position 7',
    ],
    [`name = 'wine`, 'unterminated string at position 7'],
    [
      `owner = 'x'`,
      'unknown field "owner" (known: name, run_id, version_number, tags.<key>) at position 0',
    ],
    [
      `name > 'x'`,
      'operator > is not supported on "name" (use =, !=, LIKE, ILIKE, IN) at position 5',
    ],
    [
      `name = 'x' OR name = 'y'`,
      'OR is not supported, only AND at position 11',
    ],
    [`name = 'x' name = 'y'`, 'expected AND, found "name" at position 11'],
    [
      `version_number > abc`,
      'expected a number for "version_number" at position 17',
    ],
    [`run_id IN ('a' 'b')`, 'expected "," or ")" in the list at position 15'],
    [`run_id IN 'a'`, 'expected "(" after IN at position 10'],
    [`tags = 'x'`, 'expected "." and a tag key after "tags" at position 5'],
    [`name = 'x' AND`, 'expected a field name at position 14'],
    [`name ~ 'x'`, 'unexpected character "~" at position 5'],
    [`name`, 'expected a comparison operator at position 4'],
  ])('refuses %j', (filter, problem) => {
    let error: unknown;
    try {
      parseSearchFilter(filter, spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      `Invalid model version filter ${JSON.stringify(filter)}: ${problem}`,
    );
  });

  it('refuses tags where the spec has none', () => {
    expect(() =>
      parseSearchFilter(`tags.a = 'b'`, { ...spec, tagOperators: undefined }),
    ).toThrow('tags cannot be filtered on at position 0');
  });
});

describe('parseOrderBy', () => {
  const fields = { name: 'm.name', last_updated_timestamp: 'm.updated_at' };

  it('reads fields and directions', () => {
    expect(
      parseOrderBy(
        ['name', 'last_updated_timestamp DESC', 'name asc'],
        fields,
        'x',
      ),
    ).toEqual([
      { column: 'm.name', direction: 'asc' },
      { column: 'm.updated_at', direction: 'desc' },
      { column: 'm.name', direction: 'asc' },
    ]);
    expect(parseOrderBy(undefined, fields, 'x')).toEqual([]);
  });

  it('refuses unknown fields and directions', () => {
    expect(() => parseOrderBy(['owner'], fields, 'registered model')).toThrow(
      'Invalid registered model order_by clause "owner": expected one of name, last_updated_timestamp, optionally followed by ASC or DESC',
    );
    expect(() => parseOrderBy(['name UP'], fields, 'x')).toThrow(InputError);
  });
});
