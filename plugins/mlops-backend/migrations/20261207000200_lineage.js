// @ts-check

/**
 * Lineage (OpenLineage ingest, Marquez's model): the raw events
 * append-only; namespaces, jobs and their versions, runs with their state
 * history, datasets and a version per run that wrote them, the runs'
 * inputs and outputs, column lineage, and the current I/O of each job that
 * the graph walks. Facets and field lists are JSON text. Timestamps are
 * integer milliseconds since the epoch. Ids are UUID strings.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('lineage_events', table => {
    table.comment('Every accepted event, as received');
    table.increments('id').primary();
    table.string('event_kind', 16).notNullable().comment('RUN, DATASET or JOB');
    table.string('event_type', 16).nullable().comment('START ... OTHER');
    table.bigInteger('event_time').notNullable();
    table.string('run_uuid', 36).nullable();
    table.string('job_namespace', 1024).nullable();
    table.string('job_name', 1024).nullable();
    table.string('producer', 2048).notNullable();
    table.text('event').notNullable();
    table.bigInteger('received_at').notNullable();
    table.index(['run_uuid'], 'lineage_events_run_idx');
    table.index(['received_at'], 'lineage_events_received_idx');
  });

  await knex.schema.createTable('lineage_namespaces', table => {
    table.string('name', 1024).primary().notNullable();
    table.string('owner_name', 256).notNullable();
    table.text('description').nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('lineage_jobs', table => {
    table.string('uuid', 36).primary().notNullable();
    table.string('namespace', 1024).notNullable();
    table.string('name', 1024).notNullable();
    table.string('simple_name', 1024).notNullable();
    table.string('parent_job_uuid', 36).nullable();
    table.string('type', 16).notNullable().comment('BATCH, STREAM or SERVICE');
    table.text('description').nullable();
    table.string('location', 2048).nullable();
    table.text('facets').notNullable().comment('JSON: the latest of each');
    table.string('current_version_uuid', 36).nullable();
    table.string('current_run_uuid', 36).nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.unique(['namespace', 'name'], { indexName: 'lineage_jobs_name_uq' });
  });

  await knex.schema.createTable('lineage_job_versions', table => {
    table.string('uuid', 36).primary().notNullable();
    table.string('job_uuid', 36).notNullable();
    table.text('inputs').notNullable().comment('JSON [{namespace,name}]');
    table.text('outputs').notNullable().comment('JSON [{namespace,name}]');
    table.string('location', 2048).nullable();
    table.string('latest_run_uuid', 36).nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.index(['job_uuid'], 'lineage_job_versions_job_idx');
  });

  await knex.schema.createTable('lineage_runs', table => {
    table.string('uuid', 36).primary().notNullable();
    table.string('job_uuid', 36).notNullable();
    table.string('job_version_uuid', 36).nullable();
    table.string('parent_run_uuid', 36).nullable();
    table.string('state', 16).notNullable();
    table
      .bigInteger('state_time')
      .notNullable()
      .comment('eventTime of the event that set the state');
    table.bigInteger('nominal_start_time').nullable();
    table.bigInteger('nominal_end_time').nullable();
    table.bigInteger('started_at').nullable();
    table.bigInteger('ended_at').nullable();
    table.text('facets').notNullable().comment('JSON: the latest of each');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.index(['job_uuid', 'created_at'], 'lineage_runs_job_idx');
    table.index(['parent_run_uuid'], 'lineage_runs_parent_idx');
  });

  await knex.schema.createTable('lineage_run_states', table => {
    table.increments('id').primary();
    table.string('run_uuid', 36).notNullable();
    table.string('state', 16).notNullable();
    table.bigInteger('transitioned_at').notNullable();
    table.unique(['run_uuid', 'state', 'transitioned_at'], {
      indexName: 'lineage_run_states_uq',
    });
  });

  await knex.schema.createTable('lineage_datasets', table => {
    table.string('uuid', 36).primary().notNullable();
    table.string('namespace', 1024).notNullable();
    table.string('name', 1024).notNullable();
    table.string('type', 16).notNullable().comment('DB_TABLE or STREAM');
    table.string('source_name', 1024).notNullable();
    table.text('description').nullable();
    table.text('fields').notNullable().comment('JSON: the current schema');
    table.text('facets').notNullable().comment('JSON: the latest of each');
    table.string('current_version_uuid', 36).nullable();
    table.string('lifecycle_state', 32).nullable();
    table.bigInteger('last_modified_at').nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.unique(['namespace', 'name'], {
      indexName: 'lineage_datasets_name_uq',
    });
  });

  await knex.schema.createTable('lineage_dataset_versions', table => {
    table.comment('One per run that wrote the dataset (or per DatasetEvent)');
    table.string('uuid', 36).primary().notNullable();
    table.string('dataset_uuid', 36).notNullable();
    table.string('version', 256).notNullable();
    table.string('run_uuid', 36).nullable();
    table.string('content_hash', 256).nullable();
    table.bigInteger('row_count').nullable();
    table.bigInteger('byte_size').nullable();
    table.text('fields').notNullable().comment('JSON schema fields');
    table.text('facets').notNullable();
    table.string('lifecycle_state', 32).nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.index(['dataset_uuid', 'created_at'], 'lineage_dataset_versions_idx');
    table.index(['run_uuid'], 'lineage_dataset_versions_run_idx');
  });

  await knex.schema.createTable('lineage_run_io', table => {
    table.comment('The dataset versions a run read (in) and wrote (out)');
    table.string('run_uuid', 36).notNullable();
    table.string('direction', 3).notNullable();
    table.string('dataset_uuid', 36).notNullable();
    table.string('dataset_version_uuid', 36).notNullable();
    table.primary(['run_uuid', 'direction', 'dataset_uuid']);
    table.index(['dataset_version_uuid'], 'lineage_run_io_version_idx');
  });

  await knex.schema.createTable('lineage_job_io', table => {
    table.comment('The current I/O of each job: the graph edges');
    table.string('job_uuid', 36).notNullable();
    table.string('direction', 3).notNullable();
    table.string('dataset_uuid', 36).notNullable();
    table.primary(['job_uuid', 'direction', 'dataset_uuid']);
    table.index(['dataset_uuid', 'direction'], 'lineage_job_io_dataset_idx');
  });

  await knex.schema.createTable('lineage_column_lineage', table => {
    table.comment('From the columnLineage facet of outputs');
    table.increments('id').primary();
    table.string('dataset_version_uuid', 36).notNullable();
    table.string('dataset_uuid', 36).notNullable();
    table.string('field', 1024).notNullable();
    table.string('input_namespace', 1024).notNullable();
    table.string('input_name', 1024).notNullable();
    table.string('input_field', 1024).notNullable();
    table.string('transformation_type', 64).nullable();
    table.string('transformation_subtype', 64).nullable();
    table.text('transformation_description').nullable();
    table.index(['dataset_version_uuid'], 'lineage_column_lineage_version_idx');
    table.index(['dataset_uuid'], 'lineage_column_lineage_dataset_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  for (const table of [
    'lineage_column_lineage',
    'lineage_job_io',
    'lineage_run_io',
    'lineage_dataset_versions',
    'lineage_datasets',
    'lineage_run_states',
    'lineage_runs',
    'lineage_job_versions',
    'lineage_jobs',
    'lineage_namespaces',
    'lineage_events',
  ]) {
    await knex.schema.dropTable(table);
  }
};
