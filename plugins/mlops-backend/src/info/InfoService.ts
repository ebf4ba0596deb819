import { Knex } from 'knex';
import {
  MLOPS_KINDS,
  MlopsInfo,
  mlopsPermissions,
} from '@loopline/mlops-common';
import { listAppliedMigrations } from '../database/migrations';

// eslint-disable-next-line @backstage/no-relative-monorepo-imports
const { version } = require('../../package.json') as { version: string };

/** What this backend runs: version, database and schema state, kinds and permissions. */
export class InfoService {
  constructor(private readonly db: Knex) {}

  async getInfo(): Promise<MlopsInfo> {
    return {
      pluginId: 'mlops',
      version,
      database: {
        client: String(this.db.client.config.client),
        migrations: await listAppliedMigrations(this.db),
      },
      kinds: [...MLOPS_KINDS],
      permissions: mlopsPermissions.map(permission => permission.name),
    };
  }
}
