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
 * The load generator runs in its own process: wrk (Debian's package, as the
 * issue measured; one thread, 16 connections) when /usr/bin/wrk is there
 * and BENCH_LOADGEN is not `node`, else bench/loadgen.js (Node, which
 * costs about as much CPU per request as the bare server on these two
 * cores). gRPC is driven the same way by h2load (Debian's nghttp2-client)
 * or bench/grpcLoadgen.js (@grpc/grpc-js), whose client costs more CPU per
 * call than the server it measures. Each cell
 * (batch 1 and 64 at concurrency 16) is measured ROUNDS times, alternating
 * dp and bare, and the table shows the medians and their ratios. Then the
 * backend is started again with 2 workers for the scaling row, and the RSS
 * of the worker is read before and after BENCH_RSS_REQUESTS requests.
 *
 *   (fastapi) bench/fastapiServer.py: FastAPI + uvicorn + scikit-learn
 *          (Debian's python3-fastapi, python3-uvicorn, python3-sklearn; the
 *          bench only, CI does not install them), one worker, serving the
 *          same linear model (weights read off the ONNX session); the column
 *          says "not installed" when /usr/bin/python3 cannot import them.
 *
 * Besides wall-clock ratios, which move with the machine's load, the bench
 * prints the CPU time each server spends per request (user + system of its
 * processes over the measured rounds): a figure far less sensitive to other
 * work on the machine. The backend's CPU is counted net of what it spends
 * idle (measured for BENCH_SECONDS before the rounds: the scheduler, the
 * catalog), so that it shows what the data plane costs it.
 *
 * Environment: BENCH_SECONDS (per measurement, default 5), BENCH_ROUNDS
 * (default 3), BENCH_RSS_REQUESTS (default 200000), BENCH_PYTHON (default
 * /usr/bin/python3), ports 7700 and 7703-7706.
 */
import {
  ChildProcess,
  execFileSync,
  fork,
  spawn,
  spawnSync,
} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  readDemoTable,
  WINE_PHYSICOCHEMICAL_FEATURES,
} from '../src/demo/datasets';
import * as protoLoader from '@grpc/proto-loader';
import { startReaper } from './reaper';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RSS_REQUESTS = Number(process.env.BENCH_RSS_REQUESTS ?? 200_000);
const PORT = 7703;
const DATA_PLANE_PORT = 7704;
const BARE_PORT = 7705;
const GRPC_PORT = 7706;
const FASTAPI_PORT = 7700;
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const PROFILE = process.env.BENCH_PROFILE;
const TOKEN =
  process.env.LOOPLINE_DEMO_TOKEN ?? 'loopline-demo-token-change-me';
const REPO = path.resolve(__dirname, '../../..');
const BACKEND_DIR = path.join(REPO, 'packages/backend');
const MODEL = 'wine-quality';
const CONCURRENCY = 16;

const children: ChildProcess[] = [];
// Stops the servers even when this process is killed outright.
const reaper = startReaper();
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
      // BENCH_PROFILE=<dir>: CPU profiles of the backend and its workers (inherited).
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : []),
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
  reaper.watch(child);
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
  reaper.watch(child);
  return new Promise<ChildProcess>((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', code => reject(new Error(`bare server exited ${code}`)));
  });
}

/**
 * The served model's weights and bias, read off the ONNX session itself
 * (it is linear: f(0) is the bias, f(e_j) - f(0) the weight j), checked on
 * real rows so the FastAPI peer serves exactly the same function.
 */
