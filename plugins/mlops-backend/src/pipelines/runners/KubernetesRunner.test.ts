import { Knex } from 'knex';
import { TestDatabases } from '@backstage/backend-test-utils';
import {
  FakeKubeApiServer,
  startFakeKubeApiServer,
} from '../../rollout/kserve/__testUtils__/fakeKubeApiServer';
import { kubernetesClient } from '../../rollout/kserve/kubernetesClient';
import {
  ALICE,
  createPipelineHarness,
  pipelineEntity,
  prepareDatabase,
  waitFor,
} from '../__testUtils__/harness';
import { KubernetesRunner } from './KubernetesRunner';
import { StepExecution } from './types';
import type { StepHandle } from '../PipelineStore';
import { describeWithSpecs } from '../../__testUtils__/specs';

jest.setTimeout(60_000);

const NAMESPACE = 'ml-pipelines';
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describeWithSpecs('KubernetesRunner against the fake API server', () => {
  let kube: FakeKubeApiServer;
  let knex: Knex;
  let clock = Date.now();
  let runner: KubernetesRunner;
  let counter = 0;
  const unique = (name: string) => `${name}-${++counter}`;

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    await prepareDatabase(knex);
  });
  beforeEach(async () => {
    kube = await startFakeKubeApiServer({ token: 'cluster-token' });
    clock = Date.now();
    runner = new KubernetesRunner({
      kubeConfigOf: () => kube.kubeConfig(),
      namespace: NAMESPACE,
      image: 'python:3.12',
      defaultTimeoutSeconds: 3600,
      ttlSecondsAfterFinished: 600,
      pollIntervalMs: 20,
      now: () => clock,
    });
  });
  const services: Array<{ shutdown(): Promise<void> }> = [];
  afterEach(async () => {
    for (const service of services.splice(0)) await service.shutdown();
    await kube.close();
  });

  function harness() {
    const h = createPipelineHarness(knex, { runners: [runner] });
    services.push(h.service);
    return h;
  }
  async function start(
    h: ReturnType<typeof harness>,
    name: string,
    steps: any[],
  ) {
    h.source.add(
      pipelineEntity(name, steps, {
        runner: { type: 'kubernetes', namespace: NAMESPACE },
        parameters: [{ name: 'lr', default: '0.01' }],
      }),
    );
    const { run } = await h.service.startRun({
      pipeline: name,
      parameters: { lr: '0.5' },
      trigger: { type: 'manual', cause: 'test' },
      credentials: ALICE,
    });
    return run;
  }
  async function logText(
    h: ReturnType<typeof harness>,
    name: string,
    id: string,
  ) {
    const page = await h.service.readLogs(name, id, { after: 0, limit: 1000 });
    return page.items.map(line => `${line.step}/${line.stream}: ${line.text}`);
  }
  const jobPosts = () =>
    kube.requests.filter(r => r.method === 'POST' && r.path.endsWith('/jobs'));

  it('runs a 2-step pipeline as two Jobs with the step environment, and copies their pod logs', async () => {
    kube.setJobRule(job => ({
      exitCode: 0,
      log: `hello from ${job.metadata.annotations['loopline.dev/step']}\nsecond line\n`,
      afterMs: 30,
    }));
    const h = harness();
    const name = unique('churn');
    const run = await start(h, name, [
      { name: 'prepare', run: 'echo prepared' },
      {
        name: 'train',
        dependsOn: ['prepare'],
        image: 'ghcr.io/acme/train:1',
        command: ['python', '-m', 'train'],
        timeoutSeconds: 120,
      },
    ]);
    await h.service.idle();
    const done = await h.service.getRun(name, run.id);
    expect(done).toMatchObject({
      state: 'succeeded',
      runner: 'kubernetes',
      steps: [
        { name: 'prepare', state: 'succeeded', exitCode: 0 },
        { name: 'train', state: 'succeeded', exitCode: 0 },
      ],
    });
    const posted = jobPosts().map(r => r.body as any);
    expect(posted).toHaveLength(2);
    const [prepare, train] = posted;
    expect(prepare.metadata.namespace).toBe(NAMESPACE);
    expect(prepare.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 600,
      template: { spec: { restartPolicy: 'Never' } },
    });
    const container = prepare.spec.template.spec.containers[0];
    expect(container).toMatchObject({
      image: 'python:3.12',
      command: ['/bin/sh', '-c', 'echo prepared'],
    });
    const env = Object.fromEntries(
      container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]),
    );
    // The token is not in the Job: it comes from a Secret the Job owns.
    expect(env.MLFLOW_TRACKING_TOKEN).toEqual({
      secretKeyRef: {
        name: prepare.metadata.name,
        key: 'MLFLOW_TRACKING_TOKEN',
      },
    });
    expect(JSON.stringify(posted)).not.toContain(`token-for-${run.id}`);
    const secret = kube
      .secrets(NAMESPACE)
      .find(x => x.metadata.name === prepare.metadata.name);
    expect(
      Buffer.from(secret.data.MLFLOW_TRACKING_TOKEN, 'base64').toString(),
    ).toBe(`token-for-${run.id}`);
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Job',
        name: prepare.metadata.name,
        uid: kube
          .jobs(NAMESPACE)
          .find(j => j.metadata.name === prepare.metadata.name).metadata.uid,
      }),
    ]);
    expect(env).toMatchObject({
      MLFLOW_TRACKING_URI: 'http://localhost:7800/api/mlops/mlflow',
      OPENLINEAGE_URL: 'http://localhost:7800/api/mlops/lineage',
      LOOPLINE_PARAM_LR: '0.5',
      LOOPLINE_RUN_ID: run.id,
      LOOPLINE_STEP: 'prepare',
    });
    expect(train.spec.activeDeadlineSeconds).toBe(120);
    expect(train.spec.template.spec.containers[0]).toMatchObject({
      image: 'ghcr.io/acme/train:1',
      command: ['python', '-m', 'train'],
    });
    // Every Job was accepted by the schema check.
    expect(
      kube.requests.filter(r => r.path.endsWith('/jobs') && r.status !== 201),
    ).toEqual([]);
    const lines = await logText(h, name, run.id);
    expect(lines).toEqual(
      expect.arrayContaining([
        'prepare/stdout: hello from prepare',
        'prepare/stdout: second line',
        'train/stdout: hello from train',
      ]),
    );
  });

  it('fails the run with the exit code of a failing step', async () => {
    kube.setJobRule(job =>
      job.metadata.annotations['loopline.dev/step'] === 'train'
        ? { exitCode: 3, log: 'Traceback: out of memory\n' }
        : { exitCode: 0 },
    );
    const h = harness();
    const name = unique('churn');
    const run = await start(h, name, [
      { name: 'prepare', run: 'true' },
      { name: 'train', dependsOn: ['prepare'], run: 'exit 3' },
    ]);
    await h.service.idle();
    const done = await h.service.getRun(name, run.id);
    expect(done.state).toBe('failed');
    expect(done.steps[1]).toMatchObject({
      name: 'train',
      state: 'failed',
      exitCode: 3,
      message: 'Exited with code 3',
    });
    expect(await logText(h, name, run.id)).toContain(
      'train/stdout: Traceback: out of memory',
    );
  });

  it('deletes the Job (propagationPolicy Background) when the run is cancelled', async () => {
    kube.setJobRule(() => ({ hang: true }));
    const h = harness();
    const name = unique('churn');
    const run = await start(h, name, [{ name: 'train', run: 'sleep 1000' }]);
    await waitFor(async () => kube.jobs(NAMESPACE).length === 1, 'the Job');
    expect(kube.pods(NAMESPACE)).toHaveLength(1);
    await h.service.cancel({ pipeline: name, id: run.id, credentials: ALICE });
    await h.service.idle();
    const done = await h.service.getRun(name, run.id);
    expect(done.state).toBe('cancelled');
    expect(done.steps[0].state).toBe('cancelled');
    const deletes = kube.requests.filter(r => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    expect(deletes[0].path).toMatch(
      /\/namespaces\/ml-pipelines\/jobs\/lp-train-/,
    );
    expect(
      deletes[0].query.propagationPolicy ??
        (deletes[0].body as any)?.propagationPolicy,
    ).toBe('Background');
    expect(kube.jobs(NAMESPACE)).toEqual([]);
    expect(kube.pods(NAMESPACE)).toEqual([]);
    // The garbage collector took the Job's Secret with it.
    expect(kube.secrets(NAMESPACE)).toEqual([]);
  });

  it('deletes the Job of a run cancelled while the Job was being created', async () => {
    kube.setJobRule(() => ({ hang: true }));
    const controller = new AbortController();
    // The cancel lands after the Job exists, before the runner watches it.
    const result = await runner.runStep(
      execution(
        { name: 'train', run: 'sleep 1000' },
        { signal: controller.signal, onHandle: async () => controller.abort() },
      ),
    );
    expect(result).toMatchObject({ state: 'cancelled' });
    expect(kube.jobs(NAMESPACE)).toEqual([]);
  });

  it('fails a step that outlives its timeout (activeDeadlineSeconds)', async () => {
    kube.setJobRule(() => ({ hang: true, log: 'epoch 1\n' }));
    const h = harness();
    const name = unique('churn');
    const run = await start(h, name, [
      { name: 'train', run: 'sleep 1000', timeoutSeconds: 1 },
    ]);
    await h.service.idle();
    const done = await h.service.getRun(name, run.id);
    expect(done.steps[0]).toMatchObject({
      state: 'failed',
      exitCode: 137,
      message: "Timed out after 1 s (the Job's activeDeadlineSeconds)",
    });
    expect((jobPosts()[0].body as any).spec.activeDeadlineSeconds).toBe(1);
    expect(await logText(h, name, run.id)).toContain('train/stdout: epoch 1');
  });

  it('an invalid Job is refused by the schema check, and the step fails with the API message', async () => {
    const batch = kube
      .kubeConfig()
      .makeApiClient(kubernetesClient().BatchV1Api);
    const { job } = runner.jobFor(execution({ name: 'train', run: 'true' }));
    await expect(
      batch.createNamespacedJob({
        namespace: NAMESPACE,
        body: { ...job, metadata: { ...job.metadata, name: 'Train_Job' } },
      }),
    ).rejects.toMatchObject({ code: 422 });
    await expect(
      batch.createNamespacedJob({
        namespace: NAMESPACE,
        body: {
          ...job,
          spec: { ...job.spec, activeDeadlineSeconds: 'soon' },
        },
      }),
    ).rejects.toMatchObject({ code: 422 });
    expect(kube.jobs()).toEqual([]);

    // Through the runner: a namespace from the pipeline spec the server refuses.
    const result = await runner.runStep(
      execution(
        { name: 'train', run: 'true' },
        { runnerSpec: { namespace: 'Not_A_Namespace' } },
      ),
    );
    expect(result.state).toBe('failed');
    expect(result.message).toMatch(
      /Could not create the Job Not_A_Namespace\//,
    );
    // The runner's own Job passes.
    const ok = await runner.runStep(
      execution({ name: 'Train Step!', run: 'true' }),
    );
    expect(ok).toMatchObject({ state: 'succeeded', exitCode: 0 });
  });

  it('deletes finished Jobs older than the time to live', async () => {
    const ok = await runner.runStep(execution({ name: 'train', run: 'true' }));
    expect(ok.state).toBe('succeeded');
    const [job] = kube.jobs(NAMESPACE);
    expect(job.spec.ttlSecondsAfterFinished).toBe(600);
    // Someone else's Job in the namespace is never touched.
    await kube
      .kubeConfig()
      .makeApiClient(kubernetesClient().BatchV1Api)
      .createNamespacedJob({
        namespace: NAMESPACE,
        body: {
          ...runner.jobFor(execution({ name: 'other', run: 'true' })).job,
          metadata: { name: 'not-ours', namespace: NAMESPACE },
        },
      });
    await waitFor(
      async () => kube.jobs(NAMESPACE).every(j => j.status?.conditions?.length),
      'both Jobs to finish',
    );

    clock = Date.now() + 599_000;
    expect(await runner.cleanupFinishedJobs()).toEqual([]);
    clock = Date.now() + 601_000;
    expect(await runner.cleanupFinishedJobs()).toEqual([job.metadata.name]);
    expect(kube.jobs(NAMESPACE).map(j => j.metadata.name)).toEqual([
      'not-ours',
    ]);
  });

  it('a restarted backend deletes the Job a step left (stopOrphan), and the step still waiting on it fails', async () => {
    kube.setJobRule(() => ({ hang: true }));
    const handles: StepHandle[] = [];
    const running = runner.runStep(
      execution(
        { name: 'train', run: 'sleep 1000' },
        {
          onHandle: async handle => {
            handles.push(handle);
          },
        },
      ),
    );
    await waitFor(async () => handles.length === 1, 'the handle');
    expect(handles[0]).toEqual({
      job: expect.stringMatching(/^lp-train-/),
      namespace: NAMESPACE,
    });
    const restarted = new KubernetesRunner({
      kubeConfigOf: () => kube.kubeConfig(),
      namespace: 'elsewhere',
      defaultTimeoutSeconds: 60,
      ttlSecondsAfterFinished: 60,
    });
    await restarted.stopOrphan('any', handles[0]);
    expect(kube.jobs()).toEqual([]);
    expect(kube.pods()).toEqual([]);
    expect(await running).toMatchObject({
      state: 'failed',
      message: expect.stringMatching(/was deleted by someone else/),
    });
  });

  function execution(
    step: { name: string; run?: string; command?: string[] },
    extra: Partial<StepExecution> = {},
  ): StepExecution {
    return {
      runId: `run-${++counter}-abcdef`,
      pipeline: 'churn',
      step: { kind: 'command', dependsOn: [], ...step },
      attempt: 1,
      parameters: {},
      env: {},
      signal: new AbortController().signal,
      onLog: () => undefined,
      onHandle: async () => undefined,
      ...extra,
    };
  }
});
