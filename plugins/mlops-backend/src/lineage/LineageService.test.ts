import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { applyMigrations } from '../database/migrations';
import { InvalidEventError, LineageService } from './LineageService';
import { LineageStore } from './LineageStore';
import { OpenLineageValidator } from './OpenLineageValidator';
import { eventBreaker, JUNK } from './__testUtils__/malformedEvents';
import { jobVersionUuid, nameUuidFromBytes } from './model';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const validator = new OpenLineageValidator();

const PRODUCER = 'https://loopline.dev/test';
const RUN_SCHEMA =
  'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

let runCounter = 0;
function newRunId(): string {
  runCounter += 1;
  return `0190b5c4-0000-7000-8000-${String(runCounter).padStart(12, '0')}`;
}

function runEvent(options: {
  runId: string;
  eventType?: string;
  time: string;
  job: string;
  namespace?: string;
  inputs?: any[];
  outputs?: any[];
  runFacets?: any;
  jobFacets?: any;
}): any {
  return {
    eventType: options.eventType,
    eventTime: options.time,
    producer: PRODUCER,
    schemaURL: RUN_SCHEMA,
    run: { runId: options.runId, facets: options.runFacets },
    job: {
      namespace: options.namespace ?? 'ns',
      name: options.job,
      facets: options.jobFacets,
    },
    inputs: options.inputs ?? [],
    outputs: options.outputs ?? [],
  };
}

const ds = (name: string, facets?: any, extra?: any) => ({
  namespace: 'ns',
  name,
  facets,
  ...extra,
});
const facet = (body: any) => ({
  _producer: PRODUCER,
  _schemaURL: 'https://openlineage.io/spec/facets/1-0-0/Facet.json',
  ...body,
});

