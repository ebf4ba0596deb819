// Monitoring: the demo's traffic generator in drift mode (alcohol and
// sulphates of the real wine rows shifted by 1.5 standard deviations, ground
// truth sent) until the Model's schedule (every minute over the last five)
// reports those features drifted; the Drift tab shows them, the ML overview
// shows the drift badge, and the owner (Alice, signed in) is notified.
import { spawn } from 'node:child_process';
import path from 'node:path';

const SHIFTED = ['alcohol', 'sulphates'];
const DETECT_TIMEOUT = Number(process.env.E2E_DRIFT_TIMEOUT_MS ?? 240_000);

export default async function drift(ctx) {
  const { page, check, shot, api, sleep, ROOT, BASE_URL, BACKEND_URL } = ctx;
  const started = Date.now();
  const traffic = spawn(
    process.execPath,
    [
      path.join(ROOT, 'examples/rollout/traffic.mjs'),
      '--rps',
      '30',
      '--seconds',
      String(Math.ceil(DETECT_TIMEOUT / 1000)),
      '--drift',
      SHIFTED.join(','),
      '--shift',
      '1.5',
    ],
    {
      env: {
        ...process.env,
        LOOPLINE_URL: BACKEND_URL,
        LOOPLINE_TOKEN: ctx.DEMO_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  traffic.stdout.on('data', d => (output = (output + d).slice(-2000)));
  traffic.stderr.on('data', d => (output = (output + d).slice(-2000)));

  let report;
  try {
    await check(
      'drifted traffic: the scheduled check reports the shifted features as drifted',
      async () => {
        while (Date.now() - started < DETECT_TIMEOUT) {
          await sleep(5000);
          if (traffic.exitCode !== null)
            throw new Error(`traffic.mjs exited: ${output}`);
          const { latest } = await api(
            'GET',
            '/monitoring/models/wine-quality/drift',
          );
          if (
            latest &&
            latest.trigger === 'schedule' &&
            Date.parse(latest.createdAt) > started &&
            SHIFTED.every(f => latest.features.find(x => x.name === f)?.drifted)
          ) {
            report = latest;
            return `after ${Math.round((Date.now() - started) / 1000)} s: v${
              latest.version
            }, ${latest.numberOfDriftedColumns} of ${
              latest.numberOfColumns
            } drifted (${latest.features
              .filter(f => f.drifted)
              .map(f => f.name)
              .join(', ')}) over ${latest.rowCount} requests`;
          }
        }
        throw new Error(
          `no drift report within ${DETECT_TIMEOUT} ms; traffic: ${output}`,
        );
      },
    );
  } finally {
    traffic.kill('SIGTERM');
  }

  await check(
    'the Drift tab shows the shifted features as drifted',
    async () => {
      if (!report) throw new Error('no drift report to show');
      await page.goto(`${BASE_URL}/catalog/default/model/wine-quality/drift`, {
        waitUntil: 'domcontentloaded',
      });
      await page
        .getByTestId('drift-status')
        .waitFor({ timeout: ctx.STEP_TIMEOUT });
      const rows = [];
      for (const feature of SHIFTED) {
        const row = page.getByRole('row').filter({ hasText: feature }).first();
        await row.getByText('drifted', { exact: true }).waitFor({
          timeout: ctx.STEP_TIMEOUT,
        });
        rows.push(feature);
      }
      await shot(page, 'wine-quality-drift.png');
      return `${rows.join(', ')} drifted; status "${(
        await page.getByTestId('drift-status').innerText()
      ).trim()}"`;
    },
  );

  await check(
    'the ML overview shows the drift badge of wine-quality',
    async () => {
      await page.goto(`${BASE_URL}/ml`, { waitUntil: 'domcontentloaded' });
      const row = page
        .getByRole('row')
        .filter({ hasText: /Wine quality|wine-quality/ })
        .first();
      const badge = row.locator('[data-drift-status="drift"]');
      await badge.waitFor({ timeout: ctx.STEP_TIMEOUT });
      await shot(page, 'ml-overview-drift.png');
      return (await row.innerText()).replace(/\s+/g, ' ').trim();
    },
  );

  await check(
    "the model's owner (Alice) is notified of the drift",
    async () => {
      await page.goto(`${BASE_URL}/notifications`, {
        waitUntil: 'domcontentloaded',
      });
      // Its title, and its description naming the features shifted.
      const note = page
        .getByText(/wine-quality v\d+: data drift in \d+ of \d+ features/)
        .first();
      const features = page
        .getByText(new RegExp(`Drifted features: .*${SHIFTED[0]}`))
        .filter({ hasText: SHIFTED[1] })
        .first();
      await features.waitFor({ timeout: ctx.STEP_TIMEOUT });
      await note.waitFor({ timeout: ctx.STEP_TIMEOUT });
      await shot(page, 'notifications-drift.png');
      return `${(await note.innerText()).trim()}; ${(
        await features.innerText()
      ).trim()}`;
    },
  );
}
