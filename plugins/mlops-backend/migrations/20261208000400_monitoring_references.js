// @ts-check

/**
 * Monitoring, second part: the reference each Model is compared with when it
 * is not its training Dataset (a pinned window of the inference log or a set
 * uploaded through the API, both profiled once into
 * monitoring_reference_profiles), and how far ADWIN has read the ground
 * truth of each Model (in the order it arrived, so late labels count), and
 * which reports carry quality (the overview shows the latest).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('monitoring_active_references', table => {
    // (No apostrophes in comments: knex does not escape them for PostgreSQL.)
    table.comment(
      'The reference of a Model when not the Dataset of its spec: a pinned log window or an upload',
    );
    table.string('model_name', 256).primary();
    table
      .string('profile_id', 64)
      .notNullable()
      .comment('monitoring_reference_profiles.id');
    table.string('set_by', 256).nullable().comment('The user or service');
    table.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('monitoring_ground_truth_cursors', table => {
    table.comment(
      'How far ADWIN has read the ground truth of a Model, in arrival order',
    );
    table.string('model_name', 256).primary();
    table
      .bigInteger('gt_created_at')
      .notNullable()
      .comment('created_at of the last ground truth fed');
    table
      .bigInteger('log_id')
      .notNullable()
      .comment('serving_inference_log.id of the last row fed');
  });

  await knex.schema.alterTable('monitoring_drift_reports', table => {
    table
      .boolean('has_quality')
      .notNullable()
      .defaultTo(false)
      .comment('The report holds quality against ground truth');
  });
  await knex('monitoring_drift_reports')
    .where('report', 'like', '%"quality":{%')
    .update({ has_quality: true });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('monitoring_drift_reports', table => {
    table.dropColumn('has_quality');
  });
  await knex.schema.dropTable('monitoring_ground_truth_cursors');
  await knex.schema.dropTable('monitoring_active_references');
};
