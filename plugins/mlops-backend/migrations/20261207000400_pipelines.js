// @ts-check

/**
 * Pipeline runs: one row per run (its parameters, trigger and outputs), one
 * per step of it, and its log lines. Timestamps are integer milliseconds
 * since the epoch. `trigger_key` makes triggers idempotent: a schedule slot,
 * an alert or a dataset version starts at most one run of a pipeline, however
 * many backends see it.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('pipeline_runs', table => {
    table.comment('Runs of Pipeline entities');
    table.string('id', 64).primary().notNullable();
    table.string('pipeline_name', 256).notNullable();
    table.string('entity_ref', 512).notNullable();
    table
      .string('state', 16)
      .notNullable()
      .comment('queued, running, succeeded, failed, cancelled');
    table.string('runner', 16).notNullable();
    table.text('parameters').notNullable().comment('JSON object of strings');
    table.string('trigger_type', 32).notNullable();
    table.text('trigger_cause').notNullable();
    table.string('triggered_by', 512).nullable();
    table.string('trigger_key', 512).nullable();
    table.text('outputs').notNullable().comment('JSON');
    table.text('reason').nullable();
    table.boolean('cancel_requested').notNullable().defaultTo(false);
    table
      .string('claimed_by', 128)
      .nullable()
      .comment('The backend instance executing the run');
    table
      .bigInteger('heartbeat_at')
      .nullable()
      .comment('Last sign of life of the executing instance');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('started_at').nullable();
    table.bigInteger('finished_at').nullable();
    table.unique(['pipeline_name', 'trigger_key'], {
      indexName: 'pipeline_runs_trigger_key_uq',
    });
    table.index(['pipeline_name', 'created_at'], 'pipeline_runs_pipeline_idx');
    table.index(['state'], 'pipeline_runs_state_idx');
  });

  await knex.schema.createTable('pipeline_step_runs', table => {
    table.comment('The steps of a run, in the order the spec lists them');
    table
      .string('run_id', 64)
      .notNullable()
      .references('id')
      .inTable('pipeline_runs')
      .onDelete('CASCADE');
    table.string('name', 256).notNullable();
    table.integer('position').notNullable();
    table.string('kind', 32).notNullable();
    table.text('definition').notNullable().comment('JSON: the step as run');
    table.string('state', 16).notNullable();
    table.integer('attempt').notNullable().defaultTo(1);
    table.bigInteger('started_at').nullable();
    table.bigInteger('finished_at').nullable();
    table.integer('exit_code').nullable();
    table.text('message').nullable();
    table
      .text('handle')
      .nullable()
      .comment('JSON: where it runs (host and process group, or Job name)');
    table.primary(['run_id', 'name']);
  });

  await knex.schema.createTable('pipeline_run_logs', table => {
    table.comment('Output of the steps, line by line, kept for the retention');
    table.bigIncrements('seq').primary();
    table
      .string('run_id', 64)
      .notNullable()
      .references('id')
      .inTable('pipeline_runs')
      .onDelete('CASCADE');
    table.string('step', 256).notNullable();
    table.integer('attempt').notNullable();
    table.string('stream', 8).notNullable().comment('stdout, stderr, system');
    table.text('text').notNullable();
    table.bigInteger('created_at').notNullable();
    table.index(['run_id', 'seq'], 'pipeline_run_logs_run_idx');
  });

  await knex.schema.createTable('pipeline_trigger_state', table => {
    table.comment(
      'What a trigger last saw (e.g. the hash of a Dataset entity)',
    );
    table.string('pipeline_name', 256).notNullable();
    table.string('trigger', 512).notNullable();
    table.text('value').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.primary(['pipeline_name', 'trigger']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('pipeline_trigger_state');
  await knex.schema.dropTable('pipeline_run_logs');
  await knex.schema.dropTable('pipeline_step_runs');
  await knex.schema.dropTable('pipeline_runs');
};
