// @ts-check

/**
 * Progressive delivery: a deployment per model and environment, its
 * rollouts (one running at a time), the analysis of each step, the timeline
 * of actions, and A/B conversions. Timestamps are integer milliseconds since
 * the epoch. `revision` on deployments guards against lost updates.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('rollout_deployments', table => {
    table.comment('One per registered model and environment');
    table.string('id', 64).primary().notNullable();
    table.string('model_name', 256).notNullable();
    table.string('entity_ref', 512).notNullable();
    table.string('environment', 64).notNullable();
    table.string('target', 16).notNullable().comment('embedded or kserve');
    table.integer('stable_version').nullable();
    table
      .string('current_rollout_id', 64)
      .nullable()
      .comment('The running rollout, else the last one');
    table.text('target_status').nullable().comment('JSON, as last read back');
    table
      .integer('revision')
      .notNullable()
      .defaultTo(0)
      .comment('Bumped by every change; updates compare it');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.unique(['model_name', 'environment'], {
      indexName: 'rollout_deployments_model_env_uq',
    });
  });

  await knex.schema.createTable('rollout_rollouts', table => {
    table.comment('Moves of a deployment from its stable version to a candidate');
    table.string('id', 64).primary().notNullable();
    table
      .string('deployment_id', 64)
      .notNullable()
      .references('id')
      .inTable('rollout_deployments')
      .onDelete('CASCADE');
    table.string('strategy', 16).notNullable();
    table
      .string('state', 16)
      .notNullable()
      .comment('progressing, paused, promoted, rolled_back');
    table.integer('stable_version').nullable();
    table.integer('candidate_version').notNullable();
    table.text('steps').notNullable().comment('JSON array of weights');
    table.integer('step_index').notNullable().defaultTo(0);
    table.integer('weight').notNullable();
    table.boolean('switched').notNullable().defaultTo(false);
    table.text('slo').notNullable().comment('JSON');
    table.text('ab_key').nullable().comment('JSON');
    table.string('started_by', 512).notNullable();
    table.bigInteger('started_at').notNullable();
    table.bigInteger('step_started_at').notNullable();
    table.bigInteger('finished_at').nullable();
    table.bigInteger('last_analysis_at').nullable();
    table.text('reason').nullable();
    table.index(['deployment_id', 'started_at'], 'rollout_rollouts_deployment_idx');
    table.index(['state'], 'rollout_rollouts_state_idx');
  });

  await knex.schema.createTable('rollout_analyses', table => {
    table.comment('One SLO analysis of a rollout step, with its numbers');
    table.string('id', 64).primary().notNullable();
    table
      .string('rollout_id', 64)
      .notNullable()
      .references('id')
      .inTable('rollout_rollouts')
      .onDelete('CASCADE');
    table.integer('step_index').notNullable();
    table.integer('weight').notNullable();
    table.bigInteger('window_start').notNullable();
    table.bigInteger('window_end').notNullable();
    table.string('verdict', 8).notNullable().comment('pass, fail, wait');
    table.text('checks').notNullable().comment('JSON');
    table.text('arms').notNullable().comment('JSON');
    table.text('comparison').nullable().comment('JSON (A/B)');
    table.text('agreement').nullable().comment('JSON (shadow)');
    table.bigInteger('created_at').notNullable();
    table.index(['rollout_id', 'created_at'], 'rollout_analyses_rollout_idx');
  });

  await knex.schema.createTable('rollout_events', table => {
    table.comment('The timeline of a deployment: actions and automatic decisions');
    table.string('id', 64).primary().notNullable();
    table
      .string('deployment_id', 64)
      .notNullable()
      .references('id')
      .inTable('rollout_deployments')
      .onDelete('CASCADE');
    table.string('rollout_id', 64).nullable();
    table.string('action', 16).notNullable();
    table.string('actor', 512).notNullable();
    table.boolean('automatic').notNullable().defaultTo(false);
    table.integer('from_weight').nullable();
    table.integer('to_weight').nullable();
    table.text('comment').nullable();
    table.bigInteger('created_at').notNullable();
    table.index(['deployment_id', 'created_at'], 'rollout_events_deployment_idx');
  });

  await knex.schema.createTable('rollout_conversions', table => {
    table.comment('A/B outcomes, by the arm the key was assigned to');
    table.bigIncrements('id');
    table
      .string('rollout_id', 64)
      .notNullable()
      .references('id')
      .inTable('rollout_rollouts')
      .onDelete('CASCADE');
    table.string('arm', 16).notNullable();
    table.string('key', 256).notNullable();
    table.double('value').notNullable().defaultTo(1);
    table.bigInteger('created_at').notNullable();
    table.index(['rollout_id', 'arm', 'created_at'], 'rollout_conversions_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('rollout_conversions');
  await knex.schema.dropTable('rollout_events');
  await knex.schema.dropTable('rollout_analyses');
  await knex.schema.dropTable('rollout_rollouts');
  await knex.schema.dropTable('rollout_deployments');
};
