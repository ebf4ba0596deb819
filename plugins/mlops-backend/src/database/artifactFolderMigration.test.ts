import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const directory = resolvePackagePath(
  '@loopline/plugin-mlops-backend',
  'migrations',
);
const MIGRATION = '20261208000100_registry_artifact_folder.js';

/** Applies the migrations before `name`, one by one. */
async function migrateUpTo(knex: Knex, name: string) {
  for (;;) {
    const [, pending] = (await knex.migrate.list({ directory })) as [
      unknown,
      Array<{ file: string }>,
    ];
    if (pending.length === 0 || pending[0].file === name) return;
    await knex.migrate.up({ directory });
  }
}

describe.each(databaseIds)(`migration ${MIGRATION} on %s`, databaseId => {
  it('keeps each existing model in the folder its files were written to', async () => {
    const knex = await databases.init(databaseId);
    await migrateUpTo(knex, MIGRATION);
    const model = (name: string, createdAt: number) => ({
      name,
      entity_ref: `model:default/${name}`,
      description: '',
      created_at: createdAt,
      updated_at: createdAt,
      last_version: 1,
    });
    const version = (name: string, artifactPath: string | null) => ({
      model_name: name,
      version: 1,
      source: 's',
      status: 'READY',
      stage: 'None',
      creator: 'user:default/alice',
      created_at: 1,
      updated_at: 1,
      artifact_path: artifactPath,
    });
    // 'red-wine' was renamed from 'wine' before folders were kept; a model
    // named 'wine' came later and wrote into the same folder.
    await knex('registry_models').insert([
      model('red-wine', 1),
      model('wine', 2),
      model('plain', 3),
      model('no-files', 4),
    ]);
    await knex('registry_versions').insert([
      version('red-wine', 'wine/1/model.onnx'),
      version('wine', 'wine/1/model.onnx'),
      version('plain', 'plain/1/model.onnx'),
      version('no-files', null),
    ]);

    await knex.migrate.up({ directory });

    const folders = Object.fromEntries(
      (await knex('registry_models').select('name', 'artifact_folder')).map(
        r => [r.name, r.artifact_folder],
      ),
    );
    expect(folders).toEqual({
      'red-wine': 'wine',
      wine: expect.stringMatching(/^wine~[0-9a-f]{1,8}$/),
      plain: 'plain',
      'no-files': 'no-files',
    });
    // Folders are unique from here on (what the rows are, if not).
    const duplicate = await knex('registry_models')
      .insert({ ...model('other', 5), artifact_folder: 'plain' })
      .then(
        async () => knex('registry_models').select('name', 'artifact_folder'),
        () => 'refused',
      );
    expect(duplicate).toBe('refused');

    await knex.migrate.down({ directory });
    expect(
      await knex.schema.hasColumn('registry_models', 'artifact_folder'),
    ).toBe(false);
  });
});