async function linearWeights(
  modelPath: string,
  rows: number[][],
): Promise<{ weights: number[]; bias: number }> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath);
  const n = rows[0].length;
  const run = async (x: number[][]) => {
    const out = await session.run({
      [session.inputNames[0]]: new ort.Tensor(
        'float32',
        Float32Array.from(x.flat()),
        [x.length, n],
      ),
    });
    return Array.from(out[session.outputNames[0]].data as Float32Array, Number);
  };
  const probes = [
    new Array(n).fill(0),
    ...Array.from({ length: n }, (_, j) =>
      Array.from({ length: n }, (__, k) => (k === j ? 1 : 0)),
    ),
  ];
  const [bias, ...units] = await run(probes);
  const weights = units.map(u => u - bias);
  const sample = rows.slice(0, 50);
  const expected = await run(sample);
  sample.forEach((row, i) => {
    const linear = row.reduce((sum, x, j) => sum + x * weights[j], bias);
    if (Math.abs(linear - expected[i]) > 1e-3 * (1 + Math.abs(expected[i]))) {
      throw new Error(
        `The served model is not linear (row ${i}: ${linear} vs ${expected[i]}): no FastAPI peer`,
      );
    }
  });
  await session.release?.();
  return { weights, bias };
}

/** The FastAPI peer, or why it is not in the run. */
async function startFastapi(
  work: string,
  model: { weights: number[]; bias: number },
): Promise<ChildProcess | string> {
  const probe = spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn, sklearn']);
  if (probe.status !== 0) {
    return `not installed (${PYTHON} cannot import fastapi, uvicorn and sklearn: apt-get install python3-fastapi python3-uvicorn python3-sklearn)`;
  }
  const spec = path.join(work, 'linear.json');
  fs.writeFileSync(spec, JSON.stringify(model));
  const child = spawn(
    PYTHON,
    [path.join(__dirname, 'fastapiServer.py'), spec, String(FASTAPI_PORT)],
    {
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  children.push(child);
  reaper.watch(child);
  await waitFor('the FastAPI peer', async () => {
    const res = await fetch(
      `http://127.0.0.1:${FASTAPI_PORT}/v2/models/${MODEL}/infer`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: inferBody([model.weights.map(() => 1)], 1, 'input'),
      },
    );
    return res.ok;
  });
  return child;
}

interface LoadResult {
  requests: number;
  /** Requests sent, the warm-up's included (what the servers' CPU covers). */
  total: number;
  /** The load generator's own CPU, µs. */
  cpuMicros: number;
  errors: number;
  firstError?: string;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
}

/**
 * gRPC ModelInfer with raw_input_contents at concurrency 16 on one
 * connection: from h2load when installed (and not BENCH_LOADGEN=node),
 * else from bench/grpcLoadgen.js in its own process.
 */
function loadGrpc(rows: number[][], batch: number, inputName: string) {
  const picked = Array.from({ length: batch }, (_, i) => rows[i % rows.length]);
  const request = {
    model_name: MODEL,
    id: `bench-${batch}`,
    inputs: [
      { name: inputName, datatype: 'FP32', shape: [batch, picked[0].length] },
    ],
    raw_input_contents: [Buffer.from(new Float32Array(picked.flat()).buffer)],
  };
  return H2LOAD ? loadGrpcWithH2load(request) : loadGrpcWithNode(request);
}

const PROTO = path.join(__dirname, '../proto/grpc_predict_v2.proto');

function loadGrpcWithNode(request: {
  raw_input_contents: Buffer[];
}): Promise<LoadResult> {
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
      protoPath: PROTO,
      request: {
        ...request,
        raw_input_contents: request.raw_input_contents.map(b =>
          b.toString('base64'),
        ),
      },
      token: TOKEN,
      concurrency: CONCURRENCY,
      durationMs: SECONDS * 1000,
    });
  });
}

/**
 * The same gRPC load from h2load (nghttp2's HTTP/2 load generator, in C:
 * Debian's nghttp2-client), `CONCURRENCY` streams on one connection like
 * grpcLoadgen.js's channel, posting the length-prefixed ModelInferRequest
 * that @grpc/proto-loader encodes. h2load sees HTTP statuses, and gRPC
 * answers 200 with its status in the trailers, so every call is checked on
 * the server's side instead: the inference counter's `ok` must grow by at
 * least the calls h2load completed (warm-up included) and its `error` not
 * at all. A second of warm-up, then the measured run, whose per-request
 * log gives the percentiles; its CPU is the shell's children's (`times`).
 */
