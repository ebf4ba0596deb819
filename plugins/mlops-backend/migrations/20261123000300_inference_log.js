// @ts-check

/**
 * The inference log: one row per logged inference request, from the embedded
 * server or from KServe's request logger, and the ground truth reported later
 * for a request id. Timestamps are integer milliseconds since the epoch.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('serving_inference_log', table => {
    table.comment(
      'Inference requests (sampled): inputs, outputs, status and latency',
    );
    table.bigIncrements('id');
    table
      .string('request_id', 256)
      .notNullable()
      .comment('The OIP request id or KServe ce-id');
    table
      .string('model_name', 256)
      .notNullable()
      .comment('Registered model name, or the KServe InferenceService name');
    table.integer('version').nullable().comment('Null when not resolved');
    table
      .string('route', 64)
      .notNullable()
      .comment('oip, predict, predict-batch; the KServe component');
    table.string('source', 16).notNullable().comment('embedded or kserve');
    table
      .string('endpoint', 64)
      .nullable()
      .comment('KServe endpoint: default or canary');
    table.string('status', 16).notNullable().comment('ok or error');
    table
      .integer('http_status')
      .nullable()
      .comment('Null when unknown (KServe does not report it)');
    table
      .double('latency_ms')
      .nullable()
      .comment('Null until both halves of a KServe pair arrived');
    table
      .double('sample_rate')
      .notNullable()
      .defaultTo(1)
      .comment(
        'Probability with which this row was kept; 1/rate is its weight',
      );
    table.text('inputs').nullable().comment('JSON');
    table.text('outputs').nullable().comment('JSON');
    table.text('error').nullable();
    table.bigInteger('created_at').notNullable();
    table.index(
      ['model_name', 'created_at'],
      'serving_inference_log_model_idx',
    );
    table.index(['request_id'], 'serving_inference_log_request_idx');
    table.index(['created_at'], 'serving_inference_log_created_idx');
  });

  await knex.schema.createTable('serving_ground_truth', table => {
    table.comment('Observed outcomes, reported after the fact by request id');
    table.string('request_id', 256).primary().notNullable();
    table
      .string('model_name', 256)
      .nullable()
      .comment('From the inference log when the request was already logged');
    table.text('value').notNullable().comment('JSON');
    table.bigInteger('created_at').notNullable();
    table.index(['created_at'], 'serving_ground_truth_created_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('serving_ground_truth');
  await knex.schema.dropTable('serving_inference_log');
};
