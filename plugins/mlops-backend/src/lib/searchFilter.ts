import { InputError } from '@backstage/errors';

/**
 * MLflow's search syntax, one grammar for every MLflow search (experiments,
 * runs, registered models, model versions): clauses joined with AND, each
 * `<identifier> <comparator> <value>`, e.g.
 * `metrics.rmse < 1 and params.alpha = '0.5' and tags.\`mlflow.runName\` LIKE 'ridge%'`
 * or `name LIKE 'wine%' and run_id IN ('a', 'b')`, and order-by clauses such
 * as `metrics.rmse ASC`. What each search accepts is its `SearchSchema`,
 * declared beside the domain that runs the search.
 *
 * Pure functions: no I/O. A bad filter throws an InputError that names the
 * position (0-based character offset) and the problem.
 */

/** What a clause looks at. */
export type FilterEntityType = 'metric' | 'param' | 'tag' | 'attribute';

export type NumericComparator = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type StringComparator = '=' | '!=' | 'LIKE' | 'ILIKE';
export type ListComparator = 'IN' | 'NOT IN';
export type Comparator = NumericComparator | StringComparator | ListComparator;

export type FilterClause =
  | {
      type: 'metric' | 'attribute';
      key: string;
      valueType: 'numeric';
      comparator: NumericComparator;
      value: number;
    }
  | {
      type: 'param' | 'tag' | 'attribute';
      key: string;
      valueType: 'string';
      comparator: StringComparator;
      value: string;
    }
  | {
      type: 'attribute';
      key: string;
      valueType: 'list';
      comparator: ListComparator;
      value: string[];
    };

export interface OrderByClause {
  type: FilterEntityType;
  key: string;
  ascending: boolean;
}

/** The kind of an attribute's values; `list` attributes are strings that also take IN / NOT IN. */
export type AttributeKind = 'numeric' | 'string' | 'list';

/** Which identifiers a search accepts. */
export interface SearchSchema {
  /** What is searched, for messages ("runs", "experiments"). */
  subject: string;
  /** Entity types other than attributes that may be named. */
  entityTypes: ReadonlyArray<'metric' | 'param' | 'tag'>;
  /** Attribute name -> its kind. */
  attributes: Readonly<Record<string, AttributeKind>>;
  /** Comparators of an attribute, where fewer than its kind's are allowed. */
  attributeComparators?: Readonly<Record<string, ReadonlyArray<Comparator>>>;
  /** Attribute aliases (e.g. `run_uuid` for `run_id`). */
  attributeAliases?: Readonly<Record<string, string>>;
  /** Attributes that may be used in ORDER BY. */
  orderableAttributes: ReadonlyArray<string>;
}

const PREFIXES: Record<string, FilterEntityType> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

const ENTITY_NAMES: Record<FilterEntityType, string> = {
  metric: 'metric',
  param: 'parameter',
  tag: 'tag',
  attribute: 'attribute',
};

const NUMERIC_COMPARATORS: ReadonlyArray<string> = [
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
];
const STRING_COMPARATORS: ReadonlyArray<string> = ['=', '!=', 'LIKE', 'ILIKE'];
const LIST_COMPARATORS: ReadonlyArray<string> = [
  ...STRING_COMPARATORS,
  'IN',
  'NOT IN',
];

// ---------------------------------------------------------------------------
// Tokenizer

type Token =
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'quotedKey'; text: string; pos: number }
  | { kind: 'string'; text: string; quote: '"' | "'"; pos: number }
  | { kind: 'number'; value: number; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | ','; pos: number }
  | { kind: 'end'; pos: number };

// Letters, digits and the characters MLflow allows in names (path-like keys).
const WORD_CHAR = /[\p{L}\p{N}_.\-/:]/u;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/;

class FilterSyntaxError extends Error {
  constructor(readonly pos: number, readonly problem: string) {
    super(problem);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the filter';
    case 'string':
      return `${token.quote}${token.text}${token.quote}`;
    case 'quotedKey':
      return `\`${token.text}\``;
    default:
      return `'${token.text}'`;
  }
}

