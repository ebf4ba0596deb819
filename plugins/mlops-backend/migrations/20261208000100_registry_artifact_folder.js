// @ts-check

/**
 * Each registered model keeps its version files in a folder of its own,
 * chosen once when it is created and never changed: renaming a model moves
 * no files, and a new model under the old name gets another folder instead
 * of writing over the renamed model's files. Existing models keep the
 * folder their files were written to.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('registry_models', table => {
    table
      .string('artifact_folder', 300)
      .nullable()
      .comment(
        'Folder of the artifact store holding the version files; set at creation, kept on rename',
      );
  });
  // Existing models: the folder their files were written to (a model renamed
  // before this migration wrote under its old name), else their name.
  const models = await knex('registry_models')
    .orderBy('created_at')
    .pluck('name');
  const taken = new Set();
  for (const name of models) {
    const first = await knex('registry_versions')
      .where({ model_name: name })
      .whereNotNull('artifact_path')
      .orderBy('version')
      .first('artifact_path');
    const written = first ? String(first.artifact_path).split('/')[0] : name;
    let folder = [written, name].find(f => !taken.has(f));
    while (folder === undefined || taken.has(folder)) {
      folder = `${name}~${Math.random().toString(16).slice(2, 10)}`;
    }
    taken.add(folder);
    await knex('registry_models')
      .where({ name })
      .update({ artifact_folder: folder });
  }
  await knex.schema.alterTable('registry_models', table => {
    table.unique(['artifact_folder'], {
      indexName: 'registry_models_artifact_folder_uq',
    });
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('registry_models', table => {
    table.dropUnique(['artifact_folder'], 'registry_models_artifact_folder_uq');
    table.dropColumn('artifact_folder');
  });
};
