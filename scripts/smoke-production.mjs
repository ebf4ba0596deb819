#!/usr/bin/env node
/*
 * Production smoke test: the portal as a platform team runs it.
 *
 *  1. builds the production bundles (scripts/build-production.mjs, the host
 *     build that packages/backend/Dockerfile and packages/serving/Dockerfile
 *     package);
 *  2. unpacks each package's dist/{skeleton,bundle}.tar.gz into a temporary
 *     folder, as its Dockerfile does, the portal's beside the config files
 *     and examples/;
 *  3. creates a fresh PostgreSQL database and starts the backend from its
 *     unpacked bundle (`node packages/backend --config app-config.yaml
 *     --config app-config.production.yaml`) with the environment of the
 *     README's "Production" section;
 *  4. waits for readiness, registers a model version through the API with an
 *     external-access token (examples/rollout/wine-quality-4-features.onnx),
 *     and runs one OIP inference of that version on the data-plane port, compared with onnxruntime's own answer for the same file; then
 *     the same inference on loopline-serving started from its own bundle
 *     against this backend (the deploy/ topology);
 *  5. stops everything it started (the backend's data-plane workers with
 *     it), drops the database and removes the folders, also when a step
 *     failed or the script is interrupted.
 *
 * Third-party packages: instead of a second `npm install --omit=dev` from
 * the skeleton (the image's step, minutes here), node_modules in the unpacked
 * folder links every entry of the repository's node_modules (installed from
 * the same package-lock.json), except the workspace packages, which resolve
 * to the built ones of the bundle. So the code that runs is the build output.
 *
 * Ends with "SMOKE: N passed, N failed"; exit status 0 only when all passed.
 * Environment (all optional): SMOKE_SKIP_BUILD=1 (reuse the bundles),
 * SMOKE_BACKEND_PORT, SMOKE_DATA_PLANE_PORT, SMOKE_SERVING_PORT (default:
 * free ports),
 * SMOKE_POSTGRES_URL (postgresql://postgres@127.0.0.1:5432),
 * SMOKE_START_TIMEOUT_MS (300000), SMOKE_KEEP=1 (keep the folder and log).
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));
const { Client } = require('pg');

const env = process.env;
const PG_URL = env.SMOKE_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const START_TIMEOUT = Number(env.SMOKE_START_TIMEOUT_MS ?? 300_000);
const MODEL = 'wine-quality';
const ONNX = path.join(ROOT, 'examples/rollout/wine-quality-4-features.onnx');
const OUT = path.join(ROOT, 'test-results', 'smoke');
const LOG = path.join(OUT, 'backend.log');
const SERVING_LOG = path.join(OUT, 'serving.log');
// Local workspace packages: in the unpacked folder they are the built ones.
const WORKSPACE_LINKS = ['@loopline', 'app', 'backend'];

const results = [];
const sleep = ms => new Promise(r => setTimeout(r, ms));
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

async function check(name, fn) {
  try {
    const detail = await fn();
    results.push(true);
    console.log(`✓ ${name}${detail ? ` (${detail})` : ''} [${elapsed()}]`);
    return true;
  } catch (e) {
    results.push(false);
    console.log(
      `✗ ${name}: ${String(e?.message ?? e).split('\n')[0]} [${elapsed()}]`,
    );
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 40) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`,
    );
  }
}

// ---- state to clean up, whatever happens ------------------------------------

let dir; // the unpacked bundle
let database; // the fresh database's name
let backend; // the backend process, leader of its own process group
let servingDir; // the unpacked loopline-serving bundle
let serving; // loopline-serving, likewise
let cleaning;

async function pg(sql) {
  const client = new Client({ connectionString: PG_URL, database: 'postgres' });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function stopProcess(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(r => child.once('exit', r));
  const group = sig => {
    try {
      process.kill(-child.pid, sig); // the process and its children (workers)
    } catch {
      /* already gone */
    }
  };
  group('SIGTERM');
  const timer = setTimeout(() => group('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
  group('SIGKILL'); // a worker that outlived its parent
}

function cleanup() {
  cleaning ??= (async () => {
    await stopProcess(serving);
    await stopProcess(backend);
    if (database) {
      await pg(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(e =>
        console.log(`! could not drop database ${database}: ${e.message}`),
      );
    }
    if (env.SMOKE_KEEP !== '1') {
      for (const d of [dir, servingDir])
        if (d) fs.rmSync(d, { recursive: true, force: true });
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, async () => {
    console.log(`! ${signal}: cleaning up`);
    await cleanup();
    process.exit(1);
  });
}

// ---- the steps ----------------------------------------------------------------

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const backendDist = path.join(ROOT, 'packages/backend/dist');

  if (env.SMOKE_SKIP_BUILD !== '1') {
    const built = await check(
      'production build (npm run build:production)',
      async () => {
        const t = Date.now();
        run('node', [path.join(ROOT, 'scripts/build-production.mjs')], {
          cwd: ROOT,
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        return `${((Date.now() - t) / 1000).toFixed(0)} s`;
      },
    );
    if (!built) return;
  }

  const unpacked = await check(
    'the bundles unpack beside the configs (as in the Dockerfiles)',
    async () => {
      dir = unpack('packages/backend');
      for (const f of ['app-config.yaml', 'app-config.production.yaml']) {
        fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
      }
      fs.cpSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), {
        recursive: true,
      });
      servingDir = unpack('packages/serving');
      for (const d of [dir, servingDir]) {
        const plugin = JSON.parse(
          fs.readFileSync(
            path.join(d, 'plugins/mlops-backend/package.json'),
            'utf8',
          ),
        );
        if (!plugin.main.startsWith('dist/')) {
          throw new Error(
            `the bundled plugin's main is ${plugin.main}, not its build output`,
          );
        }
      }
      if (
        !fs.existsSync(path.join(dir, 'packages/backend/dist/index.cjs.js'))
      ) {
        throw new Error('no packages/backend/dist/index.cjs.js in the bundle');
      }
      return path.relative(os.tmpdir(), dir);
    },
  );
  if (!unpacked) return;

  database = `loopline_smoke_${process.pid}_${Date.now().toString(36)}`;
  const created = await check(
    `fresh PostgreSQL database ${database}`,
    async () => {
      await pg(`CREATE DATABASE "${database}"`);
    },
  );
  if (!created) {
    database = undefined;
    return;
  }

  const backendPort = Number(env.SMOKE_BACKEND_PORT ?? (await freePort()));
  const dataPlanePort = Number(env.SMOKE_DATA_PLANE_PORT ?? (await freePort()));
  const backendUrl = `http://127.0.0.1:${backendPort}`;
  const dataPlaneUrl = `http://127.0.0.1:${dataPlanePort}`;
  const token = crypto.randomBytes(24).toString('hex');
  const dataPlaneToken = crypto.randomBytes(24).toString('hex');
  const pgUrl = new URL(PG_URL);

  const ready = await check(
    'backend starts from the build output and is ready',
    async () => {
      const log = fs.openSync(LOG, 'w');
      backend = spawn(
        process.execPath,
        [
          'packages/backend',
          '--config',
          'app-config.yaml',
          '--config',
          'app-config.production.yaml',
        ],
        {
          cwd: dir,
          detached: true,
          stdio: ['ignore', log, log],
          env: {
            PATH: env.PATH,
            HOME: env.HOME,
            NODE_ENV: 'production',
            // Resolve from the links' own paths, not their targets, so a
            // third-party package finds the bundle's workspace packages (the
            // app that app-backend serves), as in an installed image.
            NODE_OPTIONS: '--no-node-snapshot --preserve-symlinks',
            APP_BASE_URL: backendUrl,
            BACKEND_BASE_URL: backendUrl,
            BACKEND_PORT: String(backendPort),
            POSTGRES_HOST: pgUrl.hostname,
            POSTGRES_PORT: pgUrl.port || '5432',
            POSTGRES_USER: decodeURIComponent(pgUrl.username || 'postgres'),
            POSTGRES_PASSWORD: decodeURIComponent(pgUrl.password),
            POSTGRES_DB: database,
            LOOPLINE_CI_TOKEN: token,
            LOOPLINE_DATA_PLANE_TOKEN: dataPlaneToken,
            LOOPLINE_ARTIFACTS_DIR: path.join(dir, 'artifacts'),
            LOOPLINE_DATA_PLANE_PORT: String(dataPlanePort),
            LOOPLINE_DATA_PLANE_WORKERS: '1',
          },
        },
      );
      fs.closeSync(log);
      const deadline = Date.now() + START_TIMEOUT;
      while (Date.now() < deadline) {
        if (backend.exitCode !== null || backend.signalCode !== null) {
          throw new Error(
            `the backend exited (${backend.exitCode ?? backend.signalCode})`,
          );
        }
        const res = await fetch(
          `${backendUrl}/.backstage/health/v1/readiness`,
        ).catch(() => undefined);
        if (res?.ok) return `port ${backendPort}`;
        await sleep(1000);
      }
      throw new Error(`not ready after ${START_TIMEOUT / 1000} s`);
    },
  );
  if (!ready) return;

  const api = async (method, route, body, type = 'application/json') => {
    const res = await fetch(`${backendUrl}/api/mlops${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': type } : {}),
      },
      body: body && type === 'application/json' ? JSON.stringify(body) : body,
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(
        `${method} ${route}: ${res.status} ${text.slice(0, 300)}`,
      );
    return text ? JSON.parse(text) : undefined;
  };

  await check(
    "the bundle's frontend app is served by the backend",
    async () => {
      const res = await fetch(`${backendUrl}/`);
      const html = await res.text();
      if (!res.ok || !html.includes('<div id="root">'))
        throw new Error(`${res.status}: not the app`);
      const served = /Serving static app content from ([^"]+)/.exec(
        fs.readFileSync(LOG, 'utf8'),
      )?.[1];
      const bundled = fs.realpathSync(path.join(dir, 'packages/app/dist'));
      if (!served || fs.realpathSync(served) !== bundled)
        throw new Error(`served from ${served}`);
    },
  );

  await check('no demo sign-in in production', async () => {
    const res = await fetch(`${backendUrl}/api/auth/guest/refresh`);
    if (res.ok) throw new Error(`the guest provider answered ${res.status}`);
    return `guest: ${res.status}`;
  });

  let version;
  const registered = await check(
    `a ${MODEL} version is registered with the external-access token`,
    async () => {
      // As a training job does with an MLflow client: the registered model
      // (for the catalog Model of the same name), then a version. The
      // catalog reads examples/ after startup: until the Model is ingested
      // the registry refuses it as having no catalog Model.
      const deadline = Date.now() + 180_000;
      for (;;) {
        try {
          await api('POST', '/mlflow/api/2.0/mlflow/registered-models/create', {
            name: MODEL,
          });
          break;
        } catch (e) {
          if (!/no catalog Model/.test(e.message) || Date.now() > deadline)
            throw e;
          await sleep(2000);
        }
      }
      ({ version } = await api('POST', `/registry/models/${MODEL}/versions`, {
        source: 'scripts/smoke-production.mjs',
        description: 'production smoke test',
      }));
      await api(
        'PUT',
        `/registry/models/${MODEL}/versions/${version}/artifact`,
        fs.readFileSync(ONNX),
        'application/octet-stream',
      );
      // Not moved to Production: the demo catalog's wine-quality Model gates
      // promotion on evaluation metrics this file has none of. The OIP route
      // names the version instead, which the data plane also serves.
      return `version ${version}`;
    },
  );

  const input = [7.4, 0.7, 0.0, 1.9];
  const infer = async url => {
    if (!registered) throw new Error('no version registered');
    // Expected: the same file run by onnxruntime-node here.
    const ort = require('onnxruntime-node');
    const session = await ort.InferenceSession.create(ONNX);
    const want = (
      await session.run({
        input: new ort.Tensor('float32', Float32Array.from(input), [1, 4]),
      })
    ).variable.data[0];
    const request = JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: input }],
    });
    // The routing table reaches the data plane within routingRefreshMs.
    const deadline = Date.now() + 60_000;
    let last;
    for (;;) {
      const res = await fetch(
        `${url}/v2/models/${MODEL}/versions/${version}/infer`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
          },
          body: request,
        },
      ).catch(e => ({
        ok: false,
        status: e.cause?.code ?? e.message,
        text: async () => '',
      }));
      const text = await res.text();
      last = `${res.status} ${text.slice(0, 300)}`;
      if (res.ok) {
        const body = JSON.parse(text);
        const got = body.outputs?.[0]?.data?.[0];
        if (String(body.model_version) !== String(version)) {
          throw new Error(
            `answered by version ${body.model_version}, not ${version}`,
          );
        }
        if (typeof got !== 'number' || Math.abs(got - want) > 1e-5) {
          throw new Error(`got ${got}, onnxruntime says ${want}`);
        }
        return `port ${new URL(url).port}: ${got.toFixed(4)}`;
      }
      if (Date.now() > deadline) throw new Error(last);
      await sleep(1000);
    }
  };

  await check(
    "the portal's data plane (mlops.serving.dataPlane) answers an OIP inference, as onnxruntime does",
    () => infer(dataPlaneUrl),
  );

  await check(
    'the data plane refuses a request without a token (401)',
    async () => {
      const res = await fetch(
        `${dataPlaneUrl}/v2/models/${MODEL}/versions/1/infer`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [
              { name: 'input', datatype: 'FP32', shape: [1, 4], data: input },
            ],
          }),
        },
      );
      if (res.status !== 401) throw new Error(`status ${res.status}`);
    },
  );

  const servingPort = Number(env.SMOKE_SERVING_PORT ?? (await freePort()));
  const servingUrl = `http://127.0.0.1:${servingPort}`;
  await check(
    'loopline-serving starts from its bundle and answers the same inference',
    async () => {
      const log = fs.openSync(SERVING_LOG, 'w');
      serving = spawn(
        process.execPath,
        ['packages/serving/bin/loopline-serving.js'],
        {
          cwd: servingDir,
          detached: true,
          stdio: ['ignore', log, log],
          env: {
            PATH: env.PATH,
            HOME: env.HOME,
            NODE_ENV: 'production',
            NODE_OPTIONS: '--preserve-symlinks',
            LOOPLINE_CONTROL_PLANE_URL: `${backendUrl}/api/mlops`,
            LOOPLINE_DATA_PLANE_TOKEN: dataPlaneToken,
            PORT: String(servingPort),
            HOST: '127.0.0.1',
          },
        },
      );
      fs.closeSync(log);
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (serving.exitCode !== null || serving.signalCode !== null) {
          throw new Error(
            `loopline-serving exited (${
              serving.exitCode ?? serving.signalCode
            }): ${tail(SERVING_LOG, 5)}`,
          );
        }
        const res = await fetch(`${servingUrl}/v2/health/ready`).catch(
          () => undefined,
        );
        if (res?.ok) break;
        if (Date.now() > deadline) throw new Error('not ready after 60 s');
        await sleep(500);
      }
      return infer(servingUrl);
    },
  );
  await stopProcess(serving);

  await check('the backend stops on SIGTERM, its workers with it', async () => {
    // As a container runtime does: SIGTERM to the main process only; the
    // data-plane workers must go by themselves.
    const pid = backend.pid;
    const exited = new Promise(r => backend.once('exit', r));
    process.kill(pid, 'SIGTERM');
    if (
      (await Promise.race([exited.then(() => true), sleep(30_000)])) !== true
    ) {
      throw new Error('still running 30 s after SIGTERM');
    }
    const groupAlive = () => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 10_000;
    while (groupAlive()) {
      if (Date.now() > deadline)
        throw new Error('workers still running 10 s after the backend exited');
      await sleep(200);
    }
    return `exit ${backend.exitCode ?? backend.signalCode}`;
  });
}

/** Unpacks a package's skeleton and bundle into a new folder, as its Dockerfile does. */
function unpack(packageDir) {
  const dist = path.join(ROOT, packageDir, 'dist');
  for (const f of ['skeleton.tar.gz', 'bundle.tar.gz']) {
    if (!fs.existsSync(path.join(dist, f)))
      throw new Error(`no ${packageDir}/dist/${f}: build first`);
  }
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-smoke-'));
  run('tar', ['xzf', path.join(dist, 'skeleton.tar.gz'), '-C', target]);
  run('tar', ['xzf', path.join(dist, 'bundle.tar.gz'), '-C', target]);
  linkNodeModules(target, path.join(dist, 'skeleton.tar.gz'));
  return target;
}

/** node_modules of an unpacked folder: see the header. */
function linkNodeModules(target, skeletonFile) {
  const from = path.join(ROOT, 'node_modules');
  const to = path.join(target, 'node_modules');
  fs.mkdirSync(to);
  for (const entry of fs.readdirSync(from)) {
    if (entry.startsWith('.') || WORKSPACE_LINKS.includes(entry)) continue;
    fs.symlinkSync(path.join(from, entry), path.join(to, entry));
  }
  // The workspace packages the bundle holds, and their own nested
  // node_modules (versions npm could not hoist).
  const skeleton = spawnSync('tar', ['tzf', skeletonFile], {
    encoding: 'utf8',
  }).stdout;
  for (const file of skeleton.split('\n').filter(Boolean)) {
    const pkgDir = path.dirname(file);
    const { name } = JSON.parse(
      fs.readFileSync(path.join(target, file), 'utf8'),
    );
    const link = path.join(to, name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(target, pkgDir), link);
    const nested = path.join(ROOT, pkgDir, 'node_modules');
    if (fs.existsSync(nested))
      fs.symlinkSync(nested, path.join(target, pkgDir, 'node_modules'));
  }
}

try {
  await main();
} catch (e) {
  await check('smoke test ran', () => Promise.reject(e));
} finally {
  const failedAny = results.includes(false);
  if (failedAny && fs.existsSync(LOG)) {
    console.log(
      `--- last lines of ${path.relative(ROOT, LOG)} ---\n${tail(LOG)}`,
    );
  }
  await cleanup();
  const passed = results.filter(Boolean).length;
  const failed = results.length - passed;
  if (results.length === 0) console.log('✗ nothing ran');
  console.log(`SMOKE: ${passed} passed, ${results.length ? failed : 1} failed`);
  process.exitCode = failed === 0 && results.length > 0 ? 0 : 1;
}
