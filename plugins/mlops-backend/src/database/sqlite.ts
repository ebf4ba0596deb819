import { Knex } from 'knex';

/**
 * Puts a file-backed SQLite database (the embedded engine given a
 * `directory` or `filename`) in write-ahead-log mode with `synchronous =
 * NORMAL`, as SQLite advises for a server: a commit appends to the log
 * without waiting for the disk (it syncs at each checkpoint), and readers
 * no longer wait for the writer. A crash of the backend loses nothing; a
 * power loss may lose the last commits, never the database's integrity.
 * In-memory databases (the demo's) and PostgreSQL are left alone.
 * Returns whether it applied.
 */
export async function useSqliteWal(knex: Knex): Promise<boolean> {
  const { client, connection } = knex.client.config;
  if (client !== 'better-sqlite3' && client !== 'sqlite3') return false;
  const filename: unknown =
    typeof connection === 'string' ? connection : connection?.filename;
  if (
    typeof filename !== 'string' ||
    filename === '' ||
    filename.includes(':memory:') ||
    filename.includes('mode=memory')
  ) {
    return false;
  }
  // The journal mode is kept in the file; `synchronous` is per connection:
  // this one now, and any the pool opens later.
  await knex.raw('PRAGMA journal_mode = WAL');
  await knex.raw('PRAGMA synchronous = NORMAL');
  knex.client.pool?.on(
    'createSuccess',
    (_id: unknown, resource: { pragma?: (source: string) => unknown }) =>
      resource.pragma?.('synchronous = NORMAL'),
  );
  return true;
}
