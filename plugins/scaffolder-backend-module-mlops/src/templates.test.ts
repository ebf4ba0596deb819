/**
 * The templates in examples/templates, run through the scaffolder's own
 * dry-run API with the mlops plugin and this module installed: the form
 * values are checked against each parameter step, every step runs in
 * dry-run mode (the mlops:* actions included), and the generated files are
 * checked: catalog-info.yaml validates with the catalog module, the Python
 * compiles (Debian's python3) and the InferenceService fits the KServe CRD.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { MlopsEntitiesProcessor } from '@loopline/plugin-catalog-backend-module-mlops';
import mlopsPlugin from '@loopline/plugin-mlops-backend';
import {
  describeWithSpecs,
  inferenceServiceValidator,
} from '@loopline/plugin-mlops-backend/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import request from 'supertest';
import { parse, parseAllDocuments } from 'yaml';
import { scaffolderModuleMlops } from './module';

const EXAMPLES = path.resolve(__dirname, '../../../examples');
const TEMPLATES = path.join(EXAMPLES, 'templates');
const PYTHON = '/usr/bin/python3';

function readDocuments(file: string): Entity[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map(
    d => d.toJSON() as Entity,
  );
}

/** A template and its files, as the dry-run API takes them. */
function templateRequest(name: string) {
  const dir = path.join(TEMPLATES, name);
  const files: { path: string; base64Content: string }[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), {
      withFileTypes: true,
    })) {
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (child !== 'template.yaml') {
        files.push({
          path: child,
          base64Content: fs
            .readFileSync(path.join(dir, child))
            .toString('base64'),
        });
      }
    }
  };
  walk('');
  return {
    template: parse(fs.readFileSync(path.join(dir, 'template.yaml'), 'utf8')),
    directoryContents: files,
  };
}

