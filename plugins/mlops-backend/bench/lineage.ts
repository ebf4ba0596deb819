/*
 * `npm run bench:lineage`: OpenLineage ingest throughput (events validated
 * against the spec's schemas, then applied) and the latency of a depth-20
 * `GET lineage` over a graph of 10,000 nodes, on SQLite and PostgreSQL,
 * through the service (no HTTP, no token checks).
 *
 * Environment: BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432),
 * BENCH_EVENTS (default 5000), BENCH_BATCH (events per batch, default 100).
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
import knexFactory, { Knex } from 'knex';
import { applyMigrations } from '../src/database/migrations';
import {
  LineageService,
  LineageStore,
  OpenLineageValidator,
} from '../src/lineage';

const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const JOBS = 5000; // and 5000 datasets: a 10,000-node graph
const PRODUCER = 'https://loopline.dev/bench';

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const schema = {
  _producer: PRODUCER,
  _schemaURL:
    'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json',
  fields: [
    { name: 'id', type: 'BIGINT' },
    { name: 'value', type: 'DOUBLE' },
  ],
};

/** Job j reads datasets j and (7j+3) mod n and writes j+1 mod n: one connected graph with cycles. */
function event(j: number, eventType: 'START' | 'COMPLETE', runId: string) {
  const ds = (i: number) => ({
    namespace: 'bench',
    name: `d${i % JOBS}`,
    facets: { schema },
  });
  return {
    eventType,
    eventTime: new Date(Date.UTC(2026, 11, 7, 10, 0, j % 60)).toISOString(),
    producer: PRODUCER,
    schemaURL:
      'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId },
    job: { namespace: 'bench', name: `job${j}` },
    inputs: [ds(j), ds(7 * j + 3)],
    outputs: [ds(j + 1)],
  };
}

async function openDatabases(): Promise<
  Array<{ engine: string; knex: Knex; close: () => Promise<void> }>
> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-bench-'));
  const sqlite = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(dir, 'bench.sqlite') },
    useNullAsDefault: true,
  });
  const dbName = `loopline_bench_lineage_${process.pid}`;
  const admin = knexFactory({
    client: 'pg',
    connection: `${POSTGRES_URL}/postgres`,
  });
  await admin.raw(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.raw(`CREATE DATABASE ${dbName}`);
  const pg = knexFactory({
    client: 'pg',
    connection: `${POSTGRES_URL}/${dbName}`,
  });
  return [
    {
      engine: 'SQLite (file)',
      knex: sqlite,
      close: async () => {
        await sqlite.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    },
    {
      engine: 'PostgreSQL 15',
      knex: pg,
      close: async () => {
        await pg.destroy();
        await admin.raw(`DROP DATABASE IF EXISTS ${dbName}`);
        await admin.destroy();
      },
    },
  ];
}

async function main() {
  const validator = new OpenLineageValidator(
    path.resolve(__dirname, '../openlineage'),
  );
  const rows: string[] = [];
  for (const db of await openDatabases()) {
    await applyMigrations(db.knex);
    const service = new LineageService(new LineageStore(db.knex), validator);

    // Ingest: START + COMPLETE per run, in batches (as the batch route does).
    const events: unknown[] = [];
    for (let j = 0; j < EVENTS / 2; j++) {
      const runId = crypto.randomUUID();
      events.push(
        event(j % JOBS, 'START', runId),
        event(j % JOBS, 'COMPLETE', runId),
      );
    }
    let start = process.hrtime.bigint();
    for (let i = 0; i < events.length; i += BATCH) {
      const { failed } = await service.ingestBatch(events.slice(i, i + BATCH));
      if (failed.length) throw new Error(JSON.stringify(failed[0]));
    }
    let seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const batchRate = events.length / seconds;

    // One event per request (POST /lineage): one transaction each.
    const singles = events.slice(0, 500);
    start = process.hrtime.bigint();
    for (const e of singles) await service.ingest(e);
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const singleRate = singles.length / seconds;

    // Complete the 10,000-node graph, then time depth-20 queries.
    const rest: unknown[] = [];
    for (let j = EVENTS / 2; j < JOBS; j++) {
      rest.push(event(j, 'COMPLETE', crypto.randomUUID()));
    }
    for (let i = 0; i < rest.length; i += BATCH) {
      await service.ingestBatch(rest.slice(i, i + BATCH));
    }
    const latencies: number[] = [];
    let nodes = 0;
    for (let k = 0; k < 7; k++) {
      const t = process.hrtime.bigint();
      const { graph } = await service.getLineage(
        `dataset:bench:d${k * 11}`,
        20,
      );
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      nodes = graph.length;
    }
    rows.push(
      `| ${db.engine} | ${batchRate.toFixed(0)} | ${singleRate.toFixed(
        0,
      )} | ${median(latencies).toFixed(0)} | ${nodes} |`,
    );
    await db.close();
  }
  console.log(
    `| engine | ingest, batches of ${BATCH} (events/s) | ingest, one per call (events/s) | depth-20 lineage, 10,000-node graph (median ms) | nodes returned |`,
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