function readQuoted(
  input: string,
  start: number,
  quote: string,
): { text: string; end: number } {
  let text = '';
  let i = start + 1;
  while (i < input.length) {
    const c = input[i];
    if (c === '\\' && i + 1 < input.length) {
      text += input[i + 1];
      i += 2;
      continue;
    }
    if (c === quote) {
      if (input[i + 1] === quote) {
        // SQL-style doubled quote
        text += quote;
        i += 2;
        continue;
      }
      return { text, end: i + 1 };
    }
    text += c;
    i += 1;
  }
  throw new FilterSyntaxError(
    start,
    `unterminated quoted text starting with ${quote}`,
  );
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const pos = i;
    if (c === '`') {
      const { text, end } = readQuoted(input, i, '`');
      tokens.push({ kind: 'quotedKey', text, pos });
      i = end;
      continue;
    }
    if (c === "'" || c === '"') {
      const { text, end } = readQuoted(input, i, c);
      tokens.push({ kind: 'string', text, quote: c, pos });
      i = end;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, pos });
      i += 1;
      continue;
    }
    const two = input.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=' || two === '<>') {
      tokens.push({ kind: 'op', text: two === '<>' ? '!=' : two, pos });
      i += 2;
      continue;
    }
    if (two === '==') {
      tokens.push({ kind: 'op', text: '=', pos });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      tokens.push({ kind: 'op', text: c, pos });
      i += 1;
      continue;
    }
    // A number, only where a value is expected (after a comparator or in a
    // list) and only when no name character follows it (`0.5abc` is a word).
    const previous = tokens[tokens.length - 1];
    if (previous?.kind === 'op' || previous?.kind === 'punct') {
      const numberMatch = NUMBER.exec(input.slice(i));
      const after = numberMatch ? input[i + numberMatch[0].length] : undefined;
      if (numberMatch && (after === undefined || !WORD_CHAR.test(after))) {
        tokens.push({
          kind: 'number',
          value: Number(numberMatch[0]),
          text: numberMatch[0],
          pos,
        });
        i += numberMatch[0].length;
        continue;
      }
    }
    if (WORD_CHAR.test(c)) {
      let end = i;
      // A word may continue with a quoted key part: metrics.`my key`
      let text = '';
      let quotedTail = false;
      while (end < input.length) {
        if (WORD_CHAR.test(input[end])) {
          text += input[end];
          end += 1;
        } else if (
          (input[end] === '`' || input[end] === '"') &&
          text.endsWith('.') &&
          !quotedTail
        ) {
          const { text: quoted, end: quotedEnd } = readQuoted(
            input,
            end,
            input[end],
          );
          text += `\u0000${quoted}`;
          end = quotedEnd;
          quotedTail = true;
          break;
        } else {
          break;
        }
      }
      tokens.push({ kind: 'word', text, pos });
      i = end;
      continue;
    }
    throw new FilterSyntaxError(pos, `unexpected character '${c}'`);
  }
  tokens.push({ kind: 'end', pos: input.length });
  return tokens;
}

// ---------------------------------------------------------------------------
// Identifiers

interface Identifier {
  type: FilterEntityType;
  key: string;
  pos: number;
}

function readIdentifier(token: Token, schema: SearchSchema): Identifier {
  if (token.kind === 'quotedKey') {
    // A bare quoted name is an attribute, as in MLflow.
    return resolveAttribute(token.text, token.pos, schema);
  }
  if (token.kind !== 'word') {
    throw new FilterSyntaxError(
      token.pos,
      `expected an identifier such as metrics.<key>, params.<key>, tags.<key> or an attribute, found ${describe(
        token,
      )}`,
    );
  }
  const text = token.text;
  const quotedAt = text.indexOf('\u0000');
  let prefix: string | undefined;
  let key: string;
  if (quotedAt >= 0) {
    // prefix.`quoted key`
    prefix = text.slice(0, quotedAt - 1);
    key = text.slice(quotedAt + 1);
  } else {
    const dot = text.indexOf('.');
    if (dot < 0) {
      return resolveAttribute(text, token.pos, schema);
    }
    prefix = text.slice(0, dot);
    key = text.slice(dot + 1);
  }
  const type = PREFIXES[prefix.toLowerCase()];
  if (!type) {
    throw new FilterSyntaxError(
      token.pos,
      `unknown entity type '${prefix}' in '${text.replace(
        '\u0000',
        '',
      )}'; expected metrics., params., tags. or attributes.`,
    );
  }
  if (key === '') {
    throw new FilterSyntaxError(token.pos, `missing key after '${prefix}.'`);
  }
  if (type === 'attribute') {
    return resolveAttribute(key, token.pos, schema);
  }
  if (!schema.entityTypes.includes(type)) {
    throw new FilterSyntaxError(
      token.pos,
      `${ENTITY_NAMES[type]}s cannot be searched in ${schema.subject}`,
    );
  }
  return { type, key, pos: token.pos };
}

