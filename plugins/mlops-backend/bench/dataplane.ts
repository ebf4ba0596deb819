/*
 * `npm run bench:dataplane`: the serving data plane against bare
 * onnxruntime-node behind node:http, in one run on one machine.
 *
 *   (dp)   the demo backend (packages/backend, app-config.yaml, SQLite in
 *          files) with mlops.serving.dataPlane on: one worker process (the
 *          same CPU budget as bare: one event loop), with the demo's
 *          external-access token checked, the invoke permission, routing by
 *          the pushed table, OIP validation, the inference log (sample
 *          rate 1, written by the backend) and the metrics all on;
 *   (bare) bench/bareServer.js: node:http + one onnxruntime-node session,
 *          one process, around the same ONNX bytes.
 *
 * The load generator (bench/loadgen.js) runs in its own process. Each cell
 * (batch 1 and 64 at concurrency 16) is measured ROUNDS times, alternating
 * dp and bare, and the table shows the medians and their ratios. Then the
 * backend is started again with 2 workers for the scaling row, and the RSS
 * of the worker is read before and after BENCH_RSS_REQUESTS requests.
 *
 * Environment: BENCH_SECONDS (per measurement, default 5), BENCH_ROUNDS
 * (default 3), BENCH_RSS_REQUESTS (default 200000), ports 7703-7706.
 */
import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  readDemoTable,
  WINE_PHYSICOCHEMICAL_FEATURES,
} from '../src/demo/datasets';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RSS_REQUESTS = Number(process.env.BENCH_RSS_REQUESTS ?? 200_000);
const PORT = 7703;
const DATA_PLANE_PORT = 7704;
const BARE_PORT = 7705;
const GRPC_PORT = 7706;
const TOKEN =
  process.env.LOOPLINE_DEMO_TOKEN ?? 'loopline-demo-token-change-me';
const REPO = path.resolve(__dirname, '../../..');
const BACKEND_DIR = path.join(REPO, 'packages/backend');
const MODEL = 'wine-quality';
const CONCURRENCY = 16;

const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function kill(child: ChildProcess) {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}
process.on('exit', () => children.forEach(kill));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => process.exit(130));
}

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

async function waitFor(what: string, probe: () => Promise<boolean>) {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(1000);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

function startBackend(work: string, workers: number) {
  const out = fs.openSync(path.join(work, `backend-${workers}.log`), 'w');
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
        APP_CONFIG_mlops_artifacts_directory: path.join(work, 'artifacts'),
        APP_CONFIG_backend_database_connection: JSON.stringify({
          directory: path.join(work, `db-${workers}`),
        }),
        APP_CONFIG_mlops_serving_dataPlane_port: String(DATA_PLANE_PORT),
        APP_CONFIG_mlops_serving_dataPlane_host: '127.0.0.1',
        APP_CONFIG_mlops_serving_dataPlane_workers: String(workers),
        APP_CONFIG_mlops_serving_dataPlane_grpcPort: String(GRPC_PORT),
      },
    },
  );
  children.push(child);
  return child;
}

async function stopBackend(child: ChildProcess) {
  kill(child);
  await new Promise(resolve => child.once('exit', resolve));
  await sleep(1000);
}

