// Lineage (issue 12): the demo's training runs, registrations and the
// rollouts done earlier in the journey are OpenLineage events in the portal's
// own store; the Lineage tab draws them and the impact panel follows them.

const RAW = 'dataset:file:examples/data/winequality.csv';
const MODEL = 'dataset:loopline:models/wine-quality';
const DEPLOYMENT = 'dataset:loopline:deployments/wine-quality/production';

export default async function lineage(ctx) {
  const { page, check, shot, api, BASE_URL, STEP_TIMEOUT } = ctx;
  const node = id => page.getByRole('button', { name: id, exact: true });

  await check(
    "Marquez's GET lineage answers from the raw dataset to the model and its deployment",
    async () => {
      const { graph } = await api(
        'GET',
        `/openlineage/api/v1/lineage?nodeId=${encodeURIComponent(RAW)}&depth=20`,
      );
      const ids = graph.map(n => n.id);
      for (const id of [RAW, MODEL, DEPLOYMENT]) {
        if (!ids.includes(id)) throw new Error(`${id} not in ${ids.join(', ')}`);
      }
      const training = ids.filter(id => id.startsWith('job:loopline:mlflow/'));
      if (training.length === 0) throw new Error('no training job');
      return `${graph.length} nodes, training ${training.join(', ')}`;
    },
  );

  await check(
    "the Lineage tab of wine-quality shows its datasets, training run and served version",
    async () => {
      await page.goto(`${BASE_URL}/catalog/default/model/wine-quality/lineage`, {
        waitUntil: 'domcontentloaded',
      });
      await node(MODEL).waitFor({ timeout: STEP_TIMEOUT });
      await node(RAW).waitFor({ timeout: STEP_TIMEOUT });
      await node(DEPLOYMENT).waitFor({ timeout: STEP_TIMEOUT });
      const training = page
        .getByRole('button', { name: /^job:loopline:mlflow\// })
        .first();
      await training.waitFor({ timeout: STEP_TIMEOUT });
      const trainingId = await training.getAttribute('aria-label');
      // The training job's panel: its last run, completed by the registration.
      await training.click();
      const panel = page.getByRole('region', { name: 'Selected node' });
      await panel
        .getByText(/^COMPLETED · /)
        .first()
        .waitFor({ timeout: STEP_TIMEOUT });
      // The served version: the deployment's panel lists its versions.
      await node(DEPLOYMENT).click();
      await page
        .getByText('Versions', { exact: true })
        .first()
        .waitFor({ timeout: STEP_TIMEOUT });
      await page
        .getByText('Root cause: datasets upstream')
        .waitFor({ timeout: STEP_TIMEOUT });
      await shot(page, 'wine-quality-lineage.png');
      return `${await page.getByTestId('lineage-node').count()} nodes, run ${trainingId}`;
    },
  );

  await check(
    'the impact panel of the raw dataset lists the model, and the Dataset page its versions',
    async () => {
      await page.goto(
        `${BASE_URL}/catalog/default/dataset/wine-quality-raw/lineage`,
        { waitUntil: 'domcontentloaded' },
      );
      await node(RAW).waitFor({ timeout: STEP_TIMEOUT });
      // material-table draws its title above the <table>: find the panel by
      // its title, then the model's row (name or title, versions by stage).
      await page
        .getByText('Impact: models downstream')
        .waitFor({ timeout: STEP_TIMEOUT });
      const row = page
        .getByRole('row')
        .filter({ hasText: /wine[- ]quality/i })
        .filter({ hasText: /\((Production|Staging|None|Archived)\)/ });
      await row.first().waitFor({ timeout: STEP_TIMEOUT });
      await page
        .getByText('Versions of examples/data/winequality.csv')
        .waitFor({ timeout: STEP_TIMEOUT });
      await shot(page, 'wine-quality-raw-lineage.png');
      return (await row.first().innerText()).replace(/\s+/g, ' ').trim();
    },
  );
}
