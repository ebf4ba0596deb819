import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { TestDatabases } from '@backstage/backend-test-utils';
import { useSqliteWal } from './sqlite';

jest.setTimeout(60_000);

describe('useSqliteWal', () => {
  let dir: string;
  const opened: Knex[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-wal-'));
  });
  afterEach(async () => {
    for (const knex of opened.splice(0)) await knex.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const sqlite = (connection: Knex.Config['connection'], max = 1) => {
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection,
      useNullAsDefault: true,
      pool: { min: 0, max },
    });
    opened.push(knex);
    return knex;
  };
  const pragma = async (knex: Knex, name: string) =>
    Object.values((await knex.raw(`PRAGMA ${name}`))[0])[0];

  it('puts a database file in WAL mode with synchronous NORMAL, on every connection', async () => {
    const knex = sqlite({ filename: path.join(dir, 'mlops.sqlite') }, 2);
    expect(await pragma(knex, 'journal_mode')).toBe('delete');
    await expect(useSqliteWal(knex)).resolves.toBe(true);
    expect(await pragma(knex, 'journal_mode')).toBe('wal');
    expect(await pragma(knex, 'synchronous')).toBe(1); // NORMAL
    // A second connection, opened by the pool afterwards.
    const first = await knex.client.acquireConnection();
    const second = await knex.client.acquireConnection();
    try {
      expect(first).not.toBe(second);
      for (const connection of [first, second]) {
        expect(connection.pragma('synchronous', { simple: true })).toBe(1);
        expect(connection.pragma('journal_mode', { simple: true })).toBe('wal');
      }
    } finally {
      await knex.client.releaseConnection(first);
      await knex.client.releaseConnection(second);
    }
  });

  it('leaves in-memory SQLite (the demo) as it is', async () => {
    for (const connection of [':memory:', { filename: ':memory:' }]) {
      const knex = sqlite(connection);
      await expect(useSqliteWal(knex)).resolves.toBe(false);
      expect(await pragma(knex, 'journal_mode')).toBe('memory');
      expect(await pragma(knex, 'synchronous')).toBe(2); // FULL, the default
    }
  });

  const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });
  it('leaves PostgreSQL alone', async () => {
    const knex = await databases.init('POSTGRES_15');
    await expect(useSqliteWal(knex)).resolves.toBe(false);
  });
});