describe.each(databaseIds)('LineageService on %s', databaseId => {
  let knex: Knex;
  let service: LineageService;
  let now = Date.parse('2026-12-07T12:00:00Z');

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await applyMigrations(knex);
  }, 60_000);

  beforeEach(async () => {
    for (const table of [
      'lineage_events',
      'lineage_namespaces',
      'lineage_jobs',
      'lineage_job_versions',
      'lineage_runs',
      'lineage_run_states',
      'lineage_datasets',
      'lineage_dataset_versions',
      'lineage_run_io',
      'lineage_job_io',
      'lineage_column_lineage',
    ]) {
      await knex(table).delete();
    }
    service = new LineageService(new LineageStore(knex), validator, () => now);
  });

  const count = async (table: string) =>
    Number((await knex(table).count({ n: '*' }))[0].n);

  it('records a run from START to COMPLETE with Marquez ids, versions and state history', async () => {
    const runId = newRunId();
    await service.ingest(
      runEvent({
        runId,
        eventType: 'START',
        time: '2026-12-07T10:00:00Z',
        job: 'train',
        inputs: [ds('raw')],
        outputs: [ds('model')],
      }),
    );
    let job = await service.getJob({ namespace: 'ns', name: 'train' });
    expect(job.currentVersion).toBeNull();
    // Lineage shows while the run is still running.
    expect(job.inputs).toEqual([{ namespace: 'ns', name: 'raw' }]);
    expect(job.latestRun?.state).toBe('RUNNING');

    await service.ingest(
      runEvent({
        runId,
        eventType: 'COMPLETE',
        time: '2026-12-07T10:05:00Z',
        job: 'train',
        inputs: [ds('raw')],
        outputs: [
          ds(
            'model',
            {
              schema: facet({
                fields: [
                  { name: 'a', type: 'DOUBLE' },
                  { name: 'b', type: 'DOUBLE' },
                ],
              }),
              version: facet({ datasetVersion: 'sha256:abc' }),
            },
            { outputFacets: { outputStatistics: facet({ rowCount: 42 }) } },
          ),
        ],
      }),
    );
    job = await service.getJob({ namespace: 'ns', name: 'train' });
    expect(job.currentVersion).toBe(
      jobVersionUuid(
        'ns',
        'train',
        [{ namespace: 'ns', name: 'raw' }],
        [{ namespace: 'ns', name: 'model' }],
        null,
      ),
    );
    // Java's UUID.nameUUIDFromBytes("ns:train:ns:raw:ns:model").
    expect(job.currentVersion).toBe(
      nameUuidFromBytes('ns:train:ns:raw:ns:model'),
    );
    expect(job.latestRun).toMatchObject({
      id: runId,
      state: 'COMPLETED',
      startedAt: '2026-12-07T10:00:00.000Z',
      endedAt: '2026-12-07T10:05:00.000Z',
      durationMs: 300_000,
    });
    const run = await service.getRun(runId);
    expect(run.states.map(s => s.state)).toEqual(['RUNNING', 'COMPLETED']);
    expect(run.outputDatasetVersions).toHaveLength(1);

    const { versions } = await service.listDatasetVersions(
      { namespace: 'ns', name: 'model' },
      { limit: 10, offset: 0 },
    );
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({
      contentHash: 'sha256:abc',
      rowCount: 42,
      createdByRunUuid: runId,
      fields: [
        { name: 'a', type: 'DOUBLE', tags: [], description: null },
        { name: 'b', type: 'DOUBLE', tags: [], description: null },
      ],
    });
    const dataset = await service.getDataset({
      namespace: 'ns',
      name: 'model',
    });
    expect(dataset.currentVersion).toBe(versions[0].version);
    expect(await count('lineage_events')).toBe(2);
  });

  it('handles COMPLETE before START, duplicates and a repeated terminal event', async () => {
    const runId = newRunId();
    const complete = runEvent({
      runId,
      eventType: 'COMPLETE',
      time: '2026-12-07T10:05:00Z',
      job: 'late',
      outputs: [ds('out')],
    });
    await service.ingest(complete);
    await service.ingest(
      runEvent({
        runId,
        eventType: 'START',
        time: '2026-12-07T10:00:00Z',
        job: 'late',
        outputs: [ds('out')],
      }),
    );
    // A RUNNING that arrives after the end does not reopen the run.
    await service.ingest(
      runEvent({
        runId,
        eventType: 'RUNNING',
        time: '2026-12-07T10:06:00Z',
        job: 'late',
      }),
    );
    await service.ingest(complete);
    await service.ingest(complete);
    const run = await service.getRun(runId);
    expect(run).toMatchObject({
      state: 'COMPLETED',
      startedAt: '2026-12-07T10:00:00.000Z',
      endedAt: '2026-12-07T10:05:00.000Z',
    });
    expect(run.states.map(s => s.state)).toEqual([
      'RUNNING',
      'COMPLETED',
      'RUNNING',
    ]);
    // Raw events are all kept; the model has one version of each.
    expect(await count('lineage_events')).toBe(5);
    expect(await count('lineage_dataset_versions')).toBe(1);
    expect(await count('lineage_job_versions')).toBe(1);
    expect(await count('lineage_runs')).toBe(1);

    // A later FAIL replaces COMPLETE (both terminal, the later one wins);
    // an OTHER event adds facets only.
    await service.ingest(
      runEvent({
        runId,
        eventType: 'OTHER',
        time: '2026-12-07T10:07:00Z',
        job: 'late',
        runFacets: { acme_note: facet({ text: 'late metadata' }) },
      }),
    );
    expect(await service.getRun(runId)).toMatchObject({
      state: 'COMPLETED',
      facets: { acme_note: { text: 'late metadata' } },
    });
    await service.ingest({
      ...complete,
      eventType: 'FAIL',
      eventTime: '2026-12-07T10:08:00Z',
    });
    expect((await service.getRun(runId)).state).toBe('FAILED');
  });

  it('stores nothing for an invalid event and names its paths', async () => {
    const bad = runEvent({
      runId: 'not-a-uuid',
      time: '2026-12-07T10:00:00Z',
      job: 'j',
    });
    await expect(service.ingest(bad)).rejects.toBeInstanceOf(InvalidEventError);
    await expect(service.ingest(bad)).rejects.toMatchObject({
      problems: [{ path: '$.run.runId', message: 'must match format "uuid"' }],
    });
    expect(await count('lineage_events')).toBe(0);
    expect(await count('lineage_jobs')).toBe(0);
  });

  it('gives the same state whether events come one by one, in one batch or concurrently', async () => {
    // Out of order, duplicated, a failed rerun and a declared version, in
    // three namespaces: applied one by one, as one batch, and as concurrent
    // single posts (group commit).
    const story = (ns: string) => {
      const [r1, r2, r3] = [newRunId(), newRunId(), newRunId()];
      const d = (name: string, facets?: any) => ({
        namespace: ns,
        name,
        facets,
      });
      const rows = (n: number) => ({
        outputStatistics: facet({ rowCount: n }),
      });
      const e = (
        runId: string,
        eventType: string,
        time: string,
        job: string,
        inputs: any[],
        outputs: any[],
      ) =>
        runEvent({
          runId,
          eventType,
          time,
          job,
          namespace: ns,
          inputs,
          outputs,
        });
      const complete1 = e(
        r1,
        'COMPLETE',
        '2026-12-07T10:05:00Z',
        'a',
        [d('raw')],
        [{ ...d('mid'), outputFacets: rows(10) }],
      );
      return {
        runs: [r1, r2, r3],
        events: [
          e(r1, 'START', '2026-12-07T10:00:00Z', 'a', [d('raw')], [d('mid')]),
          complete1,
          e(
            r2,
            'COMPLETE',
            '2026-12-07T10:20:00Z',
            'b',
            [d('mid')],
            [d('out')],
          ),
          e(r2, 'START', '2026-12-07T10:10:00Z', 'b', [d('mid')], [d('out')]),
          complete1,
          e(r3, 'START', '2026-12-07T11:00:00Z', 'a', [d('raw')], [d('mid')]),
          {
            eventTime: '2026-12-07T11:01:00Z',
            producer: PRODUCER,
            schemaURL:
              'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
            dataset: d('raw', {
              version: facet({ datasetVersion: 'raw-v2' }),
            }),
          },
          e(
            r3,
            'FAIL',
            '2026-12-07T11:02:00Z',
            'a',
            [d('raw')],
            [{ ...d('mid'), outputFacets: rows(3) }],
          ),
        ],
      };
    };
    const summary = async (ns: string, runs: string[]) => {
      const out: any = {};
      for (const name of ['a', 'b']) {
        const job = await service.getJob({ namespace: ns, name });
        out[name] = {
          state: job.latestRun?.state,
          inputs: job.inputs.map(i => i.name),
          outputs: job.outputs.map(o => o.name),
          versioned: job.currentVersion !== null,
        };
      }
      for (const name of ['raw', 'mid', 'out']) {
        const { versions } = await service.listDatasetVersions(
          { namespace: ns, name },
          { limit: 10, offset: 0 },
        );
        const dataset = await service.getDataset({ namespace: ns, name });
        out[name] = {
          versions: versions.length,
          current: versions.find(v => v.version === dataset.currentVersion)
            ?.rowCount,
        };
      }
      out.states = [];
      for (const runId of runs) {
        out.states.push((await service.getRun(runId)).states.map(x => x.state));
      }
      out.graph = (await service.getLineage(`dataset:${ns}:raw`, 20)).graph.map(
        n => [n.id.replace(ns, 'NS'), n.inEdges.length, n.outEdges.length],
      );
      return out;
    };

    const one = story('one');
    for (const event of one.events) await service.ingest(event);
    const batch = story('batch');
    expect((await service.ingestBatch(batch.events)).failed).toEqual([]);
    const together = story('together');
    await Promise.all(together.events.map(event => service.ingest(event)));

    const expected = await summary('one', one.runs);
    expect(expected.a).toEqual({
      state: 'FAILED',
      inputs: ['raw'],
      outputs: ['mid'],
      versioned: true,
    });
    expect(expected.b.state).toBe('COMPLETED');
    expect(expected.mid.current).toBe(10);
    expect(expected.states[0]).toEqual(['RUNNING', 'COMPLETED']);
    expect(await summary('batch', batch.runs)).toEqual(expected);
    // Concurrent posts are applied in arrival order, which is the array's.
    expect(await summary('together', together.runs)).toEqual(expected);
  });

  it('rejects 1,000 malformed events and stores none of them', async () => {
    const { random, pick, breakEvent } = eventBreaker(12345, () => [
      e =>
        (e.outputs = [{ namespace: 'ns', name: 'o', facets: { x: { a: 1 } } }]),
      e => (e.run.facets = { parent: facet({ run: {}, job: { name: 'p' } }) }),
      e => (e.job.facets = { sql: facet({ noQuery: true }) }),
    ]);
    let rejected = 0;
    for (let i = 0; i < 1000; i++) {
      const event = runEvent({
        runId: newRunId(),
        eventType: 'START',
        time: '2026-12-07T10:00:00Z',
        job: `fuzz${i}`,
      });
      breakEvent(event);
      const body = random() < 0.05 ? pick(JUNK) : event;
      try {
        await service.ingest(body);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidEventError);
        rejected += 1;
      }
    }
    expect(rejected).toBe(1000);
    expect(await count('lineage_events')).toBe(0);
    expect(await count('lineage_jobs')).toBe(0);
    expect(await count('lineage_datasets')).toBe(0);
  });

  it('answers GET lineage in Marquez shape over a multi-hop graph with a cycle', async () => {
    // raw -> features -> train -> model ; model -> evaluate -> raw (a cycle)
    const steps: Array<[string, string[], string[]]> = [
      ['features', ['raw'], ['features_table']],
      ['train', ['features_table'], ['model']],
      ['evaluate', ['model'], ['raw']],
    ];
    for (const [job, inputs, outputs] of steps) {
      const runId = newRunId();
      for (const eventType of ['START', 'COMPLETE']) {
        await service.ingest(
          runEvent({
            runId,
            eventType,
            time: '2026-12-07T10:00:00Z',
            job,
            inputs: inputs.map(n => ds(n)),
            outputs: outputs.map(n => ds(n)),
          }),
        );
      }
    }
    const { graph } = await service.getLineage('dataset:ns:raw', 20);
    expect(graph.map(n => n.id)).toEqual([
      'dataset:ns:features_table',
      'dataset:ns:model',
      'dataset:ns:raw',
      'job:ns:evaluate',
      'job:ns:features',
      'job:ns:train',
    ]);
    const train = graph.find(n => n.id === 'job:ns:train')!;
    expect(train).toMatchObject({
      type: 'JOB',
      data: {
        id: { namespace: 'ns', name: 'train' },
        type: 'BATCH',
        inputs: [{ namespace: 'ns', name: 'features_table' }],
        outputs: [{ namespace: 'ns', name: 'model' }],
        latestRun: { state: 'COMPLETED' },
      },
      inEdges: [
        { origin: 'dataset:ns:features_table', destination: 'job:ns:train' },
      ],
      outEdges: [{ origin: 'job:ns:train', destination: 'dataset:ns:model' }],
    });
    const raw = graph.find(n => n.id === 'dataset:ns:raw')!;
    expect(raw.inEdges).toEqual([
      { origin: 'job:ns:evaluate', destination: 'dataset:ns:raw' },
    ]);
    expect(raw.outEdges).toEqual([
      { origin: 'dataset:ns:raw', destination: 'job:ns:features' },
    ]);

    // depth counts job hops: depth 0 from raw is its own jobs.
    const near = await service.getLineage('dataset:ns:raw', 0);
    expect(near.graph.map(n => n.id)).toEqual([
      'dataset:ns:features_table',
      'dataset:ns:model',
      'dataset:ns:raw',
      'job:ns:evaluate',
      'job:ns:features',
    ]);
    await expect(
      service.getLineage('dataset:ns:nope', 20),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
    });
  });

  it('walks a deep chain to the depth asked', async () => {
    for (let i = 0; i < 30; i++) {
      await service.ingest(
        runEvent({
          runId: newRunId(),
          eventType: 'COMPLETE',
          time: '2026-12-07T10:00:00Z',
          job: `step${i}`,
          inputs: [ds(`d${i}`)],
          outputs: [ds(`d${i + 1}`)],
        }),
      );
    }
    const jobsAt = async (depth: number) =>
      (await service.getLineage('dataset:ns:d0', depth)).graph.filter(
        n => n.type === 'JOB',
      ).length;
    expect(await jobsAt(20)).toBe(21);
    expect(await jobsAt(100)).toBe(30);
    expect(await jobsAt(0)).toBe(1);
  });

  it('walks a wide graph (read at once, then in memory) to the depth asked', async () => {
    // One hop reaches 301 datasets: the rest of the walk reads every edge
    // in one statement and goes on in memory, with the same answer.
    const wide = Array.from({ length: 300 }, (_, i) => ds(`w${i}`));
    const steps: Array<[string, any[], any[]]> = [
      ['wide', wide, [ds('out')]],
      ['next', [ds('out')], [ds('final')]],
      ['far', [ds('final')], [ds('far_out')]],
      ['other', [ds('elsewhere')], [ds('unrelated')]],
    ];
    for (const [job, inputs, outputs] of steps) {
      await service.ingest(
        runEvent({
          runId: newRunId(),
          eventType: 'COMPLETE',
          time: '2026-12-07T10:00:00Z',
          job,
          inputs,
          outputs,
        }),
      );
    }
    const at = async (depth: number) => {
      const { graph } = await service.getLineage('dataset:ns:w7', depth);
      return {
        jobs: graph
          .filter(n => n.type === 'JOB')
          .map(n => n.id)
          .sort(),
        datasets: graph.filter(n => n.type === 'DATASET').length,
        graph,
      };
    };
    expect((await at(0)).jobs).toEqual(['job:ns:wide']);
    expect((await at(0)).datasets).toBe(301);
    expect((await at(1)).jobs).toEqual(['job:ns:next', 'job:ns:wide']);
    expect((await at(1)).datasets).toBe(302);
    const { jobs, datasets, graph } = await at(20);
    expect(jobs).toEqual(['job:ns:far', 'job:ns:next', 'job:ns:wide']);
    expect(datasets).toBe(303);
    const far = graph.find(n => n.id === 'job:ns:far')!;
    expect(far.inEdges).toEqual([
      { origin: 'dataset:ns:final', destination: 'job:ns:far' },
    ]);
    expect(far.outEdges).toEqual([
      { origin: 'job:ns:far', destination: 'dataset:ns:far_out' },
    ]);
    const wideJob = graph.find(n => n.id === 'job:ns:wide')!;
    expect((wideJob.data as any).inputs).toHaveLength(300);
    expect((wideJob.data as any).inputs.slice(0, 3)).toEqual([
      { namespace: 'ns', name: 'w0' },
      { namespace: 'ns', name: 'w1' },
      { namespace: 'ns', name: 'w10' },
    ]);
    expect(wideJob.inEdges).toHaveLength(300);
    expect((wideJob.data as any).latestRun.inputDatasetVersions).toHaveLength(
      300,
    );
    // From a job, the same walk.
    const fromJob = await service.getLineage('job:ns:far', 20);
    expect(fromJob.graph.filter(n => n.type === 'JOB')).toHaveLength(3);
    expect(fromJob.graph.filter(n => n.type === 'DATASET')).toHaveLength(303);
  });

  it("replaces a job's edges when its I/O changes, keeping the unchanged ones", async () => {
    const run = async (inputs: string[], outputs: string[]) =>
      service.ingest(
        runEvent({
          runId: newRunId(),
          eventType: 'COMPLETE',
          time: '2026-12-07T10:00:00Z',
          job: 'etl',
          inputs: inputs.map(n => ds(n)),
          outputs: outputs.map(n => ds(n)),
        }),
      );
    const edgesOf = async () => {
      const { graph } = await service.getLineage('job:ns:etl', 5);
      const etl = graph.find(n => n.id === 'job:ns:etl')!;
      return {
        in: etl.inEdges.map(e => e.origin),
        out: etl.outEdges.map(e => e.destination),
        nodes: graph.map(n => n.id).sort(),
      };
    };
    await run(['a', 'keep'], ['b']);
    expect(await edgesOf()).toEqual({
      in: ['dataset:ns:a', 'dataset:ns:keep'],
      out: ['dataset:ns:b'],
      nodes: ['dataset:ns:a', 'dataset:ns:b', 'dataset:ns:keep', 'job:ns:etl'],
    });
    await run(['c', 'keep'], ['b']);
    expect(await edgesOf()).toEqual({
      in: ['dataset:ns:c', 'dataset:ns:keep'],
      out: ['dataset:ns:b'],
      nodes: ['dataset:ns:b', 'dataset:ns:c', 'dataset:ns:keep', 'job:ns:etl'],
    });
    await run([], []);
    expect(await edgesOf()).toEqual({
      in: [],
      out: [],
      nodes: ['job:ns:etl'],
    });
  });

  it('parses node ids whose namespace has colons', async () => {
    await service.ingest(
      runEvent({
        runId: newRunId(),
        eventType: 'COMPLETE',
        time: '2026-12-07T10:00:00Z',
        job: 'etl',
        namespace: 'airflow',
        inputs: [{ namespace: 'postgres://db:5432', name: 'public.raw' }],
        outputs: [{ namespace: 's3://bucket', name: 'features/v1' }],
      }),
    );
    const { graph } = await service.getLineage(
      'dataset:postgres://db:5432:public.raw',
      5,
    );
    expect(graph.map(n => n.id)).toEqual([
      'dataset:postgres://db:5432:public.raw',
      'dataset:s3://bucket:features/v1',
      'job:airflow:etl',
    ]);
  });

  it('records column lineage and answers GET column-lineage', async () => {
    await service.ingest(
      runEvent({
        runId: newRunId(),
        eventType: 'COMPLETE',
        time: '2026-12-07T10:00:00Z',
        job: 'features',
        inputs: [
          ds('raw', {
            schema: facet({ fields: [{ name: 'alcohol', type: 'DOUBLE' }] }),
          }),
        ],
        outputs: [
          ds('feat', {
            schema: facet({ fields: [{ name: 'alcohol_z', type: 'DOUBLE' }] }),
            columnLineage: facet({
              fields: {
                alcohol_z: {
                  inputFields: [
                    {
                      namespace: 'ns',
                      name: 'raw',
                      field: 'alcohol',
                      transformations: [
                        {
                          type: 'DIRECT',
                          subtype: 'TRANSFORMATION',
                          description: 'z-score',
                        },
                      ],
                    },
                  ],
                },
              },
            }),
          }),
        ],
      }),
    );
    const { graph } = await service.getColumnLineage(
      'dataset:ns:feat',
      20,
      false,
    );
    expect(graph.map(n => n.id)).toEqual([
      'datasetField:ns:feat:alcohol_z',
      'datasetField:ns:raw:alcohol',
    ]);
    expect(graph[0]).toMatchObject({
      type: 'DATASET_FIELD',
      data: {
        namespace: 'ns',
        dataset: 'feat',
        field: 'alcohol_z',
        fieldType: 'DOUBLE',
        transformationType: 'DIRECT',
        inputFields: [
          {
            namespace: 'ns',
            dataset: 'raw',
            field: 'alcohol',
            transformationDescription: 'z-score',
          },
        ],
      },
      inEdges: [
        {
          origin: 'datasetField:ns:raw:alcohol',
          destination: 'datasetField:ns:feat:alcohol_z',
        },
      ],
    });
    const down = await service.getColumnLineage('dataset:ns:raw', 20, true);
    expect(down.graph.map(n => n.id)).toContain(
      'datasetField:ns:feat:alcohol_z',
    );
  });

  it('records DatasetEvents and JobEvents (static lineage) and facet deletion', async () => {
    await service.ingest({
      eventTime: '2026-12-07T10:00:00Z',
      producer: PRODUCER,
      schemaURL:
        'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent',
      job: {
        namespace: 'ns',
        name: 'declared',
        facets: { documentation: facet({ description: 'Planned job' }) },
      },
      inputs: [ds('a')],
      outputs: [ds('b')],
    });
    const job = await service.getJob({ namespace: 'ns', name: 'declared' });
    expect(job).toMatchObject({
      description: 'Planned job',
      inputs: [{ namespace: 'ns', name: 'a' }],
      outputs: [{ namespace: 'ns', name: 'b' }],
      latestRun: null,
    });
    expect((await service.getLineage('dataset:ns:a', 5)).graph).toHaveLength(3);

    const datasetEvent = (facets: any) => ({
      eventTime: '2026-12-07T10:00:00Z',
      producer: PRODUCER,
      schemaURL:
        'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      dataset: ds('a', facets),
    });
    await service.ingest(
      datasetEvent({ ownership: facet({ owners: [{ name: 'team:data' }] }) }),
    );
    expect(
      (await service.getDataset({ namespace: 'ns', name: 'a' })).facets,
    ).toHaveProperty('ownership');
    await service.ingest(
      datasetEvent({ ownership: { ...facet({}), _deleted: true } }),
    );
    expect(
      (await service.getDataset({ namespace: 'ns', name: 'a' })).facets,
    ).not.toHaveProperty('ownership');
  });

  it('records the Airflow-like example script as a multi-hop graph', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const {
      buildEvents,
    } = require('../../../../examples/openlineage/airflow-like.js');
    for (const event of buildEvents({ start: '2026-12-07T08:00:00Z' })) {
      await service.ingest(event);
    }
    const { graph } = await service.getLineage(
      'dataset:file:examples/data/winequality.csv',
      20,
    );
    expect(graph.map(n => n.id)).toEqual([
      'dataset:file:examples/data/wine-features.parquet',
      'dataset:file:examples/data/winequality.csv',
      'dataset:loopline:models/wine-quality',
      'job:airflow:wine_quality.raw_to_features',
      'job:airflow:wine_quality.train',
    ]);
    const features = await service.listDatasetVersions(
      { namespace: 'file', name: 'examples/data/wine-features.parquet' },
      { limit: 10, offset: 0 },
    );
    expect(features.versions).toHaveLength(1);
    expect(features.versions[0]).toMatchObject({ rowCount: 608 });
    expect(features.versions[0].fields).toHaveLength(12);
    const columns = await service.getColumnLineage(
      'dataset:file:examples/data/wine-features.parquet',
      20,
      false,
    );
    expect(columns.graph.map(n => n.id)).toContain(
      'datasetField:file:examples/data/wine-features.parquet:alcohol_z',
    );
    const train = await service.getJob({
      namespace: 'airflow',
      name: 'wine_quality.train',
    });
    expect(train.parentJobName).toBe('wine_quality');
    expect(train.latestRun?.state).toBe('COMPLETED');
  });

  it('records a batch, skipping the invalid entries', async () => {
    const good = runEvent({
      runId: newRunId(),
      eventType: 'START',
      time: '2026-12-07T10:00:00Z',
      job: 'batched',
    });
    const result = await service.ingestBatch([good, { nope: true }, good]);
    expect(result.received).toBe(3);
    expect(result.failed.map(f => f.index)).toEqual([1]);
    expect(await count('lineage_events')).toBe(2);
  });

  it('purges what is older than the retention, keeping current versions and runs', async () => {
    const old = newRunId();
    now = Date.parse('2026-01-01T00:00:00Z');
    await service.ingest(
      runEvent({
        runId: old,
        eventType: 'COMPLETE',
        time: '2026-01-01T00:00:00Z',
        job: 'r',
        outputs: [ds('x')],
      }),
    );
    now = Date.parse('2026-12-01T00:00:00Z');
    const recent = newRunId();
    await service.ingest(
      runEvent({
        runId: recent,
        eventType: 'COMPLETE',
        time: '2026-12-01T00:00:00Z',
        job: 'r',
        outputs: [ds('x')],
      }),
    );
    const store = new LineageStore(knex);
    const purged = await store.purgeBefore(Date.parse('2026-06-01T00:00:00Z'));
    expect(purged).toEqual({ events: 1, runs: 1, datasetVersions: 1 });
    await expect(service.getRun(old)).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    expect((await service.getRun(recent)).state).toBe('COMPLETED');
    expect(
      (
        await service.listDatasetVersions(
          { namespace: 'ns', name: 'x' },
          { limit: 10, offset: 0 },
        )
      ).versions,
    ).toHaveLength(1);
  });
});
