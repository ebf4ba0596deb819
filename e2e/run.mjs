#!/usr/bin/env node
// Browser end-to-end test of the Loopline portal.
//
// Starts the portal exactly as the README says (`npm start` at the repo root),
// waits for the backend and the frontend, then drives Debian's Chromium through
// playwright-core: sign in as Alice, the ML overview, the wine-quality model page.
// Always stops the whole portal process group at the end.
//
// Environment (all optional):
//   E2E_APP_PORT=3000 E2E_BACKEND_PORT=7007   ports of the portal it starts
//   E2E_BASE_URL=http://localhost:$E2E_APP_PORT
//   E2E_BACKEND_URL=http://localhost:$E2E_BACKEND_PORT
//   E2E_START_PORTAL=0          test an already running portal instead of starting one
//   E2E_START_TIMEOUT_MS=600000 E2E_STEP_TIMEOUT_MS=60000
//   E2E_CHROMIUM=/usr/bin/chromium
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'test-results', 'e2e');
const LOG = path.join(OUT, 'portal.log');

const env = process.env;
const APP_PORT = Number(env.E2E_APP_PORT ?? 3000);
const BACKEND_PORT = Number(env.E2E_BACKEND_PORT ?? 7007);
const BASE_URL = (env.E2E_BASE_URL ?? `http://localhost:${APP_PORT}`).replace(
  /\/$/,
  '',
);
const BACKEND_URL = (
  env.E2E_BACKEND_URL ?? `http://localhost:${BACKEND_PORT}`
).replace(/\/$/, '');
const START_PORTAL = env.E2E_START_PORTAL !== '0';
const START_TIMEOUT = Number(env.E2E_START_TIMEOUT_MS ?? 10 * 60_000);
const STEP_TIMEOUT = Number(env.E2E_STEP_TIMEOUT_MS ?? 60_000);
const CHROMIUM = env.E2E_CHROMIUM ?? '/usr/bin/chromium';

const results = [];
let portal; // the `npm start` child, leader of its own process group
let browser;

function pass(name, detail) {
  results.push({ name, ok: true });
  console.log(`✓ ${name}${detail ? ` (${detail})` : ''}`);
}
function fail(name, reason) {
  results.push({ name, ok: false });
  console.log(`✗ ${name}: ${String(reason).split('\n')[0]}`);
}
async function check(name, fn) {
  try {
    const detail = await fn();
    pass(name, detail);
    return true;
  } catch (e) {
    fail(name, e?.message ?? e);
    return false;
  }
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

function portInUse(port) {
  return new Promise(resolve => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(2000);
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
    s.on('timeout', () => (s.destroy(), resolve(false)));
  });
}

// ---- portal lifecycle ----------------------------------------------------

