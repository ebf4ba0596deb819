// @ts-check

/**
 * MLflow 3 logged models: a model logged to an experiment (optionally from a
 * run) with its own artifact folder, status, tags and params; the models a
 * run output (`runs/outputs`); and the logged model a registry version was
 * created from.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('tracking_logged_models', table => {
    table.comment('MLflow 3 logged models');
    table.string('model_id', 64).primary().comment('m-<uuid4 hex>');
    table
      .bigInteger('experiment_id')
      .notNullable()
      .references('experiment_id')
      .inTable('tracking_experiments')
      .onDelete('CASCADE');
    table.string('name', 500).notNullable();
    table.string('model_type', 500).nullable();
    table.string('source_run_id', 32).nullable();
    table
      .string('status', 32)
      .notNullable()
      .comment(
        'LOGGED_MODEL_PENDING | LOGGED_MODEL_READY | LOGGED_MODEL_UPLOAD_FAILED',
      );
    table.text('status_message').nullable();
    table.text('artifact_location').notNullable();
    table.bigInteger('creation_timestamp').notNullable();
    table.bigInteger('last_updated_timestamp').notNullable();
    table.index(['experiment_id'], 'tracking_logged_models_experiment_idx');
  });

  await knex.schema.createTable('tracking_logged_model_tags', table => {
    table.comment('Tags of a logged model (overwritable)');
    table
      .string('model_id', 64)
      .notNullable()
      .references('model_id')
      .inTable('tracking_logged_models')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.text('value').notNullable();
    table.primary(['model_id', 'key'], 'tracking_logged_model_tags_pk');
  });

  await knex.schema.createTable('tracking_logged_model_params', table => {
    table.comment('Params of a logged model (written once)');
    table
      .string('model_id', 64)
      .notNullable()
      .references('model_id')
      .inTable('tracking_logged_models')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.text('value').notNullable();
    table.primary(['model_id', 'key'], 'tracking_logged_model_params_pk');
  });

  await knex.schema.createTable('tracking_run_outputs', table => {
    table.comment('Logged models a run output (MLflow runs/outputs)');
    table
      .string('run_id', 32)
      .notNullable()
      .references('run_id')
      .inTable('tracking_runs')
      .onDelete('CASCADE');
    table
      .string('model_id', 64)
      .notNullable()
      .references('model_id')
      .inTable('tracking_logged_models')
      .onDelete('CASCADE');
    table.bigInteger('step').notNullable().defaultTo(0);
    table.primary(['run_id', 'model_id'], 'tracking_run_outputs_pk');
  });

  await knex.schema.alterTable('registry_versions', table => {
    table
      .string('model_id', 64)
      .nullable()
      .comment('The MLflow logged model the version was created from');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('registry_versions', table => {
    table.dropColumn('model_id');
  });
  await knex.schema.dropTable('tracking_run_outputs');
  await knex.schema.dropTable('tracking_logged_model_params');
  await knex.schema.dropTable('tracking_logged_model_tags');
  await knex.schema.dropTable('tracking_logged_models');
};
