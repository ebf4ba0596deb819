/*
 * `npm run bench:registry`: median latency of MLflow's `runs/log-batch` with
 * 1000 metrics and of reading a 10,000-point metric history, on SQLite and
 * PostgreSQL, each next to a baseline run in the same process: the bare
 * database doing the same work (one multi-row insert of the same 1000 rows;
 * one indexed select of the same 10,000 rows). The ratio is what the service
 * and the HTTP route cost on top of the database.
 *
 * Environment: BENCH_ITERATIONS (default 30),
 * BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432).
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { AddressInfo } from 'node:net';
import express from 'express';
import knexFactory, { Knex } from 'knex';
import {
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { applyMigrations } from '../src/database/migrations';
import { useSqliteWal } from '../src/database/sqlite';
import { TrackingService, TrackingStore } from '../src/tracking';
import { createMlflowRouter, MlflowArtifacts } from '../src/mlflow';
import {
  RegistryService,
  RegistryStore,
  FileSystemArtifactStore,
} from '../src/registry';
import { AuditStore, AuditTrail } from '../src/audit';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 30);
const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const HISTORY_POINTS = 10_000;

// The bench measures our code, not Backstage's token checks: every caller is
// one service, and every permission is granted.
const credentials = {
  $$type: '@backstage/BackstageCredentials',
  principal: { type: 'service', subject: 'bench' },
} as unknown as BackstageCredentials;
const httpAuth = {
  credentials: async () => credentials,
} as unknown as HttpAuthService;
const permissions = {
  authorize: async (requests: unknown[]) =>
    requests.map(() => ({ result: 'ALLOW' })),
} as unknown as PermissionsService;
const logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  child: () => logger,
} as unknown as LoggerService;
const auditor = {
  createEvent: async () => ({ success: async () => {}, fail: async () => {} }),
} as any;

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
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
  const dbName = `loopline_bench_${process.pid}`;
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

async function listen(app: express.Express) {
  const server = http.createServer(app);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}` };
}

async function post(base: string, route: string, body: unknown) {
  const res = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function get(base: string, route: string) {
  const res = await fetch(`${base}${route}`);
  if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

function metricsBatch(iteration: number) {
  return Array.from({ length: 1000 }, (_, i) => ({
    key: `m${i % 50}`,
    value: Math.sin(i + iteration),
    timestamp: 1_700_000_000_000 + iteration * 1000 + i,
    step: iteration * 20 + Math.floor(i / 50),
  }));
}

async function benchEngine(engine: string, knex: Knex) {
  await useSqliteWal(knex); // as the plugin does with a SQLite file
  await applyMigrations(knex);
  const tracking = new TrackingService(new TrackingStore(knex));
  const artifactDir = fs.mkdtempSync(
    path.join(os.tmpdir(), 'loopline-bench-art-'),
  );
  const store = new FileSystemArtifactStore(artifactDir, { maxBytes: 1 << 20 });
  const registry = new RegistryService({
    store: new RegistryStore(knex),
    artifacts: store,
    auditTrail: new AuditTrail(new AuditStore(knex), auditor),
  });
  const app = express();
  app.use(
    createMlflowRouter({
      httpAuth,
      permissions,
      logger,
      tracking,
      registry,
      artifacts: new MlflowArtifacts(store, tracking),
      jsonBodyLimit: '5mb',
      artifactBodyLimit: 1 << 20,
    }),
  );
  const { server, base } = await listen(app);
  const API = '/api/2.0/mlflow';

  try {
    const { experiment_id } = await post(base, `${API}/experiments/create`, {
      name: `bench-${engine}`,
    });
    const newRun = async () =>
      (
        await post(base, `${API}/runs/create`, {
          experiment_id,
          start_time: Date.now(),
        })
      ).run.info.run_id as string;

    // log-batch over HTTP, through the service alone, and the bare insert.
    const httpRun = await newRun();
    const serviceRun = await newRun();
    const baselineRun = await newRun();
    const rows: Record<string, number[]> = {
      http: [],
      service: [],
      baseline: [],
    };
    for (let i = 0; i < ITERATIONS + 3; i++) {
      const metrics = metricsBatch(i);
      const t1 = await time(() =>
        post(base, `${API}/runs/log-batch`, { run_id: httpRun, metrics }),
      );
      const t2 = await time(() =>
        tracking.logBatch({ runId: serviceRun, metrics }),
      );
      const t3 = await time(() =>
        knex.batchInsert(
          'tracking_metrics',
          metrics.map(m => ({ run_id: baselineRun, is_nan: false, ...m })),
          engine.startsWith('SQLite') ? 100 : 1000,
        ),
      );
      if (i >= 3) {
        // the first rounds warm up caches and JIT
        rows.http.push(t1);
        rows.service.push(t2);
        rows.baseline.push(t3);
      }
    }

    // A 10,000-point history of one key.
    const historyRun = await newRun();
    for (let b = 0; b < HISTORY_POINTS / 1000; b++) {
      await tracking.logBatch({
        runId: historyRun,
        metrics: Array.from({ length: 1000 }, (_, i) => ({
          key: 'loss',
          value: 1 / (b * 1000 + i + 1),
          timestamp: 1_700_000_000_000 + b * 1000 + i,
          step: b * 1000 + i,
        })),
      });
    }
    const reads: Record<string, number[]> = {
      http: [],
      service: [],
      baseline: [],
    };
    for (let i = 0; i < ITERATIONS + 3; i++) {
      const t1 = await time(async () => {
        const body = await get(
          base,
          `${API}/metrics/get-history?run_id=${historyRun}&metric_key=loss`,
        );
        if (body.metrics.length !== HISTORY_POINTS)
          throw new Error('short history');
      });
      const t2 = await time(() =>
        tracking.getFullMetricHistory(historyRun, 'loss'),
      );
      const t3 = await time(() =>
        knex('tracking_metrics')
          .where({ run_id: historyRun, key: 'loss' })
          .orderBy([{ column: 'step' }, { column: 'timestamp' }])
          .select('key', 'value', 'timestamp', 'step', 'is_nan'),
      );
      if (i >= 3) {
        reads.http.push(t1);
        reads.service.push(t2);
        reads.baseline.push(t3);
      }
    }
    return [
      { engine, operation: 'log-batch, 1000 metrics', ...summary(rows) },
      {
        engine,
        operation: `metric history, ${HISTORY_POINTS.toLocaleString(
          'en-US',
        )} points`,
        ...summary(reads),
      },
    ];
  } finally {
    server.close();
    fs.rmSync(artifactDir, { recursive: true, force: true });
  }
}

function summary(samples: Record<string, number[]>) {
  return {
    http: median(samples.http),
    service: median(samples.service),
    baseline: median(samples.baseline),
  };
}

async function main() {
  const results = [];
  for (const { engine, knex, close } of await openDatabases()) {
    try {
      results.push(...(await benchEngine(engine, knex)));
    } finally {
      await close();
    }
  }
  const ms = (v: number) => v.toFixed(1);
  const header = [
    'engine',
    'operation',
    'HTTP route (ms)',
    'service (ms)',
    'bare database (ms)',
    'route / database',
  ];
  const lines = results.map(r => [
    r.engine,
    r.operation,
    ms(r.http),
    ms(r.service),
    ms(r.baseline),
    `${(r.http / r.baseline).toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map(l => l[i].length)),
  );
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    `\nMedians of ${ITERATIONS} runs each, Node ${process.version}, ${
      os.cpus().length
    } × ${os.cpus()[0]?.model ?? 'cpu'}\n`,
  );
  console.log(row(header));
  console.log(`|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
