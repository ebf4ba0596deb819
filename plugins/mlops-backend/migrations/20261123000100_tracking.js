// @ts-check

/**
 * Experiment tracking: experiments, runs, params, tags and metrics (full
 * history plus the latest point per key), the way MLflow's tracking store
 * keeps them.
 *
 * Timestamps are integer milliseconds since the epoch (bigint). A metric's
 * NaN is stored as value 0 with is_nan = true (both engines would otherwise
 * disagree: SQLite turns NaN into NULL); +/-Infinity are stored as such.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('tracking_experiments', table => {
    table.comment('MLflow experiments');
    table.bigIncrements('experiment_id').primary();
    table
      .string('name', 512)
      .notNullable()
      .unique('tracking_experiments_name_uq');
    table.text('artifact_location').notNullable();
    table
      .string('lifecycle_stage', 32)
      .notNullable()
      .defaultTo('active')
      .comment('active | deleted');
    table.bigInteger('creation_time').notNullable();
    table.bigInteger('last_update_time').notNullable();
    table
      .bigInteger('deleted_time')
      .nullable()
      .comment('When it was deleted; runs deleted with it carry the same time');
    table.index(['creation_time'], 'tracking_experiments_created_idx');
  });

  await knex.schema.createTable('tracking_experiment_tags', table => {
    table.comment('Tags of an experiment (overwritable)');
    table
      .bigInteger('experiment_id')
      .notNullable()
      .references('experiment_id')
      .inTable('tracking_experiments')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.text('value').notNullable();
    table.primary(['experiment_id', 'key'], 'tracking_experiment_tags_pk');
  });

  await knex.schema.createTable('tracking_runs', table => {
    table.comment('MLflow runs');
    table.string('run_id', 32).primary().comment('uuid4 hex, 32 chars');
    table
      .bigInteger('experiment_id')
      .notNullable()
      .references('experiment_id')
      .inTable('tracking_experiments')
      .onDelete('CASCADE');
    table.text('run_name').notNullable();
    table.string('user_id', 512).notNullable();
    table
      .string('status', 16)
      .notNullable()
      .comment('RUNNING | SCHEDULED | FINISHED | FAILED | KILLED');
    table.bigInteger('start_time').notNullable();
    table.bigInteger('end_time').nullable();
    table.text('artifact_uri').notNullable();
    table.string('lifecycle_stage', 32).notNullable().defaultTo('active');
    table.bigInteger('deleted_time').nullable();
    table.index(
      ['experiment_id', 'start_time'],
      'tracking_runs_experiment_start_idx',
    );
  });

  await knex.schema.createTable('tracking_params', table => {
    table.comment('Run parameters: written once');
    table
      .string('run_id', 32)
      .notNullable()
      .references('run_id')
      .inTable('tracking_runs')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.text('value').notNullable();
    table.primary(['run_id', 'key'], 'tracking_params_pk');
  });

  await knex.schema.createTable('tracking_tags', table => {
    table.comment('Run tags (overwritable)');
    table
      .string('run_id', 32)
      .notNullable()
      .references('run_id')
      .inTable('tracking_runs')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.text('value').notNullable();
    table.primary(['run_id', 'key'], 'tracking_tags_pk');
  });

  await knex.schema.createTable('tracking_metrics', table => {
    table.comment(
      'Metric history: every logged point; an exact duplicate is stored once',
    );
    table
      .string('run_id', 32)
      .notNullable()
      .references('run_id')
      .inTable('tracking_runs')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.bigInteger('step').notNullable().defaultTo(0);
    table.bigInteger('timestamp').notNullable();
    table.double('value').notNullable().comment('0 when is_nan');
    table.boolean('is_nan').notNullable().defaultTo(false);
    // The key also serves a history read in order (run, key, step, timestamp)
    // straight from the index, without a sort.
    table.primary(
      ['run_id', 'key', 'step', 'timestamp', 'value', 'is_nan'],
      'tracking_metrics_pk',
    );
  });

  await knex.schema.createTable('tracking_latest_metrics', table => {
    table.comment(
      'Per run and key, the point with the latest timestamp (largest value on a tie)',
    );
    table
      .string('run_id', 32)
      .notNullable()
      .references('run_id')
      .inTable('tracking_runs')
      .onDelete('CASCADE');
    table.string('key', 250).notNullable();
    table.bigInteger('step').notNullable();
    table.bigInteger('timestamp').notNullable();
    table.double('value').notNullable().comment('0 when is_nan');
    table.boolean('is_nan').notNullable().defaultTo(false);
    table.primary(['run_id', 'key'], 'tracking_latest_metrics_pk');
  });

  // MLflow clients log to experiment "0" when none is set, as MLflow's own
  // stores create it.
  const now = Date.now();
  await knex('tracking_experiments').insert({
    experiment_id: 0,
    name: 'Default',
    artifact_location: 'mlflow-artifacts:/0',
    lifecycle_stage: 'active',
    creation_time: now,
    last_update_time: now,
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('tracking_latest_metrics');
  await knex.schema.dropTable('tracking_metrics');
  await knex.schema.dropTable('tracking_tags');
  await knex.schema.dropTable('tracking_params');
  await knex.schema.dropTable('tracking_runs');
  await knex.schema.dropTable('tracking_experiment_tags');
  await knex.schema.dropTable('tracking_experiments');
};