function resolveAttribute(
  name: string,
  pos: number,
  schema: SearchSchema,
): Identifier {
  const key = schema.attributeAliases?.[name] ?? name;
  if (
    !(key in schema.attributes) &&
    !schema.orderableAttributes.includes(key)
  ) {
    throw new FilterSyntaxError(
      pos,
      `unknown attribute '${name}' for ${
        schema.subject
      }; expected one of ${Object.keys(schema.attributes).join(', ')}`,
    );
  }
  return { type: 'attribute', key, pos };
}

function valueTypeOf(
  identifier: Identifier,
  schema: SearchSchema,
): 'numeric' | 'string' | 'list' {
  switch (identifier.type) {
    case 'metric':
      return 'numeric';
    case 'param':
    case 'tag':
      return 'string';
    default:
      return schema.attributes[identifier.key];
  }
}

function identifierName(identifier: Identifier): string {
  return identifier.type === 'attribute'
    ? `attribute '${identifier.key}'`
    : `${ENTITY_NAMES[identifier.type]} '${identifier.key}'`;
}

// ---------------------------------------------------------------------------
// Filter

function fail(kind: string, input: string, error: FilterSyntaxError): never {
  throw new InputError(
    `Invalid ${kind} '${input}' at position ${error.pos}: ${error.problem}`,
  );
}

/**
 * Parses an MLflow search filter into clauses (all must hold). An empty or
 * blank filter gives no clauses.
 */
export function parseSearchFilter(
  filter: string | undefined,
  schema: SearchSchema,
): FilterClause[] {
  if (filter === undefined || filter.trim() === '') {
    return [];
  }
  try {
    return parseClauses(filter, schema);
  } catch (error) {
    if (error instanceof FilterSyntaxError) {
      fail('filter', filter, error);
    }
    throw error;
  }
}

function parseClauses(filter: string, schema: SearchSchema): FilterClause[] {
  const tokens = tokenize(filter);
  const clauses: FilterClause[] = [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];

  for (;;) {
    if (peek().kind === 'end') {
      throw new FilterSyntaxError(
        peek().pos,
        'expected a clause, found the end of the filter',
      );
    }
    const identifierToken = next();
    const identifier = readIdentifier(identifierToken, schema);
    const valueType = valueTypeOf(identifier, schema);
    if (valueType === undefined) {
      throw new FilterSyntaxError(
        identifier.pos,
        `attribute '${identifier.key}' cannot be used in a filter of ${schema.subject}`,
      );
    }

    // comparator
    const comparatorToken = next();
    let comparator: string;
    if (comparatorToken.kind === 'op') {
      comparator = comparatorToken.text;
    } else if (comparatorToken.kind === 'word') {
      comparator = comparatorToken.text.toUpperCase();
      if (comparator === 'NOT') {
        const following = next();
        if (
          following.kind === 'word' &&
          following.text.toUpperCase() === 'IN'
        ) {
          comparator = 'NOT IN';
        } else {
          throw new FilterSyntaxError(
            following.pos,
            `expected IN after NOT, found ${describe(following)}`,
          );
        }
      }
    } else {
      throw new FilterSyntaxError(
        comparatorToken.pos,
        `expected a comparator after ${identifierName(
          identifier,
        )}, found ${describe(comparatorToken)}`,
      );
    }
    const allowed: ReadonlyArray<string> =
      (identifier.type === 'attribute'
        ? schema.attributeComparators?.[identifier.key]
        : undefined) ??
      {
        numeric: NUMERIC_COMPARATORS,
        list: LIST_COMPARATORS,
        string: STRING_COMPARATORS,
      }[valueType];
    if (!allowed.includes(comparator)) {
      throw new FilterSyntaxError(
        comparatorToken.pos,
        `comparator '${comparator}' is not valid for ${identifierName(
          identifier,
        )}; expected one of ${allowed.join(', ')}`,
      );
    }

    // value
    if (comparator === 'IN' || comparator === 'NOT IN') {
      const open = next();
      if (open.kind !== 'punct' || open.text !== '(') {
        throw new FilterSyntaxError(
          open.pos,
          `expected '(' and a list of quoted strings after ${comparator}, found ${describe(
            open,
          )}`,
        );
      }
      const values: string[] = [];
      for (;;) {
        const item = next();
        if (item.kind !== 'string') {
          throw new FilterSyntaxError(
            item.pos,
            `expected a quoted string in the ${comparator} list of ${identifierName(
              identifier,
            )}, found ${describe(item)}`,
          );
        }
        values.push(item.text);
        const separator = next();
        if (separator.kind === 'punct' && separator.text === ')') break;
        if (separator.kind !== 'punct' || separator.text !== ',') {
          throw new FilterSyntaxError(
            separator.pos,
            `expected ',' or ')' in the ${comparator} list, found ${describe(
              separator,
            )}`,
          );
        }
      }
      clauses.push({
        type: 'attribute',
        key: identifier.key,
        valueType: 'list',
        comparator: comparator as ListComparator,
        value: values,
      });
    } else {
      const valueToken = next();
      if (valueType === 'numeric') {
        // An attribute's number may come quoted, as MLflow's registry takes it
        // (`version_number = '3'`); a metric's may not.
        const quotedNumber =
          identifier.type === 'attribute' &&
          valueToken.kind === 'string' &&
          NUMBER.exec(valueToken.text.trim())?.[0] === valueToken.text.trim() &&
          valueToken.text.trim() !== '';
        if (valueToken.kind !== 'number' && !quotedNumber) {
          throw new FilterSyntaxError(
            valueToken.pos,
            `expected a number to compare ${identifierName(
              identifier,
            )} with, found ${describe(valueToken)}`,
          );
        }
        clauses.push({
          type: identifier.type as 'metric' | 'attribute',
          key: identifier.key,
          valueType: 'numeric',
          comparator: comparator as NumericComparator,
          value:
            valueToken.kind === 'number'
              ? valueToken.value
              : Number((valueToken as { text: string }).text),
        });
      } else {
        if (valueToken.kind !== 'string') {
          throw new FilterSyntaxError(
            valueToken.pos,
            `expected a quoted string to compare ${identifierName(
              identifier,
            )} with, found ${describe(valueToken)}`,
          );
        }
        clauses.push({
          type: identifier.type as 'param' | 'tag' | 'attribute',
          key: identifier.key,
          valueType: 'string',
          comparator: comparator as StringComparator,
          value: valueToken.text,
        });
      }
    }

    // AND or end
    const joiner = next();
    if (joiner.kind === 'end') {
      return clauses;
    }
    if (joiner.kind === 'word' && joiner.text.toUpperCase() === 'AND') {
      continue;
    }
    if (joiner.kind === 'word' && joiner.text.toUpperCase() === 'OR') {
      throw new FilterSyntaxError(
        joiner.pos,
        'OR is not supported; join clauses with AND',
      );
    }
    throw new FilterSyntaxError(
      joiner.pos,
      `expected AND or the end of the filter, found ${describe(joiner)}`,
    );
  }
}

