import {
  createMockDirectory,
  mockCredentials,
} from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import type { MlopsService } from '@loopline/plugin-mlops-backend';
import {
  ownersOnlyPermissions,
  startMlopsBackend,
} from '../__testUtils__/backend';
import { newModelAuthorizer } from './authorizeNewModel';
import { createCreateExperimentAction } from './createExperiment';
import { createCreateRegisteredModelAction } from './createRegisteredModel';
import { createDescribeTokenAction } from './describeToken';
import { createValidateEntitiesAction } from './validateEntities';

const alice = mockCredentials.user('user:default/alice');
const bob = mockCredentials.user('user:default/bob');
const TRACKING_URI = 'http://portal.example.com/api/mlops/mlflow';

const mockDir = createMockDirectory();

/** A mock context acting as `credentials`, optionally a dry run. */
function context<T extends Record<string, any>>(
  input: T,
  options: { credentials?: typeof alice; dryRun?: boolean } = {},
) {
  const ctx = createMockActionContext({
    input,
    workspacePath: mockDir.resolve('workspace'),
  });
  return {
    ...ctx,
    isDryRun: options.dryRun ?? false,
    getInitiatorCredentials: async () => options.credentials ?? alice,
  };
}

function outputs(ctx: { output: unknown }): Record<string, unknown> {
  return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
}

const MODEL = (overrides: { owner?: string; type?: string } = {}) => `
apiVersion: loopline.dev/v1alpha1
kind: Model
metadata:
  name: wine-new
spec:
  type: ${overrides.type ?? 'regression'}
  owner: ${overrides.owner ?? 'group:wine-science'}
  lifecycle: experimental
  trainedOn: [dataset:wine-quality-raw]
  producedBy: pipeline:wine-new-training
`;
const PIPELINE = `
apiVersion: loopline.dev/v1alpha1
kind: Pipeline
metadata:
  name: wine-new-training
spec:
  type: training
  owner: group:wine-science
  lifecycle: experimental
  consumes: [dataset:wine-quality-raw]
  produces: [model:wine-new]
`;
const COMPONENT = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: wine-new
spec:
  type: service
  owner: group:wine-science
  lifecycle: experimental
