// @ts-check

/**
 * Each registered model keeps its version files in a folder of its own,
 * chosen once when it is created and never changed: renaming a model moves
 * no files, and a new model under the old name gets another folder instead
 * of writing over the renamed model's files. Existing models keep the
 * folder they were written to, their name.
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
  await knex('registry_models').update({ artifact_folder: knex.ref('name') });
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
