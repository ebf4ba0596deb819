// @ts-check

/**
 * The audit trail: every decision that matters (stage change, rollout step,
 * rollback, pipeline trigger) is written here by the domain that makes it.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('audit_events', table => {
    table.comment('Who did what to which entity, when and why');
    table.bigIncrements('id').primary();
    table
      .string('entity_ref', 512)
      .notNullable()
      .comment('Ref of the catalog entity the action concerns');
    table
      .string('action', 128)
      .notNullable()
      .comment('e.g. registry.stage.transition');
    table
      .string('actor', 512)
      .notNullable()
      .comment('User entity ref or service subject');
    table.text('comment').nullable();
    table.text('details').notNullable().comment('JSON object');
    table
      .timestamp('created_at', { useTz: true, precision: 3 })
      .notNullable()
      .defaultTo(knex.fn.now());
    table.index(['entity_ref', 'id'], 'audit_events_entity_ref_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('audit_events');
};
