// @ts-check

/**
 * Data docs and promotion gates: each validation of a Dataset's
 * expectations (its results as JSON), and each evaluation of a Model
 * version, or of a pipeline's candidate, against the Model's gates.
 * Timestamps are integer milliseconds since the epoch.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('dataset_validations', table => {
    table.comment(
      'Validations of the expectations of Datasets (their data docs)',
    );
    table.string('id', 64).primary().notNullable();
    table.string('entity_ref', 512).notNullable();
    table.text('location').notNullable();
    table.boolean('success').notNullable();
    table.integer('row_count').notNullable();
    table.text('results').notNullable().comment('JSON: ExpectationResult[]');
    table.string('pipeline_run_id', 64).nullable();
    table.bigInteger('validated_at').notNullable();
    table.index(['entity_ref', 'validated_at'], 'dataset_validations_ref_idx');
  });
  await knex.schema.createTable('model_gate_results', table => {
    table.comment(
      'Evaluations of Model versions against the gates of their Model',
    );
    table.string('id', 64).primary().notNullable();
    table.string('model_name', 256).notNullable();
    table
      .integer('version')
      .nullable()
      .comment('Null for an unregistered candidate');
    table.string('entity_ref', 512).notNullable();
    table.string('context', 16).notNullable().comment('evaluate or transition');
    table.boolean('passed').notNullable();
    table.text('checks').notNullable().comment('JSON: GateCheck[]');
    table.string('overridden_by', 512).nullable();
    table.text('comment').nullable();
    table.string('actor', 512).notNullable();
    table.string('pipeline_run_id', 64).nullable();
    table.bigInteger('evaluated_at').notNullable();
    table.index(['model_name', 'version'], 'model_gate_results_version_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('model_gate_results');
  await knex.schema.dropTable('dataset_validations');
};
