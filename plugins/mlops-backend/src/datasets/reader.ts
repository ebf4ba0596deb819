/**
 * Reads a Dataset's file into columns: CSV (RFC 4180, with the demo's
 * parser) and Parquet (hyparquet, with hyparquet-compressors for the codecs
 * other than Snappy). The one place Loopline reads Dataset files: drift
 * references, pipelines and the demo all come through here.
 */
import { existsSync, promises as fs } from 'fs';
import { dirname, isAbsolute, join, resolve } from 'path';
import { fileURLToPath } from 'url';
import { InputError, NotFoundError } from '@backstage/errors';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parseCsv } from '../demo/csv';

/** A cell as Loopline's analyses see it: numbers, strings, or missing. */
export type DatasetValue = number | string | null;

export type DatasetFormat = 'csv' | 'parquet';

export interface DatasetTable {
  columns: string[];
  rowCount: number;
  /** Column-major values. */
  data: Record<string, DatasetValue[]>;
}

export interface ResolveOptions {
  /**
   * Where relative `file:` locations are looked up, in order. Default: the
   * process's working directory and each folder above it, so that
   * `file:examples/data/x.csv` resolves from the repository root when the
   * backend runs in `packages/backend`.
   */
  roots?: string[];
}

function defaultRoots(): string[] {
  const roots: string[] = [];
  let dir = resolve(process.cwd());
  for (;;) {
    roots.push(dir);
    const parent = dirname(dir);
    if (parent === dir) return roots;
    dir = parent;
  }
}

/**
 * The local path of a Dataset `location`. Only `file:` locations (relative
 * or absolute, or `file:///` URLs) and plain paths are read by the portal;
 * object stores (`s3://`, `gs://`) are not, and say so.
 */
export function resolveDatasetLocation(
  location: string,
  options: ResolveOptions = {},
): string {
  let path: string;
  if (location.startsWith('file://')) {
    path = fileURLToPath(location);
  } else if (location.startsWith('file:')) {
    path = location.slice('file:'.length);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new InputError(
      `Dataset location ${location} is not a local file; the portal reads file: locations only`,
    );
  } else {
    path = location;
  }
  if (isAbsolute(path)) {
    if (!existsSync(path))
      throw new NotFoundError(`No dataset file at ${path}`);
    return path;
  }
  const roots = options.roots ?? defaultRoots();
  for (const root of roots) {
    const candidate = join(root, path);
    if (existsSync(candidate)) return candidate;
  }
  throw new NotFoundError(
    `No dataset file ${path} under ${roots.slice(0, 3).join(', ')}${
      roots.length > 3 ? ', …' : ''
    }`,
  );
}

/** The format named by the Dataset, else by the file's extension. */
export function datasetFormatOf(
  path: string,
  declared?: string,
): DatasetFormat {
  const format = (declared ?? path.split('.').pop() ?? '').toLowerCase();
  if (format === 'csv' || format === 'parquet') return format;
  throw new InputError(
    `Unsupported dataset format "${format}" (csv or parquet)`,
  );
}

/**
 * CSV cells are text: a column whose non-empty cells all parse as finite
 * numbers becomes numbers, any other stays strings; empty cells are null.
 */
function typeCsvColumn(cells: string[]): DatasetValue[] {
  const numeric = cells.every(
    c => c.trim() === '' || Number.isFinite(Number(c)),
  );
  return cells.map(c => {
    if (c.trim() === '') return null;
    return numeric ? Number(c) : c;
  });
}

function toValue(v: unknown): DatasetValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x));
}

export function parseDatasetBuffer(
  buffer: Buffer,
  format: DatasetFormat,
): Promise<DatasetTable> | DatasetTable {
  if (format === 'csv') {
    const table = parseCsv(buffer.toString('utf8'));
    const data: Record<string, DatasetValue[]> = {};
    for (const column of table.columns) {
      data[column] = typeCsvColumn(table.rows.map(r => r[column]));
    }
    return { columns: table.columns, rowCount: table.rows.length, data };
  }
  return readParquet(buffer);
}

async function readParquet(buffer: Buffer): Promise<DatasetTable> {
  const file = buffer.buffer.slice(
    buffer.byteOffset,
    buffer.byteOffset + buffer.byteLength,
  ) as ArrayBuffer;
  let metadata;
  try {
    metadata = parquetMetadata(file);
  } catch (error) {
    throw new InputError(`Not a Parquet file: ${(error as Error).message}`);
  }
  // Top-level columns, in file order (the root element is the schema itself).
  const columns: string[] = [];
  let i = 1;
  while (i < metadata.schema.length) {
    const element = metadata.schema[i];
    columns.push(element.name);
    i += 1 + countDescendants(metadata.schema, i);
  }
  const rows = await parquetReadObjects({ file, metadata, compressors });
  const data: Record<string, DatasetValue[]> = {};
  for (const column of columns)
    data[column] = rows.map(r => toValue(r[column]));
  return { columns, rowCount: rows.length, data };
}

function countDescendants(
  schema: { num_children?: number }[],
  index: number,
): number {
  let total = 0;
  const children = schema[index].num_children ?? 0;
  let next = index + 1;
  for (let c = 0; c < children; c++) {
    const sub = countDescendants(schema, next);
    total += 1 + sub;
    next += 1 + sub;
  }
  return total;
}

/** Reads a Dataset file at a `location` (see {@link resolveDatasetLocation}). */
export async function readDataset(
  location: string,
  options: ResolveOptions & { format?: string } = {},
): Promise<DatasetTable> {
  const path = resolveDatasetLocation(location, options);
  const format = datasetFormatOf(path, options.format);
  return parseDatasetBuffer(await fs.readFile(path), format);
}
