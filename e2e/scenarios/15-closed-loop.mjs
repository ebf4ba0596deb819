// The closed loop, unattended: traffic in drift mode → a monitoring alert →
// `wine-quality-training` runs on the local runner (validate-data, train,
// evaluate against the Model's gates, register to Staging, canary) → the
// canary passes its analyses and is promoted to Production. Each step is
// asserted through the API and in the portal (Runs, Versions, Data docs,
// Drift, Deployments), with screenshots.
//
// An earlier scenario (11-drift) may already have raised the drift alert;
// an alert has a cooldown (10 minutes for wine-quality), so the run taken is
// the first one triggered by a model alert since that long before this
// scenario started: the alert this drift episode raised, whoever caused it.
import { spawn } from 'node:child_process';
import path from 'node:path';

const PIPELINE = 'wine-quality-training';
const MODEL = 'wine-quality';
const LOOP_TIMEOUT_MS = Number(process.env.E2E_LOOP_TIMEOUT_MS ?? 5 * 60_000);
const ALERT_COOLDOWN_MS = 10 * 60_000;
const STEPS = [
  'announce',
  'validate-data',
  'train',
  'evaluate',
  'register',
  'canary',
];

export default async function closedLoop(ctx) {
  const {
    check,
    shot,
    api,
    page,
    sleep,
    ROOT,
    BASE_URL,
    BACKEND_URL,
    DEMO_TOKEN,
    STEP_TIMEOUT,
  } = ctx;
  const started = Date.now();
  const mark = started - ALERT_COOLDOWN_MS;
  const deadline = started + LOOP_TIMEOUT_MS;
  const until = async (what, fn, pollMs = 3000) => {
    for (;;) {
      // A `final` error ends the wait; others (a 404 before the run exists...) are retried.
      const value = await fn().catch(e => {
        if (e?.final) throw e;
        return undefined;
      });
      if (value) return value;
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not within ${LOOP_TIMEOUT_MS / 1000} s of the loop's start`,
        );
      }
      await sleep(pollMs);
    }
  };

  // 1. The demo's traffic generator in drift mode (seven features shifted
  //    by 1.5 standard deviations), for the whole loop: the canary needs
  //    traffic to pass its analyses too.
  const traffic = spawn(
    process.execPath,
    [
      path.join(ROOT, 'examples/rollout/traffic.mjs'),
      '--rps',
      '10',
      '--seconds',
      String(Math.ceil(LOOP_TIMEOUT_MS / 1000) + 60),
      // Seven of the twelve features: past the share that makes it dataset drift (50%).
      '--drift',
      'alcohol,sulphates,pH,density,residual_sugar,fixed_acidity,volatile_acidity',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOOPLINE_URL: BACKEND_URL,
        LOOPLINE_TOKEN: DEMO_TOKEN,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let trafficError = '';
  traffic.stderr.on('data', d => (trafficError += d));
  const stopTraffic = () => {
    if (traffic.exitCode === null && traffic.pid) {
      try {
        process.kill(traffic.pid, 'SIGTERM');
      } catch {}
    }
  };

  let run;
  let version;
  try {
    await check(
      'closed loop: drift traffic raises a monitoring alert on wine-quality',
      async () => {
        const alert = await until('a monitoring alert', async () => {
          if (traffic.exitCode !== null) {
            throw Object.assign(
              new Error(
                `the traffic generator stopped: ${trafficError.trim()}`,
              ),
              {
                final: true,
              },
            );
          }
          const { items } = await api(
            'GET',
            `/audit?entityRef=${encodeURIComponent(
              `model:default/${MODEL}`,
            )}&limit=100`,
          );
          return items.find(
            e =>
              e.action.startsWith('monitoring.alert.') &&
              Date.parse(e.createdAt) >= mark,
          );
        });
        const drift = await api('GET', `/monitoring/models/${MODEL}/drift`);
        return `${alert.action}: ${alert.comment} (latest report: ${
          drift.latest
            ? `${Math.round(
                drift.latest.shareOfDriftedColumns * 100,
              )}% of features drifted`
            : 'none'
        })`;
      },
    );

    await check(
      `closed loop: the alert starts ${PIPELINE} on the local runner with the alert as parameters`,
      async () => {
        run = await until('a run triggered by the alert', async () => {
          const { items } = await api(
            'GET',
            `/pipelines/${PIPELINE}/runs?limit=50`,
          );
          const triggered = items
            .filter(
              r =>
                r.trigger.type === 'drift' && Date.parse(r.createdAt) >= mark,
            )
            .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
          return triggered[0];
        });
        if (run.runner !== 'local') throw new Error(`runner ${run.runner}`);
        if (!run.parameters.alert_kind)
          throw new Error('no alert parameters on the run');
        return `run ${run.id.slice(0, 8)}: ${run.trigger.cause}`;
      },
    );
    if (!run) return;

    await check(
      'closed loop: validate-data, train, evaluate (gates), register and canary all succeed',
      async () => {
        run = await until(
          'the run to finish',
          async () => {
            const current = await api(
              'GET',
              `/pipelines/${PIPELINE}/runs/${run.id}`,
            );
            if (current.state === 'failed' || current.state === 'cancelled') {
              throw Object.assign(
                new Error(`run ${current.state}: ${current.reason}`),
                { final: true },
              );
            }
            return current.state === 'succeeded' && current;
          },
          2000,
        );
        const states = run.steps.map(s => `${s.name}:${s.state}`);
        const expected = STEPS.map(s => `${s}:succeeded`);
        if (states.join() !== expected.join())
          throw new Error(`steps ${states.join(', ')}`);
        version = run.outputs.modelVersions.find(
          v => v.name === MODEL,
        )?.version;
        if (!version) throw new Error('no model version registered');
        if (!run.outputs.rollouts.some(r => r.version === version))
          throw new Error('no canary started');
        const logs = await api(
          'GET',
          `/pipelines/${PIPELINE}/runs/${run.id}/logs?limit=500`,
        );
        const texts = logs.items.map(l => l.text);
        for (const needle of [
          /^PASS expect_table_row_count_to_be_between/,
          /^PASS metric:rmse/,
          /^PASS latencyP95/,
        ]) {
          if (!texts.some(t => needle.test(t)))
            throw new Error(`no log line ${needle}`);
        }
        return `v${version} registered, canary started; ${texts.length} log lines`;
      },
    );
    if (!version) return;

    await check(
      'closed loop: the data docs, the gate result, the lineage and the audit of the run',
      async () => {
        const docs = await api(
          'GET',
          '/datasets/default/wine-quality-raw/validations?limit=20',
        );
        const validation = docs.items.find(v => v.pipelineRunId === run.id);
        if (!validation?.success)
          throw new Error(
            `validation of the run: ${JSON.stringify(validation)}`,
          );
        const gates = await api(
          'GET',
          `/gates/models/${MODEL}/results?version=${version}`,
        );
        const evaluated = gates.items.find(
          g => g.context === 'evaluate' && g.pipelineRunId === run.id,
        );
        if (!evaluated?.passed)
          throw new Error(
            `gate result of v${version}: ${JSON.stringify(evaluated)}`,
          );
        const lineage = await api(
          'GET',
          `/openlineage/api/v1/jobs/runs/${run.id}`,
        );
        if (lineage.state !== 'COMPLETED')
          throw new Error(`lineage run state ${lineage.state}`);
        const audit = await api(
          'GET',
          `/audit?entityRef=${encodeURIComponent(
            `pipeline:default/${PIPELINE}`,
          )}&limit=100`,
        );
        const actions = audit.items
          .filter(e => e.details?.runId === run.id)
          .map(e => e.action);
        for (const a of ['pipeline.run.start', 'pipeline.run.succeeded']) {
          if (!actions.includes(a))
            throw new Error(`no ${a} audit record (${actions.join(', ')})`);
        }
        return `${
          validation.statistics.successfulExpectations
        } expectations met; ${
          evaluated.checks.length
        } gates passed; OpenLineage ${lineage.state}; audit ${actions.join(
          ', ',
        )}`;
      },
    );

    await check(
      'closed loop: the canary passes its analyses and is promoted to Production, unattended',
      async () => {
        await until(
          'the canary to be promoted and its version moved to Production',
          async () => {
            const { items } = await api('GET', `/deployments/models/${MODEL}`);
            const production = items.find(d => d.environment === 'production');
            const rollout = production?.rollout;
            if (
              rollout?.candidateVersion === version &&
              rollout.state === 'rolled_back'
            ) {
              throw Object.assign(
                new Error(
                  `the canary of v${version} was rolled back: ${
                    rollout.reason ?? ''
                  }`,
                ),
                { final: true },
              );
            }
            if (
              rollout?.candidateVersion !== version ||
              rollout.state !== 'promoted'
            ) {
              return false;
            }
            // The registry follows the rollout's own commit (and precedes
            // what the listeners are told): a read in between waits.
            const registered = await api(
              'GET',
              `/registry/models/${MODEL}/versions/${version}`,
            );
            return registered.stage === 'Production' && production;
          },
        );
        return `v${version} stable in production, ${Math.round(
          (Date.now() - started) / 1000,
        )} s after the drift began`;
      },
    );
  } finally {
    stopTraffic();
  }
  if (!version) return;

  // Each step in the portal.
  await check(
    'closed loop in the portal: Runs tab shows the alert-triggered run and its steps',
    async () => {
      await page.goto(`${BASE_URL}/catalog/default/pipeline/${PIPELINE}/runs`, {
        waitUntil: 'domcontentloaded',
      });
      const runs = page.getByRole('table', { name: 'Pipeline runs' });
      await runs.waitFor({ timeout: STEP_TIMEOUT });
      const row = runs
        .getByRole('row')
        .filter({ hasText: 'drift' })
        .filter({ hasText: 'succeeded' });
      await row.first().click();
      const steps = page.getByRole('table', { name: 'Steps' });
      for (const step of STEPS) {
        await steps
          .getByRole('row')
          .filter({ hasText: step })
          .filter({ hasText: 'succeeded' })
          .first()
          .waitFor({ timeout: STEP_TIMEOUT });
      }
      await page
        .getByText(`${MODEL} v${version}`)
        .first()
        .waitFor({ timeout: STEP_TIMEOUT });
      await sleep(500);
      await shot(page, 'closed-loop-runs.png');
    },
  );

  await check(
    'closed loop in the portal: Versions tab shows the promoted version and its passed gates',
    async () => {
      await page.goto(`${BASE_URL}/catalog/default/model/${MODEL}/versions`, {
        waitUntil: 'domcontentloaded',
      });
      const gate = page.getByLabel(`Gates of version ${version}: Passed`);
      await gate.waitFor({ timeout: STEP_TIMEOUT });
      const row = page.getByRole('row').filter({ has: gate });
      await row
        .getByText('Production', { exact: true })
        .waitFor({ timeout: STEP_TIMEOUT });
      // The table scrolls sideways on a narrow page: bring the Gates column into the picture.
      await gate.scrollIntoViewIfNeeded();
      await gate.hover();
      await sleep(800);
      await shot(page, 'closed-loop-versions.png');
    },
  );

  await check(
    "closed loop in the portal: the raw dataset's Data docs show the run's validation",
    async () => {
      await page.goto(
        `${BASE_URL}/catalog/default/dataset/wine-quality-raw/data-docs`,
        { waitUntil: 'domcontentloaded' },
      );
      await page
        .getByText('All expectations met')
        .first()
        .waitFor({ timeout: STEP_TIMEOUT });
      await sleep(500);
      await shot(page, 'closed-loop-data-docs.png');
    },
  );

  await check(
    'closed loop in the portal: Drift and Deployments tabs show the drift and the promotion',
    async () => {
      await page.goto(`${BASE_URL}/catalog/default/model/${MODEL}/drift`, {
        waitUntil: 'domcontentloaded',
      });
      await page.getByText(/drift/i).first().waitFor({ timeout: STEP_TIMEOUT });
      await sleep(2000);
      await shot(page, 'closed-loop-drift.png');
      await page.goto(
        `${BASE_URL}/catalog/default/model/${MODEL}/deployments`,
        { waitUntil: 'domcontentloaded' },
      );
      // A later alert may have started another canary since: the promoted version then serves as stable.
      await page
        .getByText('Promoted', { exact: true })
        .or(
          page.getByText(
            new RegExp(
              `\\bv${version}\\b.*stable|stable.*\\bv${version}\\b`,
              'i',
            ),
          ),
        )
        .first()
        .waitFor({ timeout: STEP_TIMEOUT });
      await sleep(500);
      await shot(page, 'closed-loop-deployments.png');
    },
  );
}