function generated(body: any): Map<string, string> {
  return new Map(
    (body.directoryContents as { path: string; base64Content: string }[]).map(
      f => [f.path, Buffer.from(f.base64Content, 'base64').toString('utf8')],
    ),
  );
}

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describeWithSpecs('the Loopline templates, through the dry-run API', () => {
  let server: any;
  let stop: () => Promise<void>;
  let gitDir: string;
  const processor = new MlopsEntitiesProcessor();

  beforeAll(async () => {
    inferenceServiceValidator(); // 2 MB of schema, compiled once
    gitDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-git-'));
    const entities = [
      ...readDocuments(path.join(EXAMPLES, 'org.yaml')),
      ...readDocuments(path.join(EXAMPLES, 'systems.yaml')),
      ...readDocuments(path.join(EXAMPLES, 'datasets.yaml')),
      ...readDocuments(path.join(EXAMPLES, 'models.yaml')),
    ];
    const knex = await databases.init('SQLITE_3');
    const backend = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModuleMlops,
        mlopsPlugin,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            loopline: { localGit: { enabled: true, directory: gitDir } },
          },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
  }, 180_000);
  afterAll(async () => {
    await stop?.();
    fs.rmSync(gitDir, { recursive: true, force: true });
  });

  async function dryRun(name: string, values: Record<string, unknown>) {
    const res = await request(server)
      .post('/api/scaffolder/v2/dry-run')
      .set('Authorization', mockCredentials.user.header())
      .send({ ...templateRequest(name), values, secrets: {} });
    if (res.status !== 200) {
      throw new Error(
        `dry run answered ${res.status}: ${JSON.stringify(res.body)}`,
      );
    }
    const failed = (res.body.log as any[]).filter(
      l => l.body?.status === 'failed',
    );
    expect(failed).toEqual([]);
    return res.body;
  }

  async function validEntities(text: string): Promise<Entity[]> {
    const entities = parseAllDocuments(text).map(d => d.toJSON() as Entity);
    for (const entity of entities) {
      if (entity.apiVersion.startsWith('loopline.dev/')) {
        await expect(processor.validateEntityKind(entity)).resolves.toBe(true);
      }
    }
    return entities;
  }

  function compilePython(files: Map<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-py-'));
    try {
      const python = [...files.keys()].filter(f => f.endsWith('.py'));
      for (const file of python) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), files.get(file)!);
      }
      execFileSync(PYTHON, ['-m', 'py_compile', ...python], { cwd: dir });
      return python;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it.each(['classification', 'regression'])(
    'renders the ML model project for %s',
    async taskType => {
      const body = await dryRun('ml-project', {
        name: `wine-${taskType}`,
        description: 'Wine, predicted',
        owner: 'group:default/wine-science',
        system: 'system:default/wine-quality',
        taskType,
        dataset: 'dataset:default/wine-quality-raw',
        targetColumn: 'quality',
        primaryMetric: taskType === 'classification' ? 'accuracy' : 'rmse',
        driftMethod: 'psi',
        driftSchedule: '0 * * * *',
        servingTarget: 'kserve',
        publishTo: 'local',
      });
      const files = generated(body);
      expect([...files.keys()].sort()).toEqual([
        '.github/workflows/ci.yml',
        'Dockerfile',
        'README.md',
        'catalog-info.yaml',
        'dataset.json',
        'docs/index.md',
        'docs/model-card.md',
        'mkdocs.yml',
        'requirements.txt',
        'serving/inference-service.yaml',
        'tests/test_train.py',
        'train.py',
      ]);

      const entities = await validEntities(files.get('catalog-info.yaml')!);
      expect(entities.map(e => `${e.kind}:${e.metadata.name}`)).toEqual([
        `Model:wine-${taskType}`,
        `Pipeline:wine-${taskType}-training`,
        `Component:wine-${taskType}`,
      ]);
      expect(entities[0].spec).toMatchObject({
        type: taskType,
        owner: 'group:default/wine-science',
        trainedOn: ['dataset:default/wine-quality-raw'],
        producedBy: `pipeline:wine-${taskType}-training`,
        monitoring: { drift: { method: 'psi', schedule: '0 * * * *' } },
        serving: { runtime: 'onnx', target: 'kserve' },
      });

      expect(entities[2].spec).toMatchObject({
        dependsOn: [`model:default/wine-${taskType}`],
      });

      // The Dataset's schema, as the catalog had it, drives the features.
      const dataset = JSON.parse(files.get('dataset.json')!);
      expect(dataset).toMatchObject({
        entityRef: 'dataset:default/wine-quality-raw',
        location: 'file:examples/data/winequality.csv',
        format: 'csv',
        target: 'quality',
      });
      expect(dataset.fields).toContainEqual(
        expect.objectContaining({ name: 'quality', role: 'target' }),
      );
      expect(files.get('train.py')).toContain(`TASK = "${taskType}"`);
      expect(compilePython(files).sort()).toEqual([
        'tests/test_train.py',
        'train.py',
      ]);

      // The CI workflow keeps GitHub's own expressions.
      expect(files.get('.github/workflows/ci.yml')).toContain(
        '${{ secrets.LOOPLINE_TOKEN }}',
      );

      const manifest = parse(files.get('serving/inference-service.yaml')!);
      const validator = inferenceServiceValidator();
      expect(validator.unknownFields(structuredClone(manifest), false)).toEqual(
        [],
      );
      expect(validator.validate(structuredClone(manifest))).toEqual([]);
      expect(manifest.metadata.annotations['loopline.dev/entity-ref']).toBe(
        `model:default/wine-${taskType}`,
      );

      // Output links: the repository and the new entities.
      expect(body.output.links).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            title: 'Repository',
            url: `http://localhost:7007/api/scaffolder/git/wine-${taskType}.git`,
          }),
          expect.objectContaining({
            entityRef: `model:default/wine-${taskType}`,
          }),
        ]),
      );
    },
    120_000,
  );

  it('renders the Dataset template', async () => {
    const body = await dryRun('dataset', {
      name: 'wine-reviews',
      owner: 'group:default/wine-science',
      type: 'training',
      location: 's3://acme-ml/wine/reviews/',
      format: 'parquet',
      fields: [
        { name: 'review_id', type: 'string', role: 'id' },
        { name: 'text', type: 'string', role: 'feature', nullable: true },
        { name: 'stars', type: 'integer', role: 'target' },
      ],
      expectations: [
        { type: 'expect_column_values_to_be_unique', column: 'review_id' },
      ],
      publishTo: 'local',
    });
    const [dataset] = await validEntities(
      generated(body).get('catalog-info.yaml')!,
    );
    expect(dataset).toMatchObject({
      kind: 'Dataset',
      metadata: { name: 'wine-reviews' },
      spec: {
        location: 's3://acme-ml/wine/reviews/',
        format: 'parquet',
        schema: {
          fields: expect.arrayContaining([
            expect.objectContaining({ name: 'stars', role: 'target' }),
          ]),
        },
        expectations: [
          { type: 'expect_column_values_to_be_unique', column: 'review_id' },
        ],
      },
    });
  }, 120_000);

  it('renders the Training pipeline template', async () => {
    const body = await dryRun('training-pipeline', {
      name: 'wine-retraining',
      owner: 'group:default/wine-science',
      consumes: ['dataset:default/wine-features'],
      produces: ['model:default/wine-quality'],
      schedule: '0 4 * * 1',
      runner: 'kubernetes',
      image: 'ghcr.io/acme/wine-train:1',
      steps: [
        { name: 'validate', command: 'python validate.py' },
        { name: 'train', command: 'python train.py --epochs 3' },
      ],
      publishTo: 'local',
    });
    const [pipeline] = await validEntities(
      generated(body).get('catalog-info.yaml')!,
    );
    expect(pipeline.spec).toMatchObject({
      type: 'training',
      schedule: '0 4 * * 1',
      consumes: ['dataset:default/wine-features'],
      produces: ['model:default/wine-quality'],
      runner: { type: 'kubernetes', image: 'ghcr.io/acme/wine-train:1' },
      steps: [
        { name: 'validate', command: ['python', 'validate.py'] },
        {
          name: 'train',
          command: ['python', 'train.py', '--epochs', '3'],
          dependsOn: ['validate'],
        },
      ],
    });
  }, 120_000);

  it('stops at the validate step when the name is taken, before publishing', async () => {
    const res = await request(server)
      .post('/api/scaffolder/v2/dry-run')
      .set('Authorization', mockCredentials.user.header())
      .send({
        ...templateRequest('ml-project'),
        values: {
          name: 'wine-quality',
          owner: 'group:default/wine-science',
          system: 'system:default/wine-quality',
          taskType: 'regression',
          dataset: 'dataset:default/wine-quality-raw',
          targetColumn: 'quality',
          primaryMetric: 'rmse',
          driftMethod: 'psi',
          driftSchedule: '0 * * * *',
          servingTarget: 'embedded',
          publishTo: 'local',
        },
        secrets: {},
      });
    const text = JSON.stringify(res.body);
    expect(text).toContain(
      'model:default/wine-quality is already in the catalog',
    );
    // Nothing was published: the step after validate never ran.
    expect(text).not.toContain('Dry run: would publish');
    expect(fs.existsSync(path.join(gitDir, 'wine-quality.git'))).toBe(false);
  });

  it('refuses form values the parameters refuse', async () => {
    const res = await request(server)
      .post('/api/scaffolder/v2/dry-run')
      .set('Authorization', mockCredentials.user.header())
      .send({
        ...templateRequest('dataset'),
        values: {
          name: 'x',
          owner: 'group:default/wine-science',
          type: 'raw',
          location: 'no-scheme',
          format: 'csv',
          fields: [],
          publishTo: 'local',
        },
        secrets: {},
      });
    expect(res.status).toBe(400);
  });
});
