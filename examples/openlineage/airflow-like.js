#!/usr/bin/env node
/**
 * Posts OpenLineage events the way an Airflow DAG with the OpenLineage
 * provider would: the DAG run (parent), then two tasks, `raw_to_features`
 * (the raw wine CSV → a feature table, with schema, row counts and column
 * lineage) and `train` (the features → the wine-quality model), each a
 * START and a COMPLETE.
 *
 *   OPENLINEAGE_URL=http://localhost:7007/api/mlops/openlineage \
 *   OPENLINEAGE_API_KEY=loopline-demo-token-change-me \
 *   node examples/openlineage/airflow-like.js
 *
 * Then open the wine-quality-raw Dataset's Lineage tab: raw → features →
 * train → the model.
 */
const crypto = require('node:crypto');

const PRODUCER =
  'https://github.com/apache/airflow/tree/providers-openlineage/2.1.0';
const RUN_EVENT =
  'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const NAMESPACE = 'airflow';
const DAG = 'wine_quality';

const facet = (schema, body) => ({
  _producer: PRODUCER,
  _schemaURL: `https://openlineage.io/spec/facets/${schema}`,
  ...body,
});

const WINE_COLUMNS = [
  'fixed_acidity',
  'volatile_acidity',
  'citric_acid',
  'residual_sugar',
  'chlorides',
  'free_sulfur_dioxide',
  'total_sulfur_dioxide',
  'density',
  'pH',
  'sulphates',
  'alcohol',
];

const rawDataset = {
  namespace: 'file',
  name: 'examples/data/winequality.csv',
  facets: {
    schema: facet('1-1-1/SchemaDatasetFacet.json', {
      fields: [
        ...WINE_COLUMNS.map(name => ({ name, type: 'DOUBLE' })),
        { name: 'quality', type: 'INTEGER' },
        { name: 'color', type: 'STRING' },
      ],
    }),
    dataSource: facet('1-0-1/DatasourceDatasetFacet.json', {
      name: 'file',
      uri: 'file:examples/data',
    }),
  },
};

const featuresDataset = {
  namespace: 'file',
  name: 'examples/data/wine-features.parquet',
  facets: {
    schema: facet('1-1-1/SchemaDatasetFacet.json', {
      fields: [
        ...WINE_COLUMNS.map(name => ({ name: `${name}_z`, type: 'DOUBLE' })),
        { name: 'quality', type: 'INTEGER' },
      ],
    }),
    columnLineage: facet('1-2-0/ColumnLineageDatasetFacet.json', {
      fields: Object.fromEntries([
        ...WINE_COLUMNS.map(name => [
          `${name}_z`,
          {
            inputFields: [
              {
                namespace: rawDataset.namespace,
                name: rawDataset.name,
                field: name,
                transformations: [
                  {
                    type: 'DIRECT',
                    subtype: 'TRANSFORMATION',
                    description: 'standardised (z-score)',
                    masking: false,
                  },
                ],
              },
            ],
          },
        ]),
        [
          'quality',
          {
            inputFields: [
              {
                namespace: rawDataset.namespace,
                name: rawDataset.name,
                field: 'quality',
                transformations: [
                  { type: 'DIRECT', subtype: 'IDENTITY', masking: false },
                ],
              },
            ],
          },
        ],
      ]),
    }),
  },
};

const modelDataset = { namespace: 'loopline', name: 'models/wine-quality' };

/** The events, in the order Airflow sends them. */
function buildEvents(options = {}) {
  const start = Date.parse(options.start ?? new Date().toISOString());
  const at = seconds => new Date(start + seconds * 1000).toISOString();
  const dagRunId = options.dagRunId ?? crypto.randomUUID();
  const parent = facet('1-1-0/ParentRunFacet.json', {
    run: { runId: dagRunId },
    job: { namespace: NAMESPACE, name: DAG },
  });
  const jobFacets = task => ({
    jobType: facet('2-0-3/JobTypeJobFacet.json', {
      processingType: 'BATCH',
      integration: 'AIRFLOW',
      jobType: 'TASK',
    }),
    documentation: facet('1-1-0/DocumentationJobFacet.json', {
      description: `Task ${task} of DAG ${DAG}`,
    }),
  });
  const task = (name, inputs, outputs, from, to, outputStats) => {
    const runId = crypto.randomUUID();
    const base = (eventType, time) => ({
      eventType,
      eventTime: at(time),
      producer: PRODUCER,
      schemaURL: RUN_EVENT,
      run: {
        runId,
        facets: {
          parent,
          processing_engine: facet('1-1-1/ProcessingEngineRunFacet.json', {
            version: '2.10.4',
            name: 'Airflow',
            openlineageAdapterVersion: '2.1.0',
          }),
        },
      },
      job: {
        namespace: NAMESPACE,
        name: `${DAG}.${name}`,
        facets: jobFacets(name),
      },
      inputs,
      outputs,
    });
    const complete = base('COMPLETE', to);
    complete.outputs = outputs.map(o => ({
      ...o,
      outputFacets: {
        outputStatistics: facet(
          '1-0-2/OutputStatisticsOutputDatasetFacet.json',
          outputStats,
        ),
      },
    }));
    return [base('START', from), complete];
  };
  return [
    ...task('raw_to_features', [rawDataset], [featuresDataset], 0, 20, {
      rowCount: 608,
      size: 48_000,
    }),
    ...task('train', [featuresDataset], [modelDataset], 30, 90, {
      rowCount: 1,
    }),
  ];
}

async function main() {
  const base = process.env.OPENLINEAGE_URL;
  if (!base) {
    console.error(
      'Set OPENLINEAGE_URL (e.g. http://localhost:7007/api/mlops/openlineage)',
    );
    process.exit(2);
  }
  const headers = { 'Content-Type': 'application/json' };
  if (process.env.OPENLINEAGE_API_KEY) {
    headers.Authorization = `Bearer ${process.env.OPENLINEAGE_API_KEY}`;
  }
  for (const event of buildEvents()) {
    const response = await fetch(`${base}/api/v1/lineage`, {
      method: 'POST',
      headers,
      body: JSON.stringify(event),
    });
    console.log(`${event.eventType} ${event.job.name}: ${response.status}`);
    if (!response.ok) {
      console.error(await response.text());
      process.exit(1);
    }
  }
}

module.exports = { buildEvents };

if (require.main === module) {
  main().catch(error => {
    console.error(error);
    process.exit(1);
  });
}
