/*
 * `npm run bench:serving`: what Loopline's serving route costs on top of the
 * model itself, in one run on one machine:
 *   (a) the full route: the demo backend (packages/backend, app-config.yaml
 *       with its SQLite databases in files rather than in memory:
 *       auth, permission, routing to the Production version, OIP validation,
 *       inference log and metrics on), a POST to /api/mlops/v2/models/wine-quality/infer
 *       with the demo's external-access token;
 *   (a') the same route on the serving data-plane port (mlops.serving.dataPlane:
 *       the same router, tokens, permission and inference log, without the
 *       portal's browser middleware);
 *   (b) a bare node:http server around the same ONNX model (bench/bareServer.js);
 *   (c) the same onnxruntime session called in-process, no HTTP.
 * (a) and (b) are driven by a load generator in its own process (bench/loadgen.js)
 * with the same requests: batch 1 and 64, concurrency 1, 16 and 64. Then
 * 100,000 requests to (a) measure how its RSS grows.
 *
 * Environment: BENCH_SECONDS (per cell, default 5), BENCH_RSS_REQUESTS
 * (default 100000), BENCH_PORT (default 7017), BENCH_BARE_PORT (default 7018).
 */
import { ChildProcess, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  readDemoTable,
  WINE_PHYSICOCHEMICAL_FEATURES,
} from '../src/demo/datasets';
import { startReaper } from './reaper';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RSS_REQUESTS = Number(process.env.BENCH_RSS_REQUESTS ?? 100_000);
const PORT = Number(process.env.BENCH_PORT ?? 7017);
const BARE_PORT = Number(process.env.BENCH_BARE_PORT ?? 7018);
const DATA_PLANE_PORT = Number(process.env.BENCH_DATA_PLANE_PORT ?? 7019);
const TOKEN =
  process.env.LOOPLINE_DEMO_TOKEN ?? 'loopline-demo-token-change-me';
const REPO = path.resolve(__dirname, '../../..');
const BACKEND_DIR = path.join(REPO, 'packages/backend');
const MODEL = 'wine-quality';
const BATCHES = [1, 64];
const CONCURRENCIES = [1, 16, 64];

const children: ChildProcess[] = [];
// Stops the servers even when this process is killed outright.
const reaper = startReaper();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function cleanup() {
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  }
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => process.exit(130));
}

/** The wine rows as the model's 12 inputs (11 measurements and is_red). */
function wineRows(): number[][] {
  const table = readDemoTable('winequality.csv');
  return table.rows.map(row => [
    ...WINE_PHYSICOCHEMICAL_FEATURES.map(f => Number(row[f])),
    row.color === 'red' ? 1 : 0,
  ]);
}

function inferBody(rows: number[][], batch: number, inputName: string) {
  const picked = Array.from({ length: batch }, (_, i) => rows[i % rows.length]);
  return JSON.stringify({
    id: `bench-${batch}`,
    inputs: [
      {
        name: inputName,
        datatype: 'FP32',
        shape: [batch, picked[0].length],
        data: picked.flat(),
      },
    ],
  });
}

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(1000);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

function startBackend(artifactDir: string, logFile: string) {
  const out = fs.openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      'src/index.ts',
      '--config',
      '../../app-config.yaml',
    ],
    {
      cwd: BACKEND_DIR,
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        APP_CONFIG_backend_listen_port: String(PORT),
        APP_CONFIG_backend_baseUrl: `http://localhost:${PORT}`,
        APP_CONFIG_mlops_artifacts_directory: artifactDir,
        // SQLite files instead of the demo's in-memory database: the
        // inference log of 100,000 requests is data on disk, not RSS.
        APP_CONFIG_backend_database_connection: JSON.stringify({
          directory: path.join(path.dirname(artifactDir), 'db'),
        }),
        APP_CONFIG_mlops_serving_dataPlane_port: String(DATA_PLANE_PORT),
      },
    },
  );
  children.push(child);
  reaper.watch(child);
  return child;
}

function startBare(modelPath: string) {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'bareServer.js'), modelPath, String(BARE_PORT)],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  reaper.watch(child);
  return new Promise<ChildProcess>((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', code =>
      reject(new Error(`bare server exited with ${code}`)),
    );
  });
}

