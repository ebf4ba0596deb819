import { InputError } from '@backstage/errors';

/*
 * The filters of MLflow's `registered-models/search` and
 * `model-versions/search`: clauses such as `name = 'wine'`,
 * `name LIKE 'wine%'`, `run_id IN ('a', 'b')`, `version_number > 2`,
 * `tags.team = 'ml'` or tags.`mlflow.source` = 'x', joined with AND.
 * A pure function: the store turns the clauses into SQL.
 */

export type FilterOperator =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'LIKE'
  | 'ILIKE'
  | 'IN'
  | 'NOT IN';

export type FilterClause =
  | {
      field: string;
      op: Exclude<FilterOperator, 'IN' | 'NOT IN'>;
      value: string | number;
      /** Set when `field` is `tags`. */
      tagKey?: string;
    }
  | {
      field: string;
      op: 'IN' | 'NOT IN';
      value: string[];
      tagKey?: string;
    };

/** What a field may be compared with. */
export interface FilterFieldSpec {
  type: 'string' | 'number';
  operators: FilterOperator[];
}

export interface FilterSpec {
  /** e.g. `registered model` or `model version`, for messages. */
  what: string;
  fields: Record<string, FilterFieldSpec>;
  /** Operators allowed on `tags.<key>`; tags cannot be filtered when absent. */
  tagOperators?: FilterOperator[];
}

type Token =
  | { kind: 'ident'; text: string; pos: number }
  | { kind: 'quotedIdent'; text: string; pos: number }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'number'; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | ',' | '.'; pos: number };

function tokenize(input: string, fail: (msg: string, pos: number) => never) {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      let text = '';
      i += 1;
      for (;;) {
        if (i >= input.length) {
          fail(`unterminated ${c === '`' ? 'quoted name' : 'string'}`, start);
        }
        if (input[i] === '\\' && i + 1 < input.length) {
          text += input[i + 1];
          i += 2;
        } else if (input[i] === c && input[i + 1] === c) {
          text += c;
          i += 2;
        } else if (input[i] === c) {
          i += 1;
          break;
        } else {
          text += input[i];
          i += 1;
        }
      }
      tokens.push({
        kind: c === '`' ? 'quotedIdent' : 'string',
        text,
        pos: start,
      });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < input.length && /[A-Za-z0-9_]/.test(input[i])) i += 1;
      tokens.push({ kind: 'ident', text: input.slice(start, i), pos: start });
    } else if (
      /[0-9]/.test(c) ||
      (c === '-' && /[0-9]/.test(input[i + 1] ?? ''))
    ) {
      i += 1;
      while (i < input.length && /[0-9.]/.test(input[i])) i += 1;
      tokens.push({ kind: 'number', text: input.slice(start, i), pos: start });
    } else if (c === '!' || c === '<' || c === '>' || c === '=') {
      const two = input.slice(i, i + 2);
      const synonyms: Record<string, string> = { '<>': '!=', '==': '=' };
      if (['!=', '<=', '>=', '<>', '=='].includes(two)) {
        i += 2;
        tokens.push({ kind: 'op', text: synonyms[two] ?? two, pos: start });
      } else if (c === '!') {
        fail(`unexpected "!"`, start);
      } else {
        i += 1;
        tokens.push({ kind: 'op', text: c, pos: start });
      }
    } else if (c === '(' || c === ')' || c === ',' || c === '.') {
      i += 1;
      tokens.push({ kind: 'punct', text: c, pos: start });
    } else {
      fail(`unexpected character "${c}"`, start);
    }
  }
  return tokens;
}

/**
 * Parses `filter` into clauses, checking each field and operator against
 * `spec`; anything else is an InputError naming the problem and its position.
 */