async function loadGrpcWithH2load(request: object): Promise<LoadResult> {
  const definition = protoLoader.loadSync(PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const method = (definition['inference.GRPCInferenceService'] as any)
    .ModelInfer;
  const message: Buffer = method.requestSerialize(request);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1); // byte 0: not compressed
  message.copy(frame, 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-h2load-'));
  fs.writeFileSync(path.join(dir, 'request.bin'), frame);
  const headers = [
    'content-type: application/grpc',
    'te: trailers',
    `authorization: Bearer ${TOKEN}`,
  ]
    .map(h => `-H '${h.replace(/'/g, `'\\''`)}'`) // quoted for the shell
    .join(' ');
  const run = (seconds: number, log = '') =>
    `${H2LOAD} -t1 -c1 -m${CONCURRENCY} -D${seconds} ${log} -d ${dir}/request.bin ${headers} http://127.0.0.1:${GRPC_PORT}/inference.GRPCInferenceService/ModelInfer`;
  const script = `${run(1)} && echo '-- measured' && ${run(
    Math.max(1, Math.round(SECONDS)),
    `--log-file=${dir}/requests.log`,
  )} && times`;
  const [okBefore, errorsBefore] = [
    await servedCount(),
    await servedCount('error'),
  ];
  const result = spawnSync('/bin/sh', ['-c', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const out = result.stdout;
  const log = fs.existsSync(`${dir}/requests.log`)
    ? fs.readFileSync(`${dir}/requests.log`, 'utf8')
    : '';
  fs.rmSync(dir, { recursive: true, force: true });
  if (result.status !== 0) {
    throw new Error(`h2load exited ${result.status}: ${out}`);
  }
  const [warmup, measured] = out.split('-- measured');
  // "requests: 61728 total, 61744 started, 61728 done, 61728 succeeded, 0 failed, 0 errored, 0 timeout"
  const counts = (text: string) => {
    const m =
      /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
        text,
      );
    if (!m) throw new Error(`Unexpected h2load output: ${text}`);
    return { succeeded: Number(m[2]), failed: Number(m[3]) + Number(m[4]) };
  };
  const [w, r] = [counts(warmup), counts(measured)];
  const answered = w.succeeded + r.succeeded;
  const okCalls = (await untilCounted(okBefore, answered)) - okBefore;
  const errorCalls = (await servedCount('error')) - errorsBefore;
  if (w.failed + r.failed > 0 || errorCalls > 0) {
    throw new Error(
      `gRPC under h2load: ${
        w.failed + r.failed
      } failed streams, ${errorCalls} failed inferences`,
    );
  }
  if (okCalls < answered) {
    throw new Error(
      `gRPC under h2load: ${answered} calls answered but only ${okCalls} inferences served (a gRPC status other than OK?)`,
    );
  }
  // The log: start (µs since the epoch), HTTP status, duration (µs).
  const latencies = log
    .trim()
    .split('\n')
    .map(line => Number(line.split('\t')[2]) / 1000)
    .filter(ms => Number.isFinite(ms))
    .sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies[
      Math.min(
        latencies.length - 1,
        Math.ceil((p / 100) * latencies.length) - 1,
      )
    ];
  const cpuSeconds = childrenCpuSeconds(out);
  const seconds = Number(/finished in ([\d.]+)s/.exec(measured)?.[1]);
  return {
    requests: r.succeeded,
    total: r.succeeded + w.succeeded,
    cpuMicros: cpuSeconds * 1e6,
    errors: 0,
    seconds,
    throughput: Number(
      /finished in [\d.]+s, ([\d.]+) req\/s/.exec(measured)?.[1],
    ),
    p50: percentile(50),
    p99: percentile(99),
  };
}

/**
 * The CPU seconds of a shell's children from the output of its `times`
 * (the last line: their user and system time, as `0m1.23s 0m0.45s`).
 */
function childrenCpuSeconds(out: string): number {
  const children = out.trim().split('\n').pop()!;
  return [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
    0,
  );
}

/** h2load (Debian's nghttp2-client), when installed and not BENCH_LOADGEN=node. */
const H2LOAD =
  process.env.BENCH_LOADGEN !== 'node' && fs.existsSync('/usr/bin/h2load')
    ? '/usr/bin/h2load'
    : undefined;

/** wrk (Debian's package; the issue measured with it), when installed and not BENCH_LOADGEN=node. */
const WRK =
  process.env.BENCH_LOADGEN !== 'node' && fs.existsSync('/usr/bin/wrk')
    ? '/usr/bin/wrk'
    : undefined;

function load(options: {
  url: string;
  body: string;
  headers?: Record<string, string>;
  concurrency: number;
  durationMs?: number;
  requests?: number;
  warmupMs?: number;
}): Promise<LoadResult> {
  if (WRK && options.durationMs !== undefined && !options.requests) {
    return loadWithWrk({ ...options, durationMs: options.durationMs });
  }
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

/**
 * The same load from wrk, a C load generator (one thread, `concurrency`
 * connections): a second of warm-up, then the measured run with --latency.
 * Its CPU is the shell's children's (`times`), warm-up included, as for
 * the servers.
 */
function loadWithWrk(options: {
  url: string;
  body: string;
  headers?: Record<string, string>;
  concurrency: number;
  durationMs: number;
}): Promise<LoadResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-wrk-'));
  const bodyFile = path.join(dir, 'body.json');
  fs.writeFileSync(bodyFile, options.body);
  const headers = { 'content-type': 'application/json', ...options.headers };
  fs.writeFileSync(
    path.join(dir, 'post.lua'),
    [
      'wrk.method = "POST"',
      `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`,
      'wrk.body = f:read("*a")',
      'f:close()',
      ...Object.entries(headers).map(
        ([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`,
      ),
    ].join('\n'),
  );
  const run = (seconds: number) =>
    `${WRK} -t1 -c${options.concurrency} -d${seconds}s --latency -s ${dir}/post.lua ${options.url}`;
  const script = `${run(1)} && echo '-- measured' && ${run(
    Math.max(1, Math.round(options.durationMs / 1000)),
  )} && times`;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', chunk => (out += chunk));
    child.once('exit', code => {
      fs.rmSync(dir, { recursive: true, force: true });
      if (code !== 0) {
        reject(new Error(`wrk exited ${code}: ${out}`));
        return;
      }
      const [warmup, measured] = out.split('-- measured');
      const count = (text: string) =>
        Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
      const ms = (p: number) => {
        const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(measured);
        if (!m) return NaN;
        return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]]!;
      };
      const failed =
        Number(/Non-2xx or 3xx responses: (\d+)/.exec(measured)?.[1] ?? 0) +
        (/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
          .exec(measured)
          ?.slice(1)
          .reduce((sum, n) => sum + Number(n), 0) ?? 0);
      const cpuSeconds = childrenCpuSeconds(out);
      const requests = count(measured);
      const seconds = Number(/requests in ([\d.]+)s/.exec(measured)?.[1]);
      if (failed > 0) {
        reject(new Error(`${options.url}: ${failed} errors under wrk`));
        return;
      }
      resolve({
        requests,
        total: requests + count(warmup),
        cpuMicros: cpuSeconds * 1e6,
        errors: 0,
        seconds,
        throughput: Number(/Requests\/sec:\s+([\d.]+)/.exec(measured)?.[1]),
        p50: ms(50),
        p99: ms(99),
      });
    });
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

/** Inference requests the metrics counted (all workers'), by status. */
async function servedCount(status: 'ok' | 'error' = 'ok'): Promise<number> {
  return metricSum(
    await metricsText(),
    'loopline_inference_requests_total',
    `status="${status}"`,
  );
}

/**
 * The `ok` count once it has grown by `expected` from `from`, or stopped
 * moving for 5 s: it follows the events the workers ship, which may still
 * be on their way when the load ends.
 */
async function untilCounted(from: number, expected: number): Promise<number> {
  let count = await servedCount();
  for (let still = 0; count - from < expected && still < 10; ) {
    await sleep(500);
    const next = await servedCount();
    still = next === count ? still + 1 : 0;
    count = next;
  }
  return count;
}

/** The backend's /metrics (every worker's, aggregated), on a connection of its own. */
async function metricsText(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${PORT}/api/mlops/metrics`, {
    headers: { authorization: `Bearer ${TOKEN}`, connection: 'close' },
  });
  return response.text();
}

async function metricValue(name: string): Promise<number> {
  return metricSum(await metricsText(), name);
}

/** The sum of a metric's samples (those whose line holds `having`, if given). */
function metricSum(text: string, name: string, having = ''): number {
  return text
    .split('\n')
    .filter(l => l.startsWith(name) && l.includes(having))
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
  const bare = await startBare(modelPath);
  const rows = wineRows();
  const inputName = meta.inputs[0].name;
  const fastapi = await startFastapi(
    work,
    await linearWeights(modelPath, rows),
  );
  if (PROFILE) {
    // Only the load to profile (batch BENCH_PROFILE_BATCH, default 1; OIP
    // JSON, or gRPC with BENCH_PROFILE_LOAD=grpc), then stop.
    const batch = Number(process.env.BENCH_PROFILE_BATCH ?? 1);
    const grpc = process.env.BENCH_PROFILE_LOAD === 'grpc';
    const result = grpc
      ? await loadGrpc(rows, batch, inputName)
      : await load({
          url: `${dpBase}/v2/models/${MODEL}/infer`,
          body: inferBody(rows, batch, inputName),
          headers: auth,
          concurrency: CONCURRENCY,
          durationMs: SECONDS * 1000,
        });
    console.log(
      `Profiled ${result.requests} ${
        grpc ? 'gRPC' : 'JSON'
      } requests (batch ${batch}); profiles in ${PROFILE}`,
    );
    // The workers first, so that each ends by itself and writes its profile.
    for (const pid of workerPids(backend.pid!)) process.kill(pid, 'SIGTERM');
    await sleep(5000);
    await stopBackend(backend);
    return;
  }

  // Each server's CPU per request: user + system time of its processes over
  // a measurement, divided by the requests sent (warm-up included). The
  // backend's is net of its idle rate (its scheduler, catalog, demo seed).
  const [benchWorker] = workerPids(backend.pid!);
  await sleep(2000);
  const idleStart = { cpu: cpuSeconds(backend.pid!), at: Date.now() };
  await sleep(SECONDS * 1000);
  const backendIdlePerSecond =
    (cpuSeconds(backend.pid!) - idleStart.cpu) /
    ((Date.now() - idleStart.at) / 1000);
  type Server = 'dp' | 'grpc' | 'bare' | 'fastapi';
  type Measured = LoadResult & { cpu: Record<string, number> };
  async function measure(
    pids: Record<string, number>,
    run: () => Promise<LoadResult>,
  ): Promise<Measured> {
    const at = Date.now();
    const before = Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]),
    );
    const result = await run();
    const elapsed = (Date.now() - at) / 1000;
    const cpu: Record<string, number> = {
      loadgen: result.cpuMicros / result.total,
    };
    for (const [k, pid] of Object.entries(pids)) {
      let spent = cpuSeconds(pid) - before[k];
      if (k === 'backend') spent -= backendIdlePerSecond * elapsed;
      cpu[k] = (Math.max(0, spent) / result.total) * 1e6;
    }
    return { ...result, cpu };
  }
  type Cell = { label: string } & Record<Server, Measured[]>;
  const cells: Cell[] = [];
  for (const batch of [1, 64]) {
    const body = inferBody(rows, batch, inputName);
    const cell: Cell = {
      label: `batch ${batch}`,
      dp: [],
      grpc: [],
      bare: [],
      fastapi: [],
    };
    const dpPids = { worker: benchWorker, backend: backend.pid! };
    for (let round = 0; round < ROUNDS; round++) {
      process.stdout.write(`batch ${batch}, round ${round + 1}/${ROUNDS} ...`);
      cell.dp.push(
        await measure(dpPids, () =>
          load({
            url: `${dpBase}/v2/models/${MODEL}/infer`,
            body,
            headers: auth,
            concurrency: CONCURRENCY,
            durationMs: SECONDS * 1000,
          }),
        ),
      );
      cell.bare.push(
        await measure({ server: bare.pid! }, () =>
          load({
            url: `http://127.0.0.1:${BARE_PORT}/infer`,
            body,
            concurrency: CONCURRENCY,
            durationMs: SECONDS * 1000,
          }),
        ),
      );
      cell.grpc.push(
        await measure(dpPids, () => loadGrpc(rows, batch, inputName)),
      );
      if (typeof fastapi !== 'string') {
        cell.fastapi.push(
          await measure({ server: fastapi.pid! }, () =>
            load({
              url: `http://127.0.0.1:${FASTAPI_PORT}/v2/models/${MODEL}/infer`,
              body,
              concurrency: CONCURRENCY,
              durationMs: SECONDS * 1000,
            }),
          ),
        );
      }
      process.stdout.write(' done\n');
    }
    cells.push(cell);
  }

  // RSS of the worker over many requests, after a warm-up.
  const body1 = inferBody(rows, 1, inputName);
  const [worker] = workerPids(backend.pid!);
  const warmupFrom = await servedCount();
  await load({
    url: `${dpBase}/v2/models/${MODEL}/infer`,
    body: body1,
    headers: auth,
    concurrency: CONCURRENCY,
    requests: 20_000,
    warmupMs: 0,
  });
  const rssBefore = rssKb(worker);
  // From once the warm-up's events are all counted, not while they arrive.
  const servedBefore = await untilCounted(warmupFrom, 20_000);
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
  // The metrics count every request, those whose log record was dropped too.
  const counted =
    (await untilCounted(servedBefore, long.requests)) - servedBefore;
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
    'server CPU µs/req',
    'loadgen CPU µs/req',
  ];
  const lines: string[][] = [];
  const summary: string[] = [];
  const med = (runs: Measured[]) => ({
    tp: median(runs.map(r => r.throughput)),
    p50: median(runs.map(r => r.p50)),
    p99: median(runs.map(r => r.p99)),
    cpu: (k: string) => median(runs.map(r => r.cpu[k] ?? NaN)),
  });
  const names: Record<Server, string> = {
    dp: 'data plane, 1 worker',
    grpc: 'data plane gRPC, 1 worker',
    bare: 'bare node:http',
    fastapi: 'FastAPI + uvicorn + sklearn',
  };
  for (const cell of cells) {
    const bareM = med(cell.bare);
    for (const server of ['dp', 'grpc', 'bare', 'fastapi'] as Server[]) {
      if (server === 'fastapi' && typeof fastapi === 'string') {
        lines.push([
          cell.label,
          names.fastapi,
          fastapi.split(' (')[0],
          '',
          '',
          '',
          '',
          '',
          '',
        ]);
        continue;
      }
      const m = med(cell[server]);
      const serverCpu =
        server === 'dp' || server === 'grpc'
          ? `${f(m.cpu('worker'), 0)} + ${f(m.cpu('backend'), 0)} backend`
          : f(m.cpu('server'), 0);
      lines.push([
        cell.label,
        names[server],
        f(m.tp, 0),
        f(m.p50),
        f(m.p99),
        server === 'bare' ? '' : `${f(m.tp / bareM.tp)}x`,
        server === 'bare' ? '' : `${f(m.p99 / bareM.p99)}x`,
        serverCpu,
        f(m.cpu('loadgen'), 0),
      ]);
    }
    const dp = med(cell.dp);
    const grpcM = med(cell.grpc);
    const target = cell.label === 'batch 1' ? 0.8 : 0.9;
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    summary.push(
      `${cell.label}: throughput ${f(
        dp.tp / bareM.tp,
      )}x bare (>= ${target}: ${met(dp.tp / bareM.tp >= target)})` +
        (cell.label === 'batch 1'
          ? `, p99 ${f(dp.p99 / bareM.p99)}x bare (<= 1.5: ${met(
              dp.p99 / bareM.p99 <= 1.5,
            )})`
          : '') +
        `; CPU per request: data plane ${f(
          dp.cpu('worker') + dp.cpu('backend'),
          0,
        )} µs (worker ${f(dp.cpu('worker'), 0)} + backend ${f(
          dp.cpu('backend'),
          0,
        )}) vs bare ${f(bareM.cpu('server'), 0)} µs: ${f(
          bareM.cpu('server') / (dp.cpu('worker') + dp.cpu('backend')),
        )}x bare's work per CPU second`,
    );
    if (cell.label === 'batch 1') {
      summary.push(
        `gRPC vs the data plane's JSON (batch 1): ${f(
          grpcM.tp / dp.tp,
        )}x (>= 1.2: ${met(
          grpcM.tp / dp.tp >= 1.2,
        )}); server CPU per request ${f(
          grpcM.cpu('worker') + grpcM.cpu('backend'),
          0,
        )} µs vs ${f(
          dp.cpu('worker') + dp.cpu('backend'),
          0,
        )} µs; the gRPC load generator (${
          H2LOAD ? 'h2load' : 'grpcLoadgen.js'
        }) ${f(grpcM.cpu('loadgen'), 0)} µs vs ${f(
          dp.cpu('loadgen'),
          0,
        )} µs for HTTP/1.1`,
      );
    }
    if (typeof fastapi !== 'string') {
      const fa = med(cell.fastapi);
      summary.push(
        `${cell.label}: data plane vs FastAPI: ${f(
          dp.tp / fa.tp,
        )}x throughput (>= 3: ${met(
          dp.tp / fa.tp >= 3,
        )}); CPU per request: FastAPI ${f(
          fa.cpu('server'),
          0,
        )} µs, data plane ${f(dp.cpu('worker') + dp.cpu('backend'), 0)} µs`,
      );
    }
  }
  if (typeof fastapi === 'string') summary.push(`FastAPI peer: ${fastapi}`);
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
    '',
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
    }; model ${MODEL} v${version} (${artifact.length} bytes); HTTP load from ${
      WRK ? 'wrk -t1 -c16' : 'bench/loadgen.js'
    }, gRPC load from ${
      H2LOAD ? `h2load -c1 -m${CONCURRENCY}` : 'bench/grpcLoadgen.js'
    }, processes of their own on the same cores; load average before the run ${loadBefore
      .map(l => l.toFixed(1))
      .join(' ')}, after ${os
      .loadavg()
      .map(l => l.toFixed(1))
      .join(' ')}; the backend's idle CPU (${f(
      backendIdlePerSecond * 100,
      1,
    )}% of a core) is subtracted from its share\n`,
  );
  console.log(row(header));
  console.log(`|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
  console.log('');
  for (const s of summary) console.log(s);
  console.log(
    `2 workers vs 1 worker (batch 1): ${f(twoWorkers.tp / oneWorker)}x`,
  );
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
    `Inference log: ${dropped} events dropped by the worker's buffer, ${logDropped} by the backend's log buffer; loopline_inference_requests_total counted ${counted} of the ${long.requests} requests`,
  );
  fs.rmSync(work, { recursive: true, force: true });
}

main()
  .then(() => process.exit(0))
  .catch(error => {
    console.error(error);
    process.exit(1);
  });