interface LoadResult {
  requests: number;
  errors: number;
  firstError?: string;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
}

function load(options: {
  url: string;
  body: string;
  headers?: Record<string, string>;
  concurrency: number;
  durationMs?: number;
  requests?: number;
  warmupMs?: number;
}): Promise<LoadResult> {
  // execArgv: [] keeps this process's TypeScript hooks out of the plain-JS generator.
  const child = fork(path.join(__dirname, 'loadgen.js'), {
    stdio: 'inherit',
    execArgv: [],
  });
  return new Promise((resolve, reject) => {
    child.on('message', m => {
      if (m && typeof m === 'object' && 'throughput' in m)
        resolve(m as LoadResult);
    });
    child.once('exit', code =>
      code ? reject(new Error(`load generator exited ${code}`)) : undefined,
    );
    child.send(options);
  });
}

/** (c): `concurrency` callers awaiting session.run in turn, in this process. */
async function inProcess(
  session: ort.InferenceSession,
  rows: number[][],
  batch: number,
  concurrency: number,
) {
  const inputName = session.inputNames[0];
  const data = Float32Array.from(
    Array.from({ length: batch }, (_, i) => rows[i % rows.length]).flat(),
  );
  const feeds = () => ({
    [inputName]: new ort.Tensor('float32', data, [batch, rows[0].length]),
  });
  const latencies: number[] = [];
  const warmupEnd = Date.now() + 1000;
  while (Date.now() < warmupEnd) await session.run(feeds());
  const deadline = Date.now() + SECONDS * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t = process.hrtime.bigint();
        await session.run(feeds());
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((x, y) => x - y);
  const pct = (p: number) =>
    latencies[
      Math.min(
        latencies.length - 1,
        Math.ceil((p / 100) * latencies.length) - 1,
      )
    ];
  return {
    requests: latencies.length,
    errors: 0,
    seconds,
    throughput: latencies.length / seconds,
    p50: pct(50),
    p99: pct(99),
  };
}

