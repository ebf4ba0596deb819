import { InputError } from '@backstage/errors';

/** A parsed CSV table: the header and one record per data row. */
export interface CsvTable {
  columns: string[];
  rows: Array<Record<string, string>>;
}

/**
 * Parses CSV text (RFC 4180: comma-separated, fields optionally in double
 * quotes, "" for a quote inside quotes, CRLF or LF line ends). The first
 * record is the header; blank lines are skipped; every row must have as many
 * fields as the header. Values are kept as strings.
 */
export function parseCsv(
  text: string,
  options: { delimiter?: string } = {},
): CsvTable {
  const delimiter = options.delimiter ?? ',';
  if (
    delimiter.length !== 1 ||
    delimiter === '"' ||
    delimiter === '\n' ||
    delimiter === '\r'
  ) {
    throw new InputError(
      `Unsupported CSV delimiter ${JSON.stringify(delimiter)}`,
    );
  }
  const records = splitRecords(
    text.startsWith('\uFEFF') ? text.slice(1) : text,
    delimiter,
  );
  if (records.length === 0) {
    throw new InputError('The CSV text has no header line');
  }
  const [header, ...data] = records;
  const columns = header.fields.map(c => c.trim());
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === '') {
      throw new InputError('The CSV header has an empty column name');
    }
    if (seen.has(column)) {
      throw new InputError(`The CSV header names column "${column}" twice`);
    }
    seen.add(column);
  }
  const rows = data.map(record => {
    if (record.fields.length !== columns.length) {
      throw new InputError(
        `CSV line ${record.line} has ${record.fields.length} fields, the header has ${columns.length}`,
      );
    }
    const row: Record<string, string> = {};
    columns.forEach((column, i) => {
      row[column] = record.fields[i];
    });
    return row;
  });
  return { columns, rows };
}

interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}

function splitRecords(text: string, delimiter: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // the current field was quoted
  let line = 1;
  let recordLine = 1;

  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    // A line with nothing on it is skipped, not a record of one empty field.
    if (!(fields.length === 1 && fields[0] === '')) {
      records.push({ line: recordLine, fields });
    }
    fields = [];
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field !== '' || wasQuoted) {
        throw new InputError(
          `CSV line ${line}: a quote in the middle of an unquoted field`,
        );
      }
      quoted = true;
      wasQuoted = true;
    } else if (c === delimiter) {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      if (wasQuoted) {
        throw new InputError(`CSV line ${line}: text after a closing quote`);
      }
      field += c;
    }
  }
  if (quoted) {
    throw new InputError(
      `CSV line ${recordLine}: a quoted field is not closed`,
    );
  }
  if (field !== '' || fields.length > 0 || wasQuoted) {
    endRecord();
  }
  return records;
}