// ---------------------------------------------------------------------------
// Order by

/**
 * Parses order-by clauses such as `metrics.rmse ASC`, `attributes.start_time DESC`
 * or `name` (ascending unless DESC is given).
 */
export function parseOrderBy(
  orderBy: ReadonlyArray<string> | undefined,
  schema: SearchSchema,
): OrderByClause[] {
  return (orderBy ?? [])
    .filter(clause => clause.trim() !== '')
    .map(clause => {
      try {
        return parseOrderByClause(clause, schema);
      } catch (error) {
        if (error instanceof FilterSyntaxError) {
          fail('order_by clause', clause, error);
        }
        throw error;
      }
    });
}

function parseOrderByClause(
  clause: string,
  schema: SearchSchema,
): OrderByClause {
  const tokens = tokenize(clause);
  const identifier = readIdentifier(tokens[0], schema);
  if (
    identifier.type === 'attribute' &&
    !schema.orderableAttributes.includes(identifier.key)
  ) {
    throw new FilterSyntaxError(
      identifier.pos,
      `${schema.subject} cannot be ordered by attribute '${
        identifier.key
      }'; expected one of ${schema.orderableAttributes.join(', ')}`,
    );
  }
  let ascending = true;
  let i = 1;
  const direction = tokens[i];
  if (direction.kind === 'word') {
    const upper = direction.text.toUpperCase();
    if (upper !== 'ASC' && upper !== 'DESC') {
      throw new FilterSyntaxError(
        direction.pos,
        `expected ASC or DESC, found ${describe(direction)}`,
      );
    }
    ascending = upper === 'ASC';
    i += 1;
  }
  if (tokens[i].kind !== 'end') {
    throw new FilterSyntaxError(
      tokens[i].pos,
      `expected the end of the clause, found ${describe(tokens[i])}`,
    );
  }
  return { type: identifier.type, key: identifier.key, ascending };
}