function startBare(modelPath: string) {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'bareServer.js'), modelPath, String(BARE_PORT)],
    { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return new Promise<ChildProcess>((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', code => reject(new Error(`bare server exited ${code}`)));
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

/** gRPC ModelInfer with raw_input_contents, from bench/grpcLoadgen.js in its own process. */
function loadGrpc(rows: number[][], batch: number, inputName: string) {
  const picked = Array.from({ length: batch }, (_, i) => rows[i % rows.length]);
  const raw = Buffer.from(new Float32Array(picked.flat()).buffer);
  const child = fork(path.join(__dirname, 'grpcLoadgen.js'), {
    stdio: 'inherit',
    execArgv: [],
  });
  return new Promise<LoadResult>((resolve, reject) => {
    child.on('message', m => {
      const result = m as LoadResult;
      if (result.errors) {
        reject(
          new Error(`gRPC: ${result.errors} errors, e.g. ${result.firstError}`),
        );
      } else resolve(result);
    });
    child.once('exit', code =>
      code
        ? reject(new Error(`gRPC load generator exited ${code}`))
        : undefined,
    );
    child.send({
      address: `127.0.0.1:${GRPC_PORT}`,
      protoPath: path.join(__dirname, '../proto/grpc_predict_v2.proto'),
      request: {
        model_name: MODEL,
        id: `bench-${batch}`,
        inputs: [
          {
            name: inputName,
            datatype: 'FP32',
            shape: [batch, picked[0].length],
          },
        ],
        raw_input_contents: [raw.toString('base64')],
      },
      token: TOKEN,
      concurrency: CONCURRENCY,
      durationMs: SECONDS * 1000,
    });
  });
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
  const child = fork(path.join(__dirname, 'loadgen.js'), {
    stdio: 'inherit',
    execArgv: [],
  });
  return new Promise((resolve, reject) => {
    child.on('message', m => {
      if (m && typeof m === 'object' && 'throughput' in m) {
        const result = m as LoadResult;
        if (result.errors) {
          reject(
            new Error(
              `${options.url}: ${result.errors} errors, e.g. ${result.firstError}`,
            ),
          );
        } else resolve(result);
      }
    });
    child.once('exit', code =>
      code ? reject(new Error(`load generator exited ${code}`)) : undefined,
    );
    child.send(options);
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The data-plane worker processes: children of the backend started with LOOPLINE_DATA_PLANE_WORKER. */
function workerPids(backendPid: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(backendPid)])
    .toString()
    .trim();
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter(pid => {
      try {
        return fs
          .readFileSync(`/proc/${pid}/environ`, 'utf8')
          .includes('LOOPLINE_DATA_PLANE_WORKER=');
      } catch {
        return false;
      }
    });
}

/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = fs
    .readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
}

const rssKb = (pid: number) =>
  Number(
    /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1],
  );

async function metricValue(name: string): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${PORT}/api/mlops/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
  ).text();
  return text
    .split('\n')
    .filter(l => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-bench-dp-'));
  // Other work on the machine shows in every cell: said with the figures.
  const loadBefore = os.loadavg();
  const auth = { authorization: `Bearer ${TOKEN}` };
  const dpBase = `http://127.0.0.1:${DATA_PLANE_PORT}`;
  const ready = () =>
    waitFor(
      'the demo model on the data plane',
      async () =>
        (await fetch(`${dpBase}/v2/models/${MODEL}/ready`, { headers: auth }))
          .ok,
    );
  console.log(
    `Starting the demo backend with 1 data-plane worker (logs in ${work}) ...`,
  );
  let backend = startBackend(work, 1);
  await ready();

  const meta = await (
    await fetch(`${dpBase}/v2/models/${MODEL}`, { headers: auth })
  ).json();
  const info = await (
    await fetch(
      `http://127.0.0.1:${PORT}/api/mlops/serving/models/${MODEL}/info`,
      { headers: auth },
    )
  ).json();
  const version = info.servedVersion;
  const artifact = Buffer.from(
    await (
      await fetch(
        `http://127.0.0.1:${PORT}/api/mlops/registry/models/${MODEL}/versions/${version}/artifact`,
        { headers: auth },
      )
    ).arrayBuffer(),
  );
  const modelPath = path.join(work, 'model.onnx');
  fs.writeFileSync(modelPath, artifact);
  await startBare(modelPath);
  const rows = wineRows();
  const inputName = meta.inputs[0].name;

  type Cell = {
    label: string;
    dp: LoadResult[];
    bare: LoadResult[];
    grpc: LoadResult[];
  };
  const cells: Cell[] = [];
  // Where the CPU goes while the data plane is loaded: its worker, and the
  // backend (the control plane: IPC, the log writes, the metrics).
  const [benchWorker] = workerPids(backend.pid!);
  const cpu: Record<
    string,
    { worker: number; backend: number; requests: number }
  > = {};
  for (const batch of [1, 64]) {
    const body = inferBody(rows, batch, inputName);
    const cell: Cell = { label: `batch ${batch}`, dp: [], bare: [], grpc: [] };
    for (let round = 0; round < ROUNDS; round++) {
      process.stdout.write(`batch ${batch}, round ${round + 1}/${ROUNDS} ...`);
      const before = {
        worker: cpuSeconds(benchWorker),
        backend: cpuSeconds(backend.pid!),
      };
      const dpResult = await load({
        url: `${dpBase}/v2/models/${MODEL}/infer`,
        body,
        headers: auth,
        concurrency: CONCURRENCY,
        durationMs: SECONDS * 1000,
      });
      cell.dp.push(dpResult);
      const spent = (cpu[cell.label] ??= {
        worker: 0,
        backend: 0,
        requests: 0,
      });
      spent.worker += cpuSeconds(benchWorker) - before.worker;
      spent.backend += cpuSeconds(backend.pid!) - before.backend;
      // The warm-up second is not counted in requests but is in CPU: add it at the measured rate.
      spent.requests += dpResult.requests * ((SECONDS + 1) / SECONDS);
      cell.bare.push(
        await load({
          url: `http://127.0.0.1:${BARE_PORT}/infer`,
          body,
          concurrency: CONCURRENCY,
          durationMs: SECONDS * 1000,
        }),
      );
      cell.grpc.push(await loadGrpc(rows, batch, inputName));
      process.stdout.write(' done\n');
    }
    cells.push(cell);
  }

  // RSS of the worker over many requests, after a warm-up.
  const body1 = inferBody(rows, 1, inputName);
  const [worker] = workerPids(backend.pid!);
  await load({
    url: `${dpBase}/v2/models/${MODEL}/infer`,
    body: body1,
    headers: auth,
    concurrency: CONCURRENCY,
    requests: 20_000,
    warmupMs: 0,
  });
  const rssBefore = rssKb(worker);
  process.stdout.write(
    `${RSS_REQUESTS.toLocaleString('en-US')} requests for the RSS ...`,
  );
  const long = await load({
    url: `${dpBase}/v2/models/${MODEL}/infer`,
    body: body1,
    headers: auth,
    concurrency: CONCURRENCY,
    requests: RSS_REQUESTS,
    warmupMs: 0,
  });
  const rssAfter = rssKb(worker);
  process.stdout.write(' done\n');
  await sleep(3000); // the last log batch reaches the backend
  const dropped = await metricValue('loopline_dataplane_log_dropped_total');
  const logDropped = await metricValue('loopline_inference_log_dropped_total');
  await stopBackend(backend);

  // 2 workers on the 2 cores, batch 1.
  console.log('Starting the demo backend with 2 data-plane workers ...');
  backend = startBackend(work, 2);
  await ready();
  const two: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    two.push(
      await load({
        url: `${dpBase}/v2/models/${MODEL}/infer`,
        body: body1,
        headers: auth,
        concurrency: CONCURRENCY,
        durationMs: SECONDS * 1000,
      }),
    );
  }
  await stopBackend(backend);

  const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const header = [
    'cell (conc. 16)',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'req/s ÷ bare',
    'p99 ÷ bare',
  ];
  const lines: string[][] = [];
  const summary: string[] = [];
  for (const cell of cells) {
    const dp = {
      tp: median(cell.dp.map(r => r.throughput)),
      p50: median(cell.dp.map(r => r.p50)),
      p99: median(cell.dp.map(r => r.p99)),
    };
    const bare = {
      tp: median(cell.bare.map(r => r.throughput)),
      p50: median(cell.bare.map(r => r.p50)),
      p99: median(cell.bare.map(r => r.p99)),
    };
    lines.push([
      cell.label,
      'data plane, 1 worker',
      f(dp.tp, 0),
      f(dp.p50),
      f(dp.p99),
      `${f(dp.tp / bare.tp)}x`,
      `${f(dp.p99 / bare.p99)}x`,
    ]);
    const grpcTp = median(cell.grpc.map(r => r.throughput));
    lines.push([
      cell.label,
      'data plane gRPC, 1 worker',
      f(grpcTp, 0),
      f(median(cell.grpc.map(r => r.p50))),
      f(median(cell.grpc.map(r => r.p99))),
      `${f(grpcTp / bare.tp)}x`,
      `${f(median(cell.grpc.map(r => r.p99)) / bare.p99)}x`,
    ]);
    if (cell.label === 'batch 1') {
      summary.push(
        `gRPC vs the data plane's JSON (batch 1): ${f(
          grpcTp / dp.tp,
        )}x (>= 1.2: ${grpcTp / dp.tp >= 1.2 ? 'met' : 'NOT met'})`,
      );
    }
    lines.push([
      cell.label,
      'bare node:http',
      f(bare.tp, 0),
      f(bare.p50),
      f(bare.p99),
      '',
      '',
    ]);
    const target = cell.label === 'batch 1' ? 0.8 : 0.9;
    summary.push(
      `${cell.label}: throughput ${f(dp.tp / bare.tp)}x bare (>= ${target}: ${
        dp.tp / bare.tp >= target ? 'met' : 'NOT met'
      })` +
        (cell.label === 'batch 1'
          ? `, p99 ${f(dp.p99 / bare.p99)}x bare (<= 1.5: ${
              dp.p99 / bare.p99 <= 1.5 ? 'met' : 'NOT met'
            })`
          : ''),
    );
  }
  const oneWorker = median(cells[0].dp.map(r => r.throughput));
  const twoWorkers = {
    tp: median(two.map(r => r.throughput)),
    p50: median(two.map(r => r.p50)),
    p99: median(two.map(r => r.p99)),
  };
  const bare1 = median(cells[0].bare.map(r => r.throughput));
  lines.push([
    'batch 1',
    'data plane, 2 workers',
    f(twoWorkers.tp, 0),
    f(twoWorkers.p50),
    f(twoWorkers.p99),
    `${f(twoWorkers.tp / bare1)}x`,
    '',
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map(l => l[i].length)),
  );
  const row = (c: string[]) =>
    `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    `\nMedians of ${ROUNDS} rounds of ${SECONDS} s (after 1 s of warm-up each), alternating; Node ${
      process.version
    }; ${os.cpus().length} × ${
      os.cpus()[0]?.model ?? 'cpu'
    }; model ${MODEL} v${version} (${
      artifact.length
    } bytes); the load generator is its own process on the same cores; load average before the run ${loadBefore
      .map(l => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log(row(header));
  console.log(`|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
  console.log('');
  for (const s of summary) console.log(s);
  console.log(
    `2 workers vs 1 worker (batch 1): ${f(twoWorkers.tp / oneWorker)}x`,
  );
  for (const [label, spent] of Object.entries(cpu)) {
    const per = (seconds: number) =>
      ((seconds / spent.requests) * 1e6).toFixed(0);
    console.log(
      `CPU per request, data plane ${label}: worker ${per(
        spent.worker,
      )} µs, backend (control plane: IPC, inference log writes, metrics) ${per(
        spent.backend,
      )} µs`,
    );
  }
  const growth = ((rssAfter - rssBefore) / rssBefore) * 100;
  console.log(
    `RSS of the worker over ${long.requests.toLocaleString(
      'en-US',
    )} requests (${long.errors} errors) after 20,000 of warm-up: ${(
      rssBefore / 1024
    ).toFixed(0)} MiB -> ${(rssAfter / 1024).toFixed(0)} MiB (${
      growth >= 0 ? '+' : ''
    }${growth.toFixed(1)}%; < 5%: ${growth < 5 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `Inference log: ${dropped} events dropped by the worker's buffer, ${logDropped} by the backend's log buffer`,
  );
  fs.rmSync(work, { recursive: true, force: true });
}

main()
  .then(() => process.exit(0))
  .catch(error => {
    console.error(error);
    process.exit(1);
  });