function startPortal() {
  fs.writeFileSync(LOG, '');
  const fd = fs.openSync(LOG, 'a');
  const childEnv = { ...env };
  // Other ports than app-config.yaml's: override it through APP_CONFIG_ variables.
  if (APP_PORT !== 3000 || BACKEND_PORT !== 7007) {
    Object.assign(childEnv, {
      APP_CONFIG_app_baseUrl: `http://localhost:${APP_PORT}`,
      APP_CONFIG_backend_baseUrl: `http://localhost:${BACKEND_PORT}`,
      APP_CONFIG_backend_listen_port: String(BACKEND_PORT),
      APP_CONFIG_backend_cors_origin: `http://localhost:${APP_PORT}`,
      // The serving data plane's port (7008 in app-config.yaml) moves along.
      APP_CONFIG_mlops_serving_dataPlane_port: String(BACKEND_PORT + 1),
    });
  }
  portal = spawn('npm', ['start'], {
    cwd: ROOT,
    env: childEnv,
    detached: true, // own process group, so that we can stop all of it
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  portal.exited = false;
  portal.on('exit', (code, signal) => {
    portal.exited = true;
    portal.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
  });
}

// Every descendant of pid (a dev server may put a child in another group).
function descendants(pid) {
  let rows;
  try {
    rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(l => l.trim().split(/\s+/).map(Number));
  } catch {
    return [];
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift();
    for (const [c, pp] of rows) {
      if (pp === p) {
        out.push(c);
        queue.push(c);
      }
    }
  }
  return out;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalAll(pgid, pids, sig) {
  try {
    process.kill(-pgid, sig);
  } catch {}
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {}
  }
}

let stopping;
async function stopPortal() {
  if (!portal?.pid) return;
  stopping ??= (async () => {
    const pgid = portal.pid;
    const pids = [pgid, ...descendants(pgid)];
    signalAll(pgid, pids, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    const anyAlive = () =>
      groupAlive(pgid) ||
      pids.some(p => {
        try {
          process.kill(p, 0);
          return true;
        } catch {
          return false;
        }
      });
    while (anyAlive() && Date.now() < deadline) await sleep(250);
    if (anyAlive()) signalAll(pgid, pids, 'SIGKILL');
    await sleep(500);
  })();
  await stopping;
}

async function cleanup() {
  try {
    await browser?.close();
  } catch {}
  await stopPortal();
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    console.log(`\nE2E: interrupted by ${sig}, stopping the portal`);
    await cleanup();
    process.exit(130);
  });
}

const t0 = Date.now();
async function waitForUrl(url, accept) {
  const deadline = t0 + START_TIMEOUT;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (portal?.exited) {
      throw new Error(
        `npm start exited (${portal.exitInfo}) before ${url} answered`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const body = await res.text();
      if (accept(res, body)) return `${Math.round((Date.now() - t0) / 1000)} s`;
      last = `HTTP ${res.status} ${body.slice(0, 120).replace(/\s+/g, ' ')}`;
    } catch (e) {
      last = e?.cause?.code ?? e?.message ?? String(e);
    }
    await sleep(2000);
  }
  throw new Error(
    `${url} not ready after ${START_TIMEOUT / 1000} s (last: ${last})`,
  );
}

// ---- browser steps ---------------------------------------------------------

// Text shown exactly as one of the alternatives (an entity's name or title).
function anyExactText(page, texts) {
  let loc = page.getByText(texts[0], { exact: true });
  for (const t of texts.slice(1))
    loc = loc.or(page.getByText(t, { exact: true }));
  return loc.first();
}

async function expectVisible(page, texts) {
  const loc = anyExactText(page, texts);
  await loc.waitFor({ state: 'visible', timeout: STEP_TIMEOUT }).catch(() => {
    throw new Error(
      `none of ${texts.map(t => `"${t}"`).join(', ')} visible on ${page.url()}`,
    );
  });
  return `"${(await loc.innerText()).trim()}"`;
}

// The dev server's error overlay ("Failed to compile" ...), in the page or an iframe.
async function compileError(page) {
  for (const frame of page.frames()) {
    const text = await frame
      .evaluate(() => document.body?.innerText ?? '')
      .catch(() => '');
    const at = text.search(/Failed to compile|Compiled with problems/);
    if (at >= 0) {
      const lines = text
        .slice(at)
        .split('\n')
        .map(l => l.trim())
        .filter(Boolean);
      const detail =
        lines.find(l => /not found|cannot|can't/i.test(l)) ??
        lines.find(l => /error/i.test(l)) ??
        lines[1] ??
        '';
      return `${lines[0]} ${detail}`.trim();
    }
  }
  return undefined;
}

async function shot(page, file) {
  await page
    .screenshot({ path: path.join(OUT, file), fullPage: true })
    .catch(() => {});
}

const ML_OVERVIEW = 'ML overview lists the wine-quality model';
const MODEL_PAGE = 'model page /catalog/default/model/wine-quality opens';
// Each relation is shown by the entity's name or, by Backstage's entity links, its title.
const RELATIONS = [
  [
    'model page shows the trained-on dataset wine-features',
    [
      'wine-features',
      'Wine features',
      'dataset:wine-features',
      'dataset:default/wine-features',
    ],
  ],
  [
    'model page shows the producing pipeline wine-quality-training',
    [
      'wine-quality-training',
      'Wine quality training',
      'pipeline:wine-quality-training',
      'pipeline:default/wine-quality-training',
    ],
  ],
  [
    'model page shows the owner wine-science',
    [
      'wine-science',
      'Wine Science',
      'group:wine-science',
      'group:default/wine-science',
    ],
  ],
];
let frontendBroken;

async function browserChecks() {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1440, height: 1000 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const browserLog = fs.createWriteStream(path.join(OUT, 'browser.log'));
  page.on('console', m => browserLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', e => browserLog.write(`[pageerror] ${e.message}\n`));

  const signedIn = await check('sign in as Alice Vintner', async () => {
    await page.goto(BASE_URL, { waitUntil: 'domcontentloaded' });
    const alice = page.getByRole('button', {
      name: 'Sign in as Alice Vintner',
    });
    const guest = page.getByRole('button', { name: 'Enter as guest' });
    await alice
      .or(guest)
      .first()
      .waitFor({ timeout: STEP_TIMEOUT })
      .catch(async () => {
        await shot(page, 'sign-in.png');
        const broken = await compileError(page);
        if (broken) {
          frontendBroken = broken;
          throw new Error(`the frontend does not compile: ${broken}`);
        }
        throw new Error(
          'neither "Sign in as Alice Vintner" nor "Enter as guest" button appeared',
        );
      });
    await shot(page, 'sign-in.png');
    if (await alice.isVisible()) {
      await alice.click();
      // Signed in once the app shell (its sidebar) shows; the button goes
      // away earlier, while the sign-in request is still under way.
      await page
        .getByRole('link', { name: 'ML', exact: true })
        .waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
      return undefined;
    }
    // Go on as guest so that the other checks still run, but this check fails.
    await guest.first().click();
    await guest.first().waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
    throw new Error(
      'no "Sign in as Alice Vintner" button; entered as guest instead',
    );
  });
  if (!signedIn) await shot(page, 'after-sign-in.png');
  if (frontendBroken) {
    // No page can work: fail the remaining checks at once instead of waiting for each.
    for (const name of [
      ML_OVERVIEW,
      MODEL_PAGE,
      ...RELATIONS.map(([n]) => n),
    ]) {
      fail(name, 'skipped: the frontend does not compile');
    }
    for (const [url, file] of [
      ['/ml', 'ml-overview.png'],
      ['/catalog/default/model/wine-quality', 'wine-quality.png'],
    ]) {
      await page.goto(BASE_URL + url, { waitUntil: 'load' }).catch(() => {});
      await shot(page, file);
    }
    return;
  }

  await check(ML_OVERVIEW, async () => {
    // Through the sidebar, as a user would.
    await page.getByRole('link', { name: 'ML', exact: true }).click();
    try {
      return await expectVisible(page, ['wine-quality', 'Wine quality']);
    } finally {
      await shot(page, 'ml-overview.png');
    }
  });

  await check(MODEL_PAGE, async () => {
    await page.goto(`${BASE_URL}/catalog/default/model/wine-quality`, {
      waitUntil: 'domcontentloaded',
    });
    return expectVisible(page, ['wine-quality', 'Wine quality']);
  });
  for (const [name, texts] of RELATIONS)
    await check(name, () => expectVisible(page, texts));
  await check(
    'relations graph draws the model with its dataset and pipeline',
    async () => {
      const graph = page
        .locator('svg')
        .filter({ hasText: /wine-features|Wine features/ })
        .filter({ hasText: /wine-quality-training|Wine quality training/ });
      await graph.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
      return `${await graph.first().locator('g').count()} svg groups`;
    },
  );
  await shot(page, 'wine-quality.png');
  await registryChecks(browser, page, browserLog);
  await deploymentChecks(page);
  await scenarioChecks({ browser, page });
  browserLog.end();
}

// ---- scenarios: one file per area under e2e/scenarios, run in name order ------

/**
 * Each `e2e/scenarios/<nn>-<area>.mjs` exports a default `async (ctx) => void`
 * that runs its checks with `ctx.check`, so areas add journeys without editing
 * this file. They run after the registry and rollout checks, on the same page.
 */
async function scenarioChecks({ browser, page }) {
  const dir = path.join(ROOT, 'e2e', 'scenarios');
  if (!fs.existsSync(dir)) return;
  const ctx = {
    browser,
    page,
    check,
    shot,
    expectVisible,
    api,
    registerVersion,
    startTraffic,
    sleep,
    ROOT,
    OUT,
    BASE_URL,
    BACKEND_URL,
    API,
    DEMO_TOKEN,
    STEP_TIMEOUT,
  };
  for (const file of fs.readdirSync(dir).filter(f => f.endsWith('.mjs')).sort()) {
    const scenario = await import(path.join(dir, file));
    await check(`scenario ${file} loads`, async () => {
      if (typeof scenario.default !== 'function')
        throw new Error('no default export function');
    });
    await scenario.default(ctx);
  }
}

// ---- registry: versions, experiments, a promotion, a refusal -------------------

const VERSIONS_URL = '/catalog/default/model/wine-quality/versions';
const PROMOTION_COMMENT = `e2e: val_rmse better on the hold-out (${new Date().toISOString()})`;

function versionRow(page, stage) {
  return page
    .getByRole('row')
    .filter({ has: page.getByText(stage, { exact: true }) })
    .first();
}

async function registryChecks(browser, page, browserLog) {
  const versionsShown = await check(
    'Versions tab lists a Production and a Staging version',
    async () => {
      await page.getByRole('tab', { name: 'Versions' }).click();
      await versionRow(page, 'Production').waitFor({ timeout: STEP_TIMEOUT });
      await versionRow(page, 'Staging').waitFor({ timeout: STEP_TIMEOUT });
      await shot(page, 'wine-quality-versions.png');
      return `${await page.getByRole('row').count()} rows`;
    },
  );

  if (versionsShown) {
    await check(
      'an owner (Alice) moves the Staging version to Production with a comment, seen in the history',
      async () => {
        const staging = versionRow(page, 'Staging');
        await staging.getByRole('button', { name: 'Transition stage' }).click();
        const dialog = page.getByRole('dialog');
        await dialog
          .getByLabel('Stage', { exact: true })
          .selectOption('Production');
        await dialog
          .getByLabel('Comment', { exact: true })
          .fill(PROMOTION_COMMENT);
        await dialog
          .getByRole('checkbox', {
            name: 'Archive existing versions in that stage',
          })
          .check();
        await dialog
          .getByRole('button', { name: 'Transition', exact: true })
          .click();
        await dialog.waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
        await page
          .getByText(PROMOTION_COMMENT)
          .first()
          .waitFor({ timeout: STEP_TIMEOUT });
        await versionRow(page, 'Archived').waitFor({ timeout: STEP_TIMEOUT });
        await shot(page, 'wine-quality-promoted.png');
        return undefined;
      },
    );
  }

  await check(
    'Experiments tab compares the metric histories of two runs in a chart',
    async () => {
      // A dialog left open by a failed step above would block the tabs.
      await page.keyboard.press('Escape');
      await page.getByRole('tab', { name: 'Experiments' }).click();
      const boxes = page.getByRole('checkbox', { name: /^Select run / });
      await boxes.first().waitFor({ timeout: STEP_TIMEOUT });
      const runs = await boxes.count();
      if (runs < 2) throw new Error(`only ${runs} run(s) listed`);
      await boxes.nth(0).check();
      await boxes.nth(1).check();
      const chart = page
        .getByRole('img')
        .filter({ has: page.locator('path, polyline, circle') });
      await chart.first().waitFor({ timeout: STEP_TIMEOUT });
      // The learning curve has a point per tenth of the data: a line, not a dot.
      const metricSelect = page.getByLabel('Metric', { exact: true });
      if (
        (await metricSelect.locator('option[value="val_rmse"]').count()) > 0
      ) {
        await metricSelect.selectOption('val_rmse');
      }
      const metric = await metricSelect.inputValue();
      await chart.first().scrollIntoViewIfNeeded();
      await sleep(500);
      await page
        .screenshot({ path: path.join(OUT, 'wine-quality-experiments.png') })
        .catch(() => {});
      return `${runs} runs, comparing "${metric}"`;
    },
  );

  await check(
    'Serving card: the try-it form gets a prediction from the served version',
    async () => {
      await page.keyboard.press('Escape');
      await page.getByRole('tab', { name: 'Overview' }).click();
      const form = page.getByRole('form', { name: 'Try wine-quality' });
      await form.waitFor({ timeout: STEP_TIMEOUT });
      // The first red wine of the demo data.
      const wine = {
        fixed_acidity: '7.4',
        volatile_acidity: '0.7',
        citric_acid: '0',
        residual_sugar: '1.9',
        chlorides: '0.076',
        free_sulfur_dioxide: '11',
        total_sulfur_dioxide: '34',
        density: '0.9978',
        pH: '3.51',
        sulphates: '0.56',
        alcohol: '9.4',
        is_red: '1',
      };
      for (const [name, value] of Object.entries(wine)) {
        const field = form.getByLabel(name, { exact: true });
        if ((await field.count()) > 0) await field.first().fill(value);
      }
      await form.getByRole('button', { name: 'Predict' }).click();
      const prediction = page.getByLabel('Prediction', { exact: true });
      await prediction.waitFor({ timeout: STEP_TIMEOUT });
      const value = (await prediction.innerText()).trim();
      if (!/\d/.test(value))
        throw new Error(`prediction "${value}" is not a number`);
      await form.scrollIntoViewIfNeeded();
      await sleep(500);
      await page
        .screenshot({ path: path.join(OUT, 'wine-quality-serving.png') })
        .catch(() => {});
      return `prediction ${value}`;
    },
  );

  // A second user in a fresh session: Carol does not own the wine models.
  await check(
    'a non-owner (Carol) sees the versions but no stage or alias actions',
    async () => {
      const context = await browser.newContext({
        viewport: { width: 1440, height: 1000 },
      });
      const carol = await context.newPage();
      carol.setDefaultTimeout(STEP_TIMEOUT);
      carol.on('pageerror', e =>
        browserLog.write(`[carol pageerror] ${e.message}\n`),
      );
      try {
        await carol.goto(BASE_URL, { waitUntil: 'domcontentloaded' });
        await carol
          .getByRole('button', { name: 'Sign in as Carol Retention' })
          .click();
        await carol
          .getByRole('link', { name: 'ML', exact: true })
          .waitFor({ timeout: STEP_TIMEOUT });
        await carol.goto(BASE_URL + VERSIONS_URL, {
          waitUntil: 'domcontentloaded',
        });
        await versionRow(carol, 'Production').waitFor({
          timeout: STEP_TIMEOUT,
        });
        // Permission decisions arrive after the rows: give them time to show buttons.
        await sleep(3000);
        await shot(carol, 'wine-quality-versions-carol.png');
        const actions = await carol
          .getByRole('button', {
            name: /Transition stage|Set alias|Remove alias/,
          })
          .count();
        if (actions > 0)
          throw new Error(`${actions} action button(s) offered to Carol`);
        return undefined;
      } finally {
        await context.close();
      }
    },
  );
}

// ---- rollouts: a canary promoted by its analyses, a bad version rolled back ----

const API = `${BACKEND_URL}/api/mlops`;
const DEMO_TOKEN = env.LOOPLINE_DEMO_TOKEN ?? 'loopline-demo-token-change-me';
const ROLLOUT_TIMEOUT = Number(env.E2E_ROLLOUT_TIMEOUT_MS ?? 240_000);

async function api(method, route, body, type = 'application/json') {
  const res = await fetch(`${API}${route}`, {
    method,
    headers: { Authorization: `Bearer ${DEMO_TOKEN}`, 'Content-Type': type },
    body:
      body === undefined || type !== 'application/json'
        ? body
        : JSON.stringify(body),
  });
  if (!res.ok)
    throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json')
    ? res.json()
    : Buffer.from(await res.arrayBuffer());
}

/** Registers a version of wine-quality with the given ONNX bytes; returns its number. */
async function registerVersion(bytes, description) {
  const { version } = await api(
    'POST',
    '/registry/models/wine-quality/versions',
    {
      source: 'e2e',
      description,
    },
  );
  await api(
    'PUT',
    `/registry/models/wine-quality/versions/${version}/artifact`,
    bytes,
    'application/octet-stream',
  );
  return version;
}

/** Real wine rows through the routed predict route until stopped; counts what answered. */
function startTraffic() {
  const [header, ...lines] = fs
    .readFileSync(path.join(ROOT, 'examples/data/winequality.csv'), 'utf8')
    .trim()
    .split('\n');
  const columns = header.split(',');
  const rows = lines.map(line => {
    const cells = line.split(',');
    const row = Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
    const features = {};
    for (const c of columns.slice(0, 11)) features[c] = Number(row[c]);
    features.is_red = row.color === 'red' ? 1 : 0;
    return features;
  });
  const stats = { ok: 0, failed: 0, byVersion: {}, lastError: undefined };
  let running = true;
  const worker = async offset => {
    for (let i = offset; running; i += 4) {
      try {
        const body = await api('POST', '/serving/models/wine-quality/predict', {
          // A prime stride spreads a short run over the whole file (red and
          // white), so that monitoring sees the traffic as like its reference.
          features: rows[(i * 7919) % rows.length],
        });
        stats.ok += 1;
        stats.byVersion[body.version] =
          (stats.byVersion[body.version] ?? 0) + 1;
      } catch (e) {
        stats.failed += 1;
        stats.lastError = e.message;
      }
      await sleep(40);
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function startRolloutInUi(page, version, comment) {
  const controls = page.getByRole('group', { name: 'Controls of production' });
  await controls.getByRole('button', { name: 'Start rollout' }).click();
  const dialog = page.getByRole('dialog');
  const select = dialog.getByLabel('Version', { exact: true });
  const option = select.locator('option', { hasText: `Version ${version} ` });
  await select.selectOption(await option.first().getAttribute('value'));
  await dialog.getByLabel('Comment', { exact: true }).fill(comment);
  await dialog.getByRole('button', { name: 'Start', exact: true }).click();
  await dialog.waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
}

async function waitForState(page, label) {
  const section = page
    .getByRole('region', { name: 'Deployment to production' })
    .or(page.locator('section[aria-label="Deployment to production"]'));
  await section
    .first()
    .getByText(label, { exact: true })
    .first()
    .waitFor({ timeout: ROLLOUT_TIMEOUT });
}

async function deploymentChecks(page) {
  const bytes = await api(
    'GET',
    '/registry/models/wine-quality/versions/1/artifact',
  ).catch(() => undefined);
  let good;
  const started = await check(
    'an owner (Alice) starts a canary from the Deployments tab',
    async () => {
      if (!bytes) throw new Error('could not read version 1 of wine-quality');
      good = await registerVersion(bytes, 'e2e: retrained, same features');
      await page.keyboard.press('Escape');
      await page.getByRole('tab', { name: 'Deployments' }).click();
      await startRolloutInUi(page, good, 'e2e: canary of a good version');
      await waitForState(page, 'Progressing');
      return `version ${good}`;
    },
  );
  if (!started) return;

  await check(
    'with traffic, the canary steps advance to promotion by themselves',
    async () => {
      const traffic = startTraffic();
      try {
        await waitForState(page, 'Promoted');
      } finally {
        await traffic.stop();
      }
      await sleep(500);
      await shot(page, 'wine-quality-deployments.png');
      const { ok, failed, byVersion } = traffic.stats;
      if (failed > 0)
        throw new Error(
          `${failed} requests failed: ${traffic.stats.lastError}`,
        );
      return `${ok} requests, answered by ${JSON.stringify(byVersion)}`;
    },
  );

  await check(
    'a deliberately bad version is rolled back by itself, unseen by clients',
    async () => {
      const bad = await registerVersion(
        fs.readFileSync(
          path.join(ROOT, 'examples/rollout/wine-quality-4-features.onnx'),
        ),
        'e2e: trained on 4 of the 12 features',
      );
      await startRolloutInUi(page, bad, 'e2e: canary of a bad version');
      const traffic = startTraffic();
      try {
        await waitForState(page, 'Rolled back');
      } finally {
        await traffic.stop();
      }
      await sleep(500);
      await shot(page, 'wine-quality-rolled-back.png');
      const { ok, failed, byVersion } = traffic.stats;
      if (failed > 0)
        throw new Error(
          `${failed} requests failed: ${traffic.stats.lastError}`,
        );
      if (byVersion[bad])
        throw new Error(`version ${bad} answered ${byVersion[bad]} requests`);
      return `${ok} requests, answered by ${JSON.stringify(byVersion)}`;
    },
  );

  await check(
    "the model's owner (Alice) is notified of the automatic rollback",
    async () => {
      await page.goto(`${BASE_URL}/notifications`, {
        waitUntil: 'domcontentloaded',
      });
      const note = page
        .getByText(/wine-quality v\d+ in production: rollout rolled back/)
        .first();
      await note.waitFor({ timeout: STEP_TIMEOUT });
      await shot(page, 'notifications.png');
      return (await note.innerText()).trim();
    },
  );
}

// ---- main -------------------------------------------------------------------

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  console.log(
    `E2E: portal ${BASE_URL}, backend ${BACKEND_URL}, screenshots and logs in ${path.relative(
      ROOT,
      OUT,
    )}/`,
  );

  if (!fs.existsSync(CHROMIUM)) {
    fail(
      'chromium present',
      `${CHROMIUM} is missing (apt-get install -y chromium)`,
    );
    return;
  }

  if (START_PORTAL) {
    const busy = [];
    for (const p of [APP_PORT, BACKEND_PORT])
      if (await portInUse(p)) busy.push(p);
    if (busy.length) {
      fail(
        'portal starts',
        `port ${busy.join(
          ' and ',
        )} already in use (another portal running? stop it, or set E2E_APP_PORT/E2E_BACKEND_PORT, or E2E_START_PORTAL=0 to test it)`,
      );
      return;
    }
    console.log(
      `E2E: starting the portal with \`npm start\` (log: ${path.relative(
        ROOT,
        LOG,
      )}), waiting up to ${START_TIMEOUT / 1000} s`,
    );
    startPortal();
  }

  const up = await check(
    'portal starts (backend ready, frontend served)',
    async () => {
      const t1 = await waitForUrl(
        `${BACKEND_URL}/.backstage/health/v1/readiness`,
        r => r.ok,
      );
      const t2 = await waitForUrl(
        BASE_URL,
        (r, body) => r.ok && /<html/i.test(body),
      );
      return `backend after ${t1}, frontend after ${t2}`;
    },
  );
  if (!up) {
    if (START_PORTAL)
      console.log(
        `--- last lines of ${path.relative(ROOT, LOG)} ---\n${tail(LOG)}\n---`,
      );
    return;
  }

  await browserChecks();
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  fail('e2e run', e?.stack ?? e);
} finally {
  await cleanup();
  const passed = results.filter(r => r.ok).length;
  const failed = results.length - passed;
  if (failed === 0 && passed === 0) {
    console.log('✗ e2e run: no check ran');
  }
  const failedTotal = failed || (passed === 0 ? 1 : 0);
  console.log(`E2E: ${passed} passed, ${failedTotal} failed`);
  exitCode = failedTotal ? 1 : 0;
}
process.exit(exitCode);
