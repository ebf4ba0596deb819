/*
 * `npm run bench:pipelines`: the overhead of the local runner per step and
 * of the run queue, on SQLite in a temporary folder.
 *
 * 1. Spawn to first log line: a step that prints one line, timed from
 *    runStep() to the line reaching the runner's callback (median of 30).
 * 2. Log throughput: a step printing 100,000 lines, through the runner into
 *    the stored log (lines per second, end to end, the rows counted).
 * 3. 100 runs queued at once on a pipeline with concurrency 10: time until
 *    all have succeeded (each step is `true`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { PipelineEntityV1alpha1 } from '@loopline/mlops-common';
import { applyMigrations } from '../src/database/migrations';
import { useSqliteWal } from '../src/database/sqlite';
import { PipelineService } from '../src/pipelines/PipelineService';
import { PipelineStore } from '../src/pipelines/PipelineStore';
import { LocalRunner } from '../src/pipelines/runners/LocalRunner';

const logger: any = {
  info: () => {},
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
  debug: () => {},
};
logger.child = () => logger;

const credentials: any = {
  $$type: '@backstage/BackstageCredentials',
  principal: { type: 'service', subject: 'bench' },
};

function entity(
  name: string,
  run: string,
  concurrency: number,
): PipelineEntityV1alpha1 {
  return {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Pipeline',
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'data',
      owner: 'group:default/bench',
      runner: { type: 'local' },
      concurrency,
      steps: [{ name: 'step', run }],
    },
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-bench-'));
  const runner = new LocalRunner({
    workspaceRoot: path.join(dir, 'runs'),
    defaultTimeoutSeconds: 600,
  });

  // 1. Spawn to first log line.
  const firstLine: number[] = [];
  for (let i = 0; i < 30; i++) {
    const started = process.hrtime.bigint();
    let at = 0n;
    await runner.runStep({
      runId: `first-${i}`,
      pipeline: 'bench',
      step: { name: 'echo', kind: 'command', dependsOn: [], run: 'echo ready' },
      attempt: 1,
      parameters: {},
      env: {},
      signal: new AbortController().signal,
      onLog: () => {
        at ||= process.hrtime.bigint();
      },
      onHandle: async () => {},
    });
    firstLine.push(Number(at - started) / 1e6);
  }
  console.log(
    `local runner, spawn to first log line: median ${median(firstLine).toFixed(
      1,
    )} ms, max ${Math.max(...firstLine).toFixed(1)} ms (30 steps)`,
  );

  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(dir, 'bench.sqlite') },
    useNullAsDefault: true,
  });
  await useSqliteWal(knex); // as the plugin does with a SQLite file
  await applyMigrations(knex);
  const store = new PipelineStore(knex);
  const pipelines = new Map<string, PipelineEntityV1alpha1>();
  const service = new PipelineService({
    store,
    pipelines: {
      get: async name => pipelines.get(name),
      list: async () => [...pipelines.values()],
    },
    runners: [runner],
    stepEnvironment: async () => ({}),
    serviceCredentials: async () => credentials,
    logger,
  });

  // 2. Log throughput into the store.
  const lines = 100_000; // the default cap per step
  pipelines.set(
    'chatty',
    entity('chatty', `seq 1 ${lines} | sed 's/^/line /'`, 1),
  );
  let started = Date.now();
  const { run: chatty } = await service.startRun({
    pipeline: 'chatty',
    trigger: { type: 'manual', cause: 'bench' },
    credentials,
  });
  await service.idle();
  const stored = Number(
    (
      await knex('pipeline_run_logs')
        .where({ run_id: chatty.id })
        .count({ n: '*' })
    )[0].n,
  );
  let seconds = (Date.now() - started) / 1000;
  console.log(
    `log throughput: ${stored} lines stored in ${seconds.toFixed(
      2,
    )} s = ${Math.round(stored / seconds)} lines/s`,
  );

  // 3. 100 queued runs, 10 at a time.
  pipelines.set('queue', entity('queue', 'true', 10));
  started = Date.now();
  await Promise.all(
    Array.from({ length: 100 }, () =>
      service.startRun({
        pipeline: 'queue',
        trigger: { type: 'manual', cause: 'bench' },
        credentials,
      }),
    ),
  );
  await service.idle();
  const states = await knex('pipeline_runs')
    .where({ pipeline_name: 'queue' })
    .select('state');
  seconds = (Date.now() - started) / 1000;
  console.log(
    `100 queued runs (concurrency 10): ${
      states.filter(s => s.state === 'succeeded').length
    } succeeded in ${seconds.toFixed(2)} s (${((seconds * 1000) / 100).toFixed(
      1,
    )} ms per run)`,
  );

  await service.shutdown();
  await knex.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
