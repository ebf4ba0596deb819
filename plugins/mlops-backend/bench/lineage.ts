/*
 * `npm run bench:lineage`: OpenLineage ingest throughput (events validated
 * against the spec's schemas, then applied) and the latency of a depth-20
 * `GET lineage` over a graph of 10,000 nodes (from a node that reaches all
 * of it, and from a 41-node chain ingested into the same store), on SQLite
 * and PostgreSQL, through the service (no HTTP, no token checks).
 *
 * Environment: BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432),
 * BENCH_EVENTS (default 5000), BENCH_BATCH (events per batch, default 100),
 * BENCH_SINGLES (events posted one per call, default 2000),
 * BENCH_CONCURRENCY (clients posting them at once, default 32).
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
import knexFactory, { Knex } from 'knex';
import { applyMigrations } from '../src/database/migrations';
import { useSqliteWal } from '../src/database/sqlite';
import {
  LineageService,
  LineageStore,
  OpenLineageValidator,
} from '../src/lineage';

const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const SINGLES = Number(process.env.BENCH_SINGLES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const JOBS = 5000; // and 5000 datasets: a 10,000-node graph
const CHAIN = 20; // jobs in the separate chain (and 21 datasets)
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
    await useSqliteWal(db.knex); // as the plugin does with a SQLite file
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
    const batch = await measure(async () => {
      for (let i = 0; i < events.length; i += BATCH) {
        const { failed } = await service.ingestBatch(
          events.slice(i, i + BATCH),
        );
        if (failed.length) throw new Error(JSON.stringify(failed[0]));
      }
    }, events.length);

    // One event per call (POST /lineage) from CONCURRENCY clients at once:
    // the service writes what arrives meanwhile together (group commit).
    const singles: unknown[] = [];
    for (let j = 0; j < SINGLES / 2; j++) {
      const runId = crypto.randomUUID();
      singles.push(
        event((j * 13) % JOBS, 'START', runId),
        event((j * 13) % JOBS, 'COMPLETE', runId),
      );
    }
    const concurrent = await measure(async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < singles.length) await service.ingest(singles[next++]);
        }),
      );
    }, singles.length);
    // ... and from one client, waiting for each answer.
    const sequential = await measure(async () => {
      for (const e of singles.slice(0, 200)) await service.ingest(e);
    }, 200);

    // Complete the 10,000-node graph, then time depth-20 queries.
    const rest: unknown[] = [];
    for (let j = EVENTS / 2; j < JOBS; j++) {
      rest.push(event(j, 'COMPLETE', crypto.randomUUID()));
    }
    for (let i = 0; i < rest.length; i += BATCH) {
      await service.ingestBatch(rest.slice(i, i + BATCH));
    }
    // A separate chain in the same store: CHAIN jobs, job i reading
    // dataset c{i} and writing c{i+1}, so a depth-20 query from c0 reaches
    // only the chain (CHAIN jobs and CHAIN + 1 datasets).
    const chain: unknown[] = [];
    for (let i = 0; i < CHAIN; i++) {
      chain.push({
        ...event(0, 'COMPLETE', crypto.randomUUID()),
        job: { namespace: 'bench', name: `chain${i}` },
        inputs: [{ namespace: 'bench', name: `c${i}`, facets: { schema } }],
        outputs: [
          { namespace: 'bench', name: `c${i + 1}`, facets: { schema } },
        ],
      });
    }
    await service.ingestBatch(chain);
    /** Median wall and CPU ms of 7 depth-20 queries from `start(k)`. */
    const timeQueries = async (start: (k: number) => string) => {
      const latencies: number[] = [];
      const cpu: number[] = [];
      let nodes = 0;
      for (let k = 0; k < 7; k++) {
        const t = process.hrtime.bigint();
        const c = process.cpuUsage();
        const { graph } = await service.getLineage(start(k), 20);
        const used = process.cpuUsage(c);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        cpu.push((used.user + used.system) / 1000);
        nodes = graph.length;
      }
      return `${median(latencies).toFixed(0)} (${median(cpu).toFixed(
        0,
      )}) | ${nodes}`;
    };
    const whole = await timeQueries(k => `dataset:bench:d${k * 11}`);
    const deep = await timeQueries(() => 'dataset:bench:c0');
    const rate = (r: { perSecond: number; perCpuSecond: number }) =>
      `${r.perSecond.toFixed(0)} (${r.perCpuSecond.toFixed(0)})`;
    rows.push(
      `| ${db.engine} | ${rate(batch)} | ${rate(concurrent)} | ${rate(
        sequential,
      )} | ${whole} | ${deep} |`,
    );
    await db.close();
  }
  const load = os.loadavg().map(l => l.toFixed(1));
  console.log(
    `${os.cpus().length} cores, load average ${load.join(
      ' ',
    )} at the end; wall clock, in parentheses per second of this process's CPU (PostgreSQL's own CPU is not in it)\n`,
  );
  console.log(
    `| engine | ingest, batches of ${BATCH} (events/s) | ingest, one per call, ${CONCURRENCY} clients (events/s) | ingest, one per call, 1 client (events/s) | depth-20 lineage, 10,000-node graph, all reachable (median ms) | nodes returned | depth-20 lineage, ${
      2 * CHAIN + 1
    }-node chain in the same store (median ms) | nodes returned |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

/** Events per second of `fn`, by wall clock and by this process's CPU time. */
async function measure(
  fn: () => Promise<void>,
  count: number,
): Promise<{ perSecond: number; perCpuSecond: number }> {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(c);
  return {
    perSecond: count / (Number(process.hrtime.bigint() - t) / 1e9),
    perCpuSecond: count / ((used.user + used.system) / 1e6),
  };
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
