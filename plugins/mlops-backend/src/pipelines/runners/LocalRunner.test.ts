import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalRunner } from './LocalRunner';
import { StepExecution } from './types';
import type { StepDefinition, StepHandle } from '../PipelineStore';

jest.setTimeout(30_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

describe('LocalRunner', () => {
  let root: string;
  let runner: LocalRunner;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-runner-'));
    runner = new LocalRunner({
      workspaceRoot: root,
      defaultTimeoutSeconds: 60,
      killGraceMs: 500,
    });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function execution(
    step: Partial<StepDefinition>,
    extra: Partial<StepExecution> = {},
  ) {
    const lines: Array<[string, string]> = [];
    const handles: StepHandle[] = [];
    const exec: StepExecution = {
      runId: 'run-1',
      pipeline: 'wine',
      step: { name: 'train', kind: 'command', dependsOn: [], ...step },
      attempt: 1,
      parameters: { learning_rate: '0.1', dataset: 'wine.csv' },
      env: {
        MLFLOW_TRACKING_URI: 'http://backend/api/mlops/mlflow',
        MLFLOW_TRACKING_TOKEN: 'short-lived',
        OPENLINEAGE_URL: 'http://backend/api/mlops/lineage',
      },
      signal: new AbortController().signal,
      onLog: (stream, text) => lines.push([stream, text]),
      onHandle: async handle => {
        handles.push(handle);
      },
      ...extra,
    };
    return { exec, lines, handles };
  }

  it('runs a step in the run workspace with its environment and streams its output', async () => {
    const { exec, lines, handles } = execution({
      run: [
        'echo "uri=$MLFLOW_TRACKING_URI token=$MLFLOW_TRACKING_TOKEN lineage=$OPENLINEAGE_URL"',
        'echo "lr=$LOOPLINE_PARAM_LEARNING_RATE params=$LOOPLINE_PARAMETERS"',
        'echo oops >&2',
        'pwd',
        'echo \'{"mlflowRunId":"abc123"}\' >> "$LOOPLINE_OUTPUTS"',
        'echo \'{"modelVersion":{"name":"wine-quality","version":3}}\' >> "$LOOPLINE_OUTPUTS"',
        'echo "secret=${DATABASE_PASSWORD:-none}"',
      ].join('\n'),
    });
    process.env.DATABASE_PASSWORD = 'hunter2';
    try {
      const result = await runner.runStep(exec);
      expect(result).toEqual({
        state: 'succeeded',
        exitCode: 0,
        outputs: {
          mlflowRunIds: ['abc123'],
          modelVersions: [{ name: 'wine-quality', version: 3 }],
          datasetVersions: [],
          rollouts: [],
        },
      });
    } finally {
      delete process.env.DATABASE_PASSWORD;
    }
    // The two pipes are read apart: order holds within each stream.
    expect(lines.filter(l => l[0] === 'stderr')).toEqual([['stderr', 'oops']]);
    expect(lines.filter(l => l[0] === 'stdout')).toEqual([
      [
        'stdout',
        'uri=http://backend/api/mlops/mlflow token=short-lived lineage=http://backend/api/mlops/lineage',
      ],
      ['stdout', 'lr=0.1 params={"learning_rate":"0.1","dataset":"wine.csv"}'],
      ['stdout', fs.realpathSync(path.join(root, 'run-1'))],
      ['stdout', 'secret=none'],
    ]);
    expect(handles).toEqual([{ host: os.hostname(), pid: expect.any(Number) }]);
  });

  it('reports the exit code of a failing command without a shell', async () => {
    const { exec } = execution({
      command: [process.execPath, '-e', 'process.exit(3)'],
    });
    expect(await runner.runStep(exec)).toMatchObject({
      state: 'failed',
      exitCode: 3,
      message: 'Exited with code 3',
    });
    const missing = execution({ command: ['/no/such/program'] });
    expect(await runner.runStep(missing.exec)).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('Could not start /no/such/program'),
    });
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = path.join(root, 'background.pid');
    const { exec } = execution({
      // A background child that would outlive a plain kill of the shell.
      run: `sleep 600 & echo $! > ${pidFile}; wait`,
      timeoutSeconds: 1,
    });
    const result = await runner.runStep(exec);
    expect(result).toMatchObject({
      state: 'failed',
      message: "Timed out after 1 s; the step's processes were killed",
    });
    const background = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(background), 'the background sleep to die');
  });

  it('stops the step and its children when cancelled, even one ignoring SIGTERM', async () => {
    const controller = new AbortController();
    const pidFile = path.join(root, 'stubborn.pid');
    const { exec, lines } = execution(
      {
        run: `sh -c 'trap "" TERM; echo started; sleep 600' & echo $! > ${pidFile}; wait`,
      },
      { signal: controller.signal },
    );
    const running = runner.runStep(exec);
    await waitFor(
      () => lines.some(l => l[1] === 'started'),
      'the step to start',
    );
    controller.abort();
    expect(await running).toMatchObject({ state: 'cancelled' });
    const stubborn = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(stubborn), 'the stubborn child to die');
  });

  it('stops a step cancelled while its process was being started', async () => {
    const controller = new AbortController();
    const { exec } = execution(
      { run: 'sleep 600' },
      { signal: controller.signal, onHandle: async () => controller.abort() },
    );
    expect(await runner.runStep(exec)).toMatchObject({ state: 'cancelled' });
  });

  it('stops an orphaned step of its run only', async () => {
    const { exec, handles, lines } = execution({
      run: 'echo up; sleep 600',
    });
    const controller = new AbortController();
    exec.signal = controller.signal;
    const running = runner.runStep(exec);
    await waitFor(() => lines.length > 0, 'the step to start');
    const [handle] = handles;
    // Another run's id does not match the process's environment.
    await runner.stopOrphan('run-2', handle);
    expect(alive(handle.pid!)).toBe(true);
    await runner.stopOrphan('run-1', handle);
    expect(await running).toMatchObject({ state: 'failed' });
    await waitFor(() => !alive(handle.pid!), 'the orphan to die');
  });
});
