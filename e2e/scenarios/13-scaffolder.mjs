/**
 * Issue 13: "Create…" → ML model project, as a user would, in Chromium.
 * The form refuses a taken name, then runs with the wine Dataset and its
 * target column; the repository clones over HTTP with the demo git token,
 * the new Model, Pipeline and Component are in the catalog (through a real
 * Location) with their relations, the registered model and the experiment
 * exist, and the new Model's page opens.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GIT_TOKEN =
  process.env.LOOPLINE_DEMO_GIT_TOKEN ?? 'loopline-demo-git-token-change-me';

export default async function scaffolderScenario(ctx) {
  const { page, check, shot, expectVisible, api, BASE_URL, BACKEND_URL } = ctx;
  const timeout = ctx.STEP_TIMEOUT;
  // A fresh name each run: the portal's git repositories outlive it.
  const name = `wine-e2e-${Date.now().toString(36)}`;

  /** A user token of Alice's, for the catalog's API (the demo sign-in). */
  async function userToken() {
    const res = await fetch(
      `${BACKEND_URL}/api/auth/demo/refresh?env=development`,
      {
        headers: {
          'x-loopline-demo-user': 'alice',
          'X-Requested-With': 'XMLHttpRequest',
        },
      },
    );
    if (!res.ok) throw new Error(`demo sign-in: ${res.status}`);
    return (await res.json()).backstageIdentity.token;
  }

  async function catalogEntity(ref, token) {
    const [kind, rest] = ref.split(':');
    const [namespace, entityName] = rest.split('/');
    const res = await fetch(
      `${BACKEND_URL}/api/catalog/entities/by-name/${kind}/${namespace}/${entityName}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    return res.ok ? res.json() : undefined;
  }

  /** Picks `option` in the autocomplete labelled `label` (EntityPicker, OwnerPicker). */
  async function pick(label, typed, option) {
    const input = page.getByLabel(label, { exact: false }).first();
    await input.click();
    await input.fill(typed);
    await page.getByRole('option', { name: option }).first().click();
  }

  const formReady = await check(
    'scaffolder: Create… offers "ML model project" and opens its form',
    async () => {
      await page.goto(BASE_URL, { waitUntil: 'domcontentloaded' });
      await page
        .getByRole('link', { name: /^Create/ })
        .first()
        .click();
      const card = page
        .locator('[class*="MuiCard-root"]')
        .filter({ hasText: 'ML model project' })
        .first();
      await card.waitFor({ state: 'visible', timeout });
      await expectVisible(page, ['Dataset']);
      await expectVisible(page, ['Training pipeline']);
      await shot(page, 'scaffolder-templates.png');
      await card.getByRole('button', { name: 'Choose' }).click();
      await page.getByLabel('Name', { exact: false }).first().waitFor({
        timeout,
      });
      return page.url();
    },
  );
  if (!formReady) return;

  await check(
    'scaffolder: the form refuses a taken name before running',
    async () => {
      const nameInput = page.getByLabel('Name', { exact: false }).first();
      await nameInput.fill('wine-quality');
      await pick('Owner', 'wine', /wine.?science/i);
      await pick('System', 'wine', /wine.?quality/i);
      await page.getByRole('button', { name: 'Next' }).click();
      const message = page.getByText(/"wine-quality" is taken/).first();
      await message.waitFor({ state: 'visible', timeout });
      await shot(page, 'scaffolder-name-taken.png');
      return (await message.innerText()).trim();
    },
  );

  const submitted = await check(
    'scaffolder: fill the form (wine Dataset, target column) and run',
    async () => {
      const nameInput = page.getByLabel('Name', { exact: false }).first();
      await nameInput.fill(name);
      await page.getByRole('button', { name: 'Next' }).click();
      await pick('Training Dataset', 'features', /wine.?features/i);
      // The Dataset's target field is preselected; choose it explicitly too.
      const target = page.getByRole('button', { name: /Target column/i });
      await target.click();
      await page.getByRole('option', { name: /^quality/ }).click();
      await page.getByRole('listbox').waitFor({ state: 'detached', timeout });
      await shot(page, 'scaffolder-form.png');
      await page.getByRole('button', { name: 'Next' }).click();
      await page
        .getByLabel(/Drift method/)
        .first()
        .waitFor({ timeout });
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('button', { name: 'Review' }).click();
      await expectVisible(page, [name]);
      await shot(page, 'scaffolder-review.png');
      await page.getByRole('button', { name: 'Create' }).click();
      return name;
    },
  );
  if (!submitted) return;

  const ran = await check('scaffolder: the task completes', async () => {
    // The output's links show once every step has finished.
    const link = page
      .getByRole('link', { name: 'Open the Model' })
      .or(page.getByRole('button', { name: 'Open the Model' }));
    await link
      .first()
      .waitFor({ state: 'visible', timeout: Math.max(timeout, 180_000) })
      .catch(async () => {
        await shot(page, 'scaffolder-result.png');
        const failed = await page
          .getByText(/Error|failed/i)
          .first()
          .innerText()
          .catch(() => '');
        throw new Error(`no "Open the Model" link: ${failed.slice(0, 300)}`);
      });
    await shot(page, 'scaffolder-result.png');
    return page.url();
  });
  if (!ran) return;

  await check('scaffolder: the repository can be cloned', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-clone-'));
    try {
      execFileSync(
        'git',
        [
          '-c',
          `http.extraHeader=Authorization: Bearer ${GIT_TOKEN}`,
          'clone',
          '--quiet',
          `${BACKEND_URL}/api/scaffolder/git/${name}.git`,
          dir,
        ],
        { stdio: 'pipe', timeout: 60_000 },
      );
      const files = [
        'train.py',
        'dataset.json',
        'catalog-info.yaml',
        'serving/inference-service.yaml',
        '.github/workflows/ci.yml',
      ];
      for (const file of files) {
        if (!fs.existsSync(path.join(dir, file)))
          throw new Error(`${file} is not in the clone`);
      }
      // train.py reads the Dataset (location, schema, target) from dataset.json.
      const dataset = JSON.parse(
        fs.readFileSync(path.join(dir, 'dataset.json'), 'utf8'),
      );
      if (dataset.target !== 'quality')
        throw new Error(
          `dataset.json's target is ${dataset.target}, not quality`,
        );
      return `${files.join(', ')} cloned`;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  await check(
    'scaffolder: the new Model, Pipeline and Component are in the catalog with their relations',
    async () => {
      const token = await userToken();
      const want = {
        [`model:default/${name}`]: [
          ['trainedOn', 'dataset:default/wine-features'],
          ['producedBy', `pipeline:default/${name}-training`],
          ['ownedBy', 'group:default/wine-science'],
        ],
        [`pipeline:default/${name}-training`]: [
          ['produces', `model:default/${name}`],
          ['consumesDataset', 'dataset:default/wine-features'],
        ],
        [`component:default/${name}`]: [
          ['dependsOn', `model:default/${name}`],
          ['ownedBy', 'group:default/wine-science'],
        ],
      };
      const location = `${BACKEND_URL}/api/scaffolder/git/${name}.git`;
      for (const [ref, relations] of Object.entries(want)) {
        const entity = await catalogEntity(ref, token);
        if (!entity) throw new Error(`${ref} is not in the catalog`);
        const managedBy =
          entity.metadata.annotations?.['backstage.io/managed-by-location'] ??
          '';
        if (!managedBy.startsWith(`url:${location}`))
          throw new Error(
            `${ref} is managed by ${managedBy}, not the new repository`,
          );
        for (const [type, target] of relations) {
          if (
            !entity.relations?.some(
              r => r.type === type && r.targetRef === target,
            )
          )
            throw new Error(`${ref} has no ${type} relation to ${target}`);
        }
      }
      return `3 entities from ${location}`;
    },
  );

  await check(
    'scaffolder: the registered model and the experiment exist',
    async () => {
      const model = await api('GET', `/registry/models/${name}`);
      if (model.entityRef !== `model:default/${name}`)
        throw new Error(`registered model for ${model.entityRef}`);
      const { experiment } = await api(
        'GET',
        `/mlflow/api/2.0/mlflow/experiments/get-by-name?experiment_name=${name}`,
      );
      return `registered model ${model.name}, experiment ${experiment.experiment_id}`;
    },
  );

  await check("scaffolder: the new Model's page opens", async () => {
    await page.goto(`${BASE_URL}/catalog/default/model/${name}`, {
      waitUntil: 'domcontentloaded',
    });
    const shown = await expectVisible(page, [name]);
    await expectVisible(page, [
      'wine-features',
      'Wine features',
      'dataset:wine-features',
      'dataset:default/wine-features',
    ]);
    // The relations graph draws once the catalog graph has loaded.
    await page
      .locator('svg')
      .filter({ hasText: `${name}-training` })
      .first()
      .waitFor({ state: 'visible', timeout: 20_000 })
      .catch(() => {});
    await shot(page, 'scaffolder-model.png');
    return shown;
  });
}