export function parseSearchFilter(
  filter: string | undefined,
  spec: FilterSpec,
): FilterClause[] {
  if (filter === undefined || filter.trim() === '') {
    return [];
  }
  function fail(problem: string, pos: number): never {
    throw new InputError(
      `Invalid ${spec.what} filter ${JSON.stringify(
        filter,
      )}: ${problem} at position ${pos}`,
    );
  }
  const tokens = tokenize(filter, fail);
  let index = 0;
  const end = filter.length;
  const peek = () => tokens[index];
  const next = () => tokens[index++];
  const isKeyword = (token: Token | undefined, word: string) =>
    token?.kind === 'ident' && token.text.toUpperCase() === word;

  const clauses: FilterClause[] = [];
  for (;;) {
    // The field: `name`, `tags.key` or tags.`key with.dots`.
    const first = next();
    if (!first) fail('expected a field name', end);
    if (first.kind !== 'ident' && first.kind !== 'quotedIdent') {
      fail(
        `expected a field name, found ${JSON.stringify(first.text)}`,
        first.pos,
      );
    }
    let field = first.text.toLowerCase();
    let tagKey: string | undefined;
    if (field === 'tags' || field === 'tag') {
      const dot = next();
      if (!dot || dot.kind !== 'punct' || dot.text !== '.') {
        fail('expected "." and a tag key after "tags"', dot?.pos ?? end);
      }
      const key = next();
      if (!key || (key.kind !== 'ident' && key.kind !== 'quotedIdent')) {
        fail('expected a tag key', key?.pos ?? end);
      }
      if (!spec.tagOperators) {
        fail(`tags cannot be filtered on`, first.pos);
      }
      field = 'tags';
      tagKey = key.text;
    } else if (peek()?.kind === 'punct' && peek()?.text === '.') {
      // e.g. attributes.name, as MLflow sometimes prefixes attributes.
      if (field !== 'attribute' && field !== 'attributes') {
        fail(`unknown field "${first.text}"`, first.pos);
      }
      next();
      const attribute = next();
      if (!attribute || attribute.kind !== 'ident') {
        fail('expected an attribute name', attribute?.pos ?? end);
      }
      field = attribute.text.toLowerCase();
    }
    const fieldSpec: FilterFieldSpec | undefined =
      field === 'tags'
        ? { type: 'string', operators: spec.tagOperators ?? [] }
        : spec.fields[field];
    if (!fieldSpec) {
      fail(
        `unknown field "${first.text}" (known: ${[
          ...Object.keys(spec.fields),
          ...(spec.tagOperators ? ['tags.<key>'] : []),
        ].join(', ')})`,
        first.pos,
      );
    }

    // The operator.
    const opToken = next();
    if (!opToken) fail('expected a comparison operator', end);
    let op: FilterOperator;
    if (opToken.kind === 'op') {
      op = opToken.text as FilterOperator;
    } else if (isKeyword(opToken, 'LIKE')) {
      op = 'LIKE';
    } else if (isKeyword(opToken, 'ILIKE')) {
      op = 'ILIKE';
    } else if (isKeyword(opToken, 'IN')) {
      op = 'IN';
    } else if (isKeyword(opToken, 'NOT') && isKeyword(peek(), 'IN')) {
      next();
      op = 'NOT IN';
    } else {
      fail(
        `expected a comparison operator, found ${JSON.stringify(opToken.text)}`,
        opToken.pos,
      );
    }
    if (!fieldSpec.operators.includes(op)) {
      fail(
        `operator ${op} is not supported on "${
          field === 'tags' ? `tags.${tagKey}` : field
        }" (use ${fieldSpec.operators.join(', ')})`,
        opToken.pos,
      );
    }

    // The value.
    if (op === 'IN' || op === 'NOT IN') {
      const open = next();
      if (!open || open.kind !== 'punct' || open.text !== '(') {
        fail(`expected "(" after ${op}`, open?.pos ?? end);
      }
      const values: string[] = [];
      for (;;) {
        const value = next();
        if (!value || (value.kind !== 'string' && value.kind !== 'number')) {
          fail('expected a quoted string in the list', value?.pos ?? end);
        }
        values.push(value.text);
        const separator = next();
        if (separator?.kind === 'punct' && separator.text === ',') continue;
        if (separator?.kind === 'punct' && separator.text === ')') break;
        fail('expected "," or ")" in the list', separator?.pos ?? end);
      }
      clauses.push({ field, op, value: values, tagKey });
    } else {
      const value = next();
      if (!value) fail('expected a value', end);
      if (fieldSpec.type === 'number') {
        const number = Number(value.text);
        if (
          (value.kind !== 'number' && value.kind !== 'string') ||
          value.text.trim() === '' ||
          !Number.isFinite(number)
        ) {
          fail(`expected a number for "${field}"`, value.pos);
        }
        clauses.push({ field, op, value: number, tagKey });
      } else {
        if (value.kind !== 'string') {
          fail(
            `expected a quoted string for "${
              field === 'tags' ? `tags.${tagKey}` : field
            }", found ${JSON.stringify(value.text)}`,
            value.pos,
          );
        }
        clauses.push({ field, op, value: value.text, tagKey });
      }
    }

    // AND, or the end.
    const joiner = next();
    if (!joiner) break;
    if (!isKeyword(joiner, 'AND')) {
      fail(
        isKeyword(joiner, 'OR')
          ? 'OR is not supported, only AND'
          : `expected AND, found ${JSON.stringify(joiner.text)}`,
        joiner.pos,
      );
    }
  }
  return clauses;
}

/** `name ASC` / `last_updated_timestamp DESC` → field and direction, checked against `fields`. */
export function parseOrderBy(
  orderBy: string[] | undefined,
  fields: Record<string, string>,
  what: string,
): Array<{ column: string; direction: 'asc' | 'desc' }> {
  return (orderBy ?? []).map(clause => {
    const match =
      /^\s*(?:attributes?\.)?([A-Za-z_]+)(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    const column = match ? fields[match[1].toLowerCase()] : undefined;
    if (!match || !column) {
      throw new InputError(
        `Invalid ${what} order_by clause ${JSON.stringify(
          clause,
        )}: expected one of ${Object.keys(fields).join(
          ', ',
        )}, optionally followed by ASC or DESC`,
      );
    }
    return {
      column,
      direction: (match[2]?.toLowerCase() ?? 'asc') as 'asc' | 'desc',
    };
  });
}