`;

describe('mlops:entity:validate', () => {
  const inCatalog = new Set<string>();
  const takenModels = new Set<string>();
  const takenExperiments = new Set<string>();
  const action = createValidateEntitiesAction({
    authorizeNewModel: newModelAuthorizer(ownersOnlyPermissions()),
    entityExists: async ref => inCatalog.has(ref),
    mlops: {
      findRegisteredModel: async name =>
        takenModels.has(name) ? ({ name } as any) : undefined,
      findExperiment: async name =>
        takenExperiments.has(name)
          ? ({ name, experimentId: '7' } as any)
          : undefined,
    },
  });
  afterEach(() => {
    inCatalog.clear();
    takenModels.clear();
    takenExperiments.clear();
  });

  function workspace(catalogInfo: string) {
    mockDir.setContent({ workspace: { 'catalog-info.yaml': catalogInfo } });
  }

  it('accepts valid Model, Pipeline and Component documents and lists them', async () => {
    workspace([MODEL(), PIPELINE, COMPONENT].join('---\n'));
    const ctx = context({
      files: ['catalog-info.yaml'],
      checkPermissions: true,
    });
    await action.handler(ctx as any);
    expect(outputs(ctx)).toEqual({
      entityRefs: [
        'model:default/wine-new',
        'pipeline:default/wine-new-training',
        'component:default/wine-new',
      ],
      modelRefs: ['model:default/wine-new'],
    });
  });

  it('names the entity and the field of an invalid document', async () => {
    workspace([MODEL({ type: 'astrology' }), PIPELINE].join('---\n'));
    await expect(
      action.handler(
        context({
          files: ['catalog-info.yaml'],
          checkPermissions: false,
        }) as any,
      ),
    ).rejects.toThrow(
      /Model "model:default\/wine-new" is invalid: .*\/spec\/type/,
    );
  });

  it('names the field of a reference to the wrong kind', async () => {
    workspace(
      PIPELINE.replace('produces: [model:wine-new]', 'produces: [wine-new]'),
    );
    await expect(
      action.handler(
        context({
          files: ['catalog-info.yaml'],
          checkPermissions: false,
        }) as any,
      ),
    ).rejects.toThrow(
      /pipeline:default\/wine-new-training" is invalid: \/spec\/produces\/0/,
    );
  });

  it('refuses before publishing when the policy would refuse the registered model', async () => {
    workspace(MODEL());
    await expect(
      action.handler(
        context(
          { files: ['catalog-info.yaml'], checkPermissions: true },
          { credentials: bob },
        ) as any,
      ),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining('model:default/wine-new'),
    });
    // Bob may create one for a Model his own group owns.
    workspace(MODEL({ owner: 'group:customer-insights' }));
    await expect(
      action.handler(
        context(
          { files: ['catalog-info.yaml'], checkPermissions: true },
          { credentials: bob },
        ) as any,
      ),
    ).resolves.toBeUndefined();
  });

  it('validates the same in a dry run', async () => {
    workspace([MODEL({ type: 'astrology' })].join('---\n'));
    await expect(
      action.handler(
        context({ files: ['catalog-info.yaml'] }, { dryRun: true }) as any,
      ),
    ).rejects.toThrow(/model:default\/wine-new" is invalid: .*\/spec\/type/);
    workspace([MODEL(), PIPELINE].join('---\n'));
    const ctx = context(
      { files: ['catalog-info.yaml'], checkConflicts: true },
      { dryRun: true },
    );
    await action.handler(ctx as any);
    expect(outputs(ctx).modelRefs).toEqual(['model:default/wine-new']);
  });

  it('with checkConflicts, names what is taken: an entity, a registered model, an experiment', async () => {
    workspace([MODEL(), PIPELINE, COMPONENT].join('---\n'));
    const input = {
      files: ['catalog-info.yaml'],
      checkConflicts: true,
      experimentNames: ['wine-new'],
    };
    await expect(action.handler(context(input) as any)).resolves.toBe(
      undefined,
    );

    inCatalog.add('pipeline:default/wine-new-training');
    await expect(action.handler(context(input) as any)).rejects.toMatchObject({
      name: 'ConflictError',
      message:
        'pipeline:default/wine-new-training is already in the catalog; choose another name',
    });
    inCatalog.clear();

    takenModels.add('wine-new');
    await expect(action.handler(context(input) as any)).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining("Registered model 'wine-new'"),
    });
    takenModels.clear();

    takenExperiments.add('wine-new');
    await expect(action.handler(context(input) as any)).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining("Experiment 'wine-new'"),
    });
    // Without checkConflicts, taken names are not its business.
    await expect(
      action.handler(context({ files: ['catalog-info.yaml'] }) as any),
    ).resolves.toBeUndefined();
  });

  it('refuses paths outside the workspace', async () => {
    workspace(MODEL());
    await expect(
      action.handler(
        context({ files: ['../outside.yaml'], checkPermissions: false }) as any,
      ),
    ).rejects.toThrow(/outside the workspace/);
  });
});

describe('registry and tracking actions, on the mlops plugin', () => {
  let mlops: MlopsService;
  let stop: () => Promise<void>;
  const inCatalog = new Set<string>();

  beforeAll(async () => {
    ({ mlops, stop } = await startMlopsBackend());
  }, 60_000);
  afterAll(() => stop());

  // The actions are built before the backend starts; they reach it lazily.
  const lazyMlops: MlopsService = {
    createRegisteredModel: (...args) => mlops.createRegisteredModel(...args),
    findRegisteredModel: (...args) => mlops.findRegisteredModel(...args),
    createExperiment: (...args) => mlops.createExperiment(...args),
    findExperiment: (...args) => mlops.findExperiment(...args),
  };
  const createModel = createCreateRegisteredModelAction({
    mlops: lazyMlops,
    entityExists: async ref => inCatalog.has(ref),
    pollIntervalMs: 10,
  });
  const createExperiment = createCreateExperimentAction({
    mlops: lazyMlops,
    trackingUri: async () => TRACKING_URI,
  });

  describe('mlops:registry:create-model', () => {
    it('creates nothing in a dry run', async () => {
      const ctx = context(
        {
          name: 'wine-new',
          entityRef: 'model:wine-new',
          waitForEntitySeconds: 0,
        },
        { dryRun: true },
      );
      await createModel.handler(ctx as any);
      expect(outputs(ctx)).toEqual({
        name: 'wine-new',
        entityRef: 'model:default/wine-new',
      });
      await expect(
        mlops.findRegisteredModel('wine-new', { credentials: alice }),
      ).resolves.toBeUndefined();
    });

    it('fails when the entity never reaches the catalog', async () => {
      const ctx = context({ name: 'wine-new', waitForEntitySeconds: 0 });
      await expect(createModel.handler(ctx as any)).rejects.toThrow(
        /model:default\/wine-new is not in the catalog/,
      );
    });

    it('refuses a user the policy refuses, and creates nothing', async () => {
      inCatalog.add('model:default/wine-new');
      const ctx = context(
        { name: 'wine-new', waitForEntitySeconds: 0 },
        { credentials: bob },
      );
      await expect(createModel.handler(ctx as any)).rejects.toMatchObject({
        name: 'NotAllowedError',
      });
      await expect(
        mlops.findRegisteredModel('wine-new', { credentials: alice }),
      ).resolves.toBeUndefined();
    });

    it('creates the registered model as an owner, and a re-run is a conflict', async () => {
      inCatalog.add('model:default/wine-new');
      const input = {
        name: 'wine-new',
        description: 'Wine quality, the new one',
        tags: { task: 'regression' },
        waitForEntitySeconds: 0,
      };
      const ctx = context(input);
      await createModel.handler(ctx as any);
      expect(outputs(ctx)).toEqual({
        name: 'wine-new',
        entityRef: 'model:default/wine-new',
      });
      const model = await mlops.findRegisteredModel('wine-new', {
        credentials: alice,
      });
      expect(model).toMatchObject({
        name: 'wine-new',
        entityRef: 'model:default/wine-new',
        description: 'Wine quality, the new one',
        tags: expect.objectContaining({ task: 'regression' }),
      });

      await expect(
        createModel.handler(context(input) as any),
      ).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringContaining("'wine-new' already exists"),
      });
      await expect(
        createModel.handler(context(input, { dryRun: true }) as any),
      ).rejects.toMatchObject({ name: 'ConflictError' });
    });
  });

  describe('mlops:tracking:create-experiment', () => {
    it('creates nothing in a dry run, but gives the tracking URI', async () => {
      const ctx = context({ name: 'wine-dry' }, { dryRun: true });
      await createExperiment.handler(ctx as any);
      expect(outputs(ctx)).toEqual({
        experimentId: '',
        trackingUri: TRACKING_URI,
      });
      await expect(
        mlops.findExperiment('wine-dry', { credentials: alice }),
      ).resolves.toBeUndefined();
    });

    it('creates the experiment with its tags; a re-run is a conflict', async () => {
      const ctx = context({
        name: 'wine-new',
        tags: { owner: 'group:default/wine-science' },
      });
      await createExperiment.handler(ctx as any);
      const { experimentId, trackingUri } = outputs(ctx);
      expect(trackingUri).toBe(TRACKING_URI);
      const experiment = await mlops.findExperiment('wine-new', {
        credentials: alice,
      });
      expect(experiment).toMatchObject({
        experimentId,
        name: 'wine-new',
      });
      expect(JSON.stringify(experiment)).toContain(
        'group:default/wine-science',
      );

      await expect(
        createExperiment.handler(context({ name: 'wine-new' }) as any),
      ).rejects.toMatchObject({ name: 'ConflictError' });
      await expect(
        createExperiment.handler(
          context({ name: 'wine-new' }, { dryRun: true }) as any,
        ),
      ).rejects.toMatchObject({ name: 'ConflictError' });
    });
  });
});

describe('mlops:token:describe', () => {
  const action = createDescribeTokenAction({
    trackingUri: async () => TRACKING_URI,
  });

  it('names the variables and the secret, never a secret value', async () => {
    const ctx = createMockActionContext({
      input: {
        secretName: 'LOOPLINE_TOKEN',
        experimentName: 'wine-new',
        registeredModelName: 'wine-new',
      },
      secrets: { LOOPLINE_TOKEN: 's3cr3t-value', USER_OAUTH_TOKEN: 'gho_abc' },
      workspacePath: mockDir.resolve('workspace'),
    });
    await action.handler(ctx as any);
    const { text, variables } = outputs(ctx as any) as any;
    expect(variables).toEqual([
      { name: 'MLFLOW_TRACKING_URI', value: TRACKING_URI },
      { name: 'MLFLOW_TRACKING_TOKEN', fromSecret: 'LOOPLINE_TOKEN' },
      { name: 'MLFLOW_EXPERIMENT_NAME', value: 'wine-new' },
      { name: 'LOOPLINE_REGISTERED_MODEL', value: 'wine-new' },
    ]);
    expect(text).toContain(`\`MLFLOW_TRACKING_URI\`: \`${TRACKING_URI}\``);
    expect(text).toContain('`LOOPLINE_TOKEN`');
    const everything = JSON.stringify((ctx.output as jest.Mock).mock.calls);
    expect(everything).not.toContain('s3cr3t-value');
    expect(everything).not.toContain('gho_abc');
  });

  it('describes the same in a dry run, with the defaults', async () => {
    const ctx = {
      ...createMockActionContext({
        input: {},
        workspacePath: mockDir.resolve('workspace'),
      }),
      isDryRun: true,
    };
    await action.handler(ctx as any);
    expect(outputs(ctx as any).variables).toEqual([
      { name: 'MLFLOW_TRACKING_URI', value: TRACKING_URI },
      { name: 'MLFLOW_TRACKING_TOKEN', fromSecret: 'LOOPLINE_TOKEN' },
    ]);
  });
});
