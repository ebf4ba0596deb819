import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';

const migrationsDirectory = resolvePackagePath(
  '@loopline/plugin-mlops-backend',
  'migrations',
);

/** Brings the plugin's schema up to date. */
export async function applyMigrations(knex: Knex): Promise<void> {
  await knex.migrate.latest({ directory: migrationsDirectory });
}

/** Names of the migrations applied to this database, oldest first. */
export async function listAppliedMigrations(knex: Knex): Promise<string[]> {
  const [completed] = (await knex.migrate.list({
    directory: migrationsDirectory,
  })) as [Array<{ name: string }>, unknown[]];
  return completed.map(migration => migration.name);
}