function rssKb(pid: number): number {
  // The backend runs as a child of `node --require ...`: the pid is the server itself.
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

async function main() {
  const work = fs.mkdtempSync(
    path.join(os.tmpdir(), 'loopline-bench-serving-'),
  );
  const logFile = path.join(work, 'backend.log');
  console.log(`Starting the demo backend on :${PORT} (log: ${logFile}) ...`);
  const backend = startBackend(path.join(work, 'artifacts'), logFile);
  const base = `http://127.0.0.1:${PORT}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  await waitFor(
    'the demo model to be served',
    async () =>
      (
        await fetch(`${base}/api/mlops/v2/models/${MODEL}/ready`, {
          headers: auth,
        })
      ).ok,
    300_000,
  );

  // The same ONNX bytes for (b) and (c): the Production version's artifact.
  const info = await (
    await fetch(`${base}/api/mlops/serving/models/${MODEL}/info`, {
      headers: auth,
    })
  ).json();
  const version = info.servedVersion;
  const artifact = Buffer.from(
    await (
      await fetch(
        `${base}/api/mlops/registry/models/${MODEL}/versions/${version}/artifact`,
        { headers: auth },
      )
    ).arrayBuffer(),
  );
  const modelPath = path.join(work, 'model.onnx');
  fs.writeFileSync(modelPath, artifact);
  await startBare(modelPath);
  const session = await ort.InferenceSession.create(artifact, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const rows = wineRows();
  const inputName = session.inputNames[0];

  type Target = 'a' | "a'" | 'b' | 'c';
  type Row = {
    batch: number;
    concurrency: number;
    results: Record<Target, LoadResult>;
  };
  const results: Row[] = [];
  const urls = {
    a: `${base}/api/mlops/v2/models/${MODEL}/infer`,
    "a'": `http://127.0.0.1:${DATA_PLANE_PORT}/v2/models/${MODEL}/infer`,
    b: `http://127.0.0.1:${BARE_PORT}/infer`,
  };
  for (const batch of BATCHES) {
    const body = inferBody(rows, batch, inputName);
    for (const concurrency of CONCURRENCIES) {
      process.stdout.write(`batch ${batch}, concurrency ${concurrency} ...`);
      const cell = {} as Record<Target, LoadResult>;
      for (const target of ['a', "a'", 'b'] as const) {
        cell[target] = await load({
          url: urls[target],
          body,
          headers: target === 'b' ? {} : auth,
          concurrency,
          durationMs: SECONDS * 1000,
        });
        if (cell[target].errors) {
          throw new Error(
            `(${target}) had ${cell[target].errors} errors, e.g. ${cell[target].firstError}`,
          );
        }
      }
      cell.c = await inProcess(session, rows, batch, concurrency);
      results.push({ batch, concurrency, results: cell });
      process.stdout.write(' done\n');
    }
  }

  // RSS of the full route over RSS_REQUESTS requests, after a warm-up.
  const body = inferBody(rows, 1, inputName);
  await load({
    url: `${base}/api/mlops/v2/models/${MODEL}/infer`,
    body,
    headers: auth,
    concurrency: 16,
    requests: 5000,
    warmupMs: 0,
  });
  const rssBefore = rssKb(backend.pid!);
  const long = await load({
    url: `${base}/api/mlops/v2/models/${MODEL}/infer`,
    body,
    headers: auth,
    concurrency: 16,
    requests: RSS_REQUESTS,
    warmupMs: 0,
  });
  const rssAfter = rssKb(backend.pid!);

  const f = (v: number, digits = 1) =>
    Number.isFinite(v) ? v.toFixed(digits) : '-';
  const names: Record<Target, string> = {
    a: '(a) /api/mlops route',
    "a'": "(a') data-plane port",
    b: '(b) bare node:http',
    c: '(c) in-process',
  };
  const header = [
    'batch',
    'conc.',
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'req/s ÷ (b)',
    'p99 ÷ (b)',
  ];
  const lines: string[][] = [];
  for (const r of results) {
    const b = r.results.b;
    for (const target of ['a', "a'", 'b', 'c'] as const) {
      const x = r.results[target];
      const vsB = target === 'a' || target === "a'";
      lines.push([
        String(r.batch),
        String(r.concurrency),
        names[target],
        f(x.throughput, 0),
        f(x.p50, 2),
        f(x.p99, 2),
        vsB ? `${f(x.throughput / b.throughput, 2)}x` : '',
        vsB ? `${f(x.p99 / b.p99, 2)}x` : '',
      ]);
    }
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map(l => l[i].length)),
  );
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    `\n${SECONDS} s per cell after 1 s of warm-up; Node ${process.version}; ${
      os.cpus().length
    } × ${os.cpus()[0]?.model ?? 'cpu'}; model ${MODEL} v${version} (${
      artifact.length
    } bytes); (c) counts session.run calls\n`,
  );
  console.log(row(header));
  console.log(`|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
  const growth = ((rssAfter - rssBefore) / rssBefore) * 100;
  console.log(
    `\nRSS of the backend over ${long.requests.toLocaleString(
      'en-US',
    )} requests to (a) (batch 1, concurrency 16, ${
      long.errors
    } errors) after 5,000 of warm-up: ` +
      `${(rssBefore / 1024).toFixed(0)} MiB -> ${(rssAfter / 1024).toFixed(
        0,
      )} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%)`,
  );
  for (const r of results.filter(x => x.concurrency === 16)) {
    for (const target of ['a', "a'"] as const) {
      const tp = r.results[target].throughput / r.results.b.throughput;
      const p99 = r.results[target].p99 / r.results.b.p99;
      console.log(
        `targets, ${names[target]}, batch ${
          r.batch
        }, concurrency 16: throughput ${tp.toFixed(2)}x (b) (>= 0.8: ${
          tp >= 0.8 ? 'met' : 'NOT met'
        }), ` +
          `p99 ${p99.toFixed(2)}x (b) (<= 1.5: ${
            p99 <= 1.5 ? 'met' : 'NOT met'
          })`,
      );
    }
  }
  console.log(`RSS growth < 10%: ${growth < 10 ? 'met' : 'NOT met'}`);
  fs.rmSync(work, { recursive: true, force: true });
}

main()
  .then(() => process.exit(0))
  .catch(error => {
    console.error(error);
    process.exit(1);
  });
