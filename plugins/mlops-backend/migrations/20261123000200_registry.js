// @ts-check

/**
 * The model registry: registered models, their numbered versions (with the
 * ONNX artifact's checksum and signature), tags, stages and aliases.
 * Timestamps are integer milliseconds since the epoch.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('registry_models', table => {
    table.comment('Registered models (MLflow registered_model)');
    table.string('name', 256).primary().notNullable();
    table
      .string('entity_ref', 512)
      .notNullable()
      .comment('The catalog Model entity this registered model belongs to');
    table.text('description').notNullable().defaultTo('');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table
      .integer('last_version')
      .notNullable()
      .defaultTo(0)
      .comment('Highest version number handed out; numbers are never reused');
    table.index(['entity_ref'], 'registry_models_entity_ref_idx');
  });

  await knex.schema.createTable('registry_model_tags', table => {
    table.comment('Tags of registered models');
    table
      .string('model_name', 256)
      .notNullable()
      .references('name')
      .inTable('registry_models')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.text('value').notNullable();
    table.primary(['model_name', 'key']);
  });

  await knex.schema.createTable('registry_versions', table => {
    table.comment('Versions of registered models (MLflow model_version)');
    table
      .string('model_name', 256)
      .notNullable()
      .references('name')
      .inTable('registry_models')
      .onDelete('CASCADE');
    table.integer('version').notNullable();
    table.text('description').notNullable().defaultTo('');
    table.text('source').notNullable();
    table.string('run_id', 64).nullable();
    table.string('status', 32).notNullable();
    table.text('status_message').nullable();
    table.string('stage', 32).notNullable().defaultTo('None');
    table
      .string('creator', 512)
      .notNullable()
      .comment('User entity ref or service subject');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.string('artifact_path', 1024).nullable();
    table.string('artifact_sha256', 64).nullable();
    table.bigInteger('artifact_size_bytes').nullable();
    table.string('artifact_format', 16).nullable();
    table.text('signature').nullable().comment('JSON ModelSignature');
    table.primary(['model_name', 'version']);
    table.index(['run_id'], 'registry_versions_run_id_idx');
    table.index(['model_name', 'stage'], 'registry_versions_stage_idx');
  });

  await knex.schema.createTable('registry_version_tags', table => {
    table.comment('Tags of model versions');
    table.string('model_name', 256).notNullable();
    table.integer('version').notNullable();
    table.string('key', 250).notNullable();
    table.text('value').notNullable();
    table.primary(['model_name', 'version', 'key']);
    table
      .foreign(['model_name', 'version'])
      .references(['model_name', 'version'])
      .inTable('registry_versions')
      .onDelete('CASCADE');
  });

  await knex.schema.createTable('registry_aliases', table => {
    table.comment('Aliases (e.g. champion) pointing at one version each');
    table.string('model_name', 256).notNullable();
    table.string('alias', 255).notNullable();
    table.integer('version').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.primary(['model_name', 'alias']);
    table
      .foreign(['model_name', 'version'])
      .references(['model_name', 'version'])
      .inTable('registry_versions')
      .onDelete('CASCADE');
    table.index(['model_name', 'version'], 'registry_aliases_version_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('registry_aliases');
  await knex.schema.dropTable('registry_version_tags');
  await knex.schema.dropTable('registry_versions');
  await knex.schema.dropTable('registry_model_tags');
  await knex.schema.dropTable('registry_models');
};
