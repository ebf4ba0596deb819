// @ts-check

/**
 * Model monitoring: reference profiles (computed once per Model and
 * reference), drift reports, each Model's schedule (the next run claimed by
 * one instance only), alerts (for the cooldown), ADWIN's state per Model
 * version and the change points it found. Timestamps are integer
 * milliseconds since the epoch.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('monitoring_reference_profiles', table => {
    table.comment('Per-column profiles of a drift reference, computed once');
    table.string('id', 64).primary();
    table.string('model_name', 256).notNullable();
    table
      .string('reference_key', 512)
      .notNullable()
      .comment(
        'dataset:<ref>@<location>, upload:<id> or log:<model>@<from>-<to>',
      );
    table.string('source', 16).notNullable().comment('dataset, upload or log');
    table.integer('row_count').notNullable();
    table.boolean('sampled').notNullable();
    table.text('profile', 'longtext').notNullable().comment('JSON');
    table.bigInteger('created_at').notNullable();
    table.unique(['model_name', 'reference_key'], {
      indexName: 'monitoring_reference_profiles_key_idx',
    });
  });

  await knex.schema.createTable('monitoring_drift_reports', table => {
    table.comment(
      'Drift reports of a Model version over a window of the inference log',
    );
    table.string('id', 64).primary();
    table.string('model_name', 256).notNullable();
    table
      .string('version', 64)
      .notNullable()
      .comment('Version number, or "all"');
    table.string('reference_id', 64).notNullable();
    table.bigInteger('window_start').notNullable();
    table.bigInteger('window_end').notNullable();
    table.string('trigger', 16).notNullable().comment('schedule or manual');
    table.string('status', 32).notNullable().comment('ok or insufficient_data');
    table.boolean('dataset_drift').notNullable();
    table.double('share_drifted').notNullable();
    table.integer('row_count').notNullable();
    table
      .text('report', 'longtext')
      .notNullable()
      .comment('JSON: features, quality, distributions');
    table.bigInteger('created_at').notNullable();
    table.index(
      ['model_name', 'created_at'],
      'monitoring_drift_reports_model_idx',
    );
  });

  await knex.schema.createTable('monitoring_schedules', table => {
    table.comment(
      'The drift schedule of each Model; next_run_at is claimed by compare-and-set',
    );
    table.string('model_name', 256).primary();
    table.string('cron', 128).notNullable();
    table.bigInteger('next_run_at').notNullable();
    table.bigInteger('last_run_at').nullable();
  });

  await knex.schema.createTable('monitoring_alerts', table => {
    table.comment('Alerts raised, for cooldowns and history');
    table.bigIncrements('id');
    table.string('model_name', 256).notNullable();
    table.string('version', 64).notNullable();
    table.string('kind', 32).notNullable();
    table.string('severity', 16).notNullable();
    table.text('payload').notNullable().comment('JSON: the event sent');
    table.bigInteger('created_at').notNullable();
    table.index(
      ['model_name', 'kind', 'created_at'],
      'monitoring_alerts_model_idx',
    );
  });

  await knex.schema.createTable('monitoring_adwin', table => {
    table.comment(
      'ADWIN state over the per-request error stream of a Model version',
    );
    table.string('model_name', 256).notNullable();
    table.string('version', 64).notNullable();
    table.text('state').notNullable().comment('JSON');
    table
      .bigInteger('last_created_at')
      .notNullable()
      .comment('Newest log row fed');
    table.bigInteger('last_log_id').notNullable();
    table.primary(['model_name', 'version']);
  });

  await knex.schema.createTable('monitoring_change_points', table => {
    table.comment('Changes ADWIN detected in the error stream');
    table.bigIncrements('id');
    table.string('model_name', 256).notNullable();
    table.string('version', 64).notNullable();
    table
      .bigInteger('at')
      .notNullable()
      .comment('created_at of the request that revealed it');
    table
      .double('estimation')
      .notNullable()
      .comment('Mean error of the window kept');
    table.bigInteger('created_at').notNullable();
    table.index(['model_name', 'at'], 'monitoring_change_points_model_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('monitoring_change_points');
  await knex.schema.dropTable('monitoring_adwin');
  await knex.schema.dropTable('monitoring_alerts');
  await knex.schema.dropTable('monitoring_schedules');
  await knex.schema.dropTable('monitoring_drift_reports');
  await knex.schema.dropTable('monitoring_reference_profiles');
};
