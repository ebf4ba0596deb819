import {
  mockCredentials,
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { createHash } from 'crypto';
import { Knex } from 'knex';
import { promises as fs, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AuditStore, AuditTrail } from '../audit';
import { applyMigrations } from '../database/migrations';
import { linearRegressionOnnx } from './__testUtils__/onnxModels';
import {
  ArtifactIntegrityError,
  ArtifactTooLargeError,
} from './artifacts/ArtifactStore';
import { FileSystemArtifactStore } from './artifacts/FileSystemArtifactStore';
import { OnnxInspector } from './onnx/OnnxInspector';
import { RegistryService, RunData } from './RegistryService';
import { RegistryStore } from './RegistryStore';

// Both engines named explicitly: a missing PostgreSQL fails instead of skipping.
const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const alice = mockCredentials.user('user:default/alice');
const ci = mockCredentials.service('external:ci');

const RUN_A = 'a'.repeat(32);
const RUN_B = 'b'.repeat(32);
const RUNS = new Map<string, RunData>([
  [RUN_A, { metrics: { rmse: 0.61, r2: 0.42 }, params: { alpha: '0.5' } }],
  [RUN_B, { metrics: { rmse: 0.58 }, params: { alpha: '0.1' } }],
]);

/** A test title for a value, shortened when long. */
const label = (value: string) =>
  value.length > 40
    ? `${JSON.stringify(value.slice(0, 8))}... (${value.length} characters)`
    : JSON.stringify(value);

const sha256 = (bytes: Buffer) =>
  createHash('sha256').update(bytes).digest('hex');

describe.each(databaseIds)('RegistryService on %s', databaseId => {
  let artifactDir: string;
  let knex: Knex;

  // One database per engine, emptied before each test: creating and dropping
  // a PostgreSQL database per test costs far more than the tests themselves.
  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await applyMigrations(knex);
  }, 60_000);

  beforeEach(() => {
    artifactDir = mkdtempSync(join(tmpdir(), 'loopline-registry-'));
  });
  afterEach(() => {
    rmSync(artifactDir, { recursive: true, force: true });
  });

  async function setup(options?: { maxBytes?: number }) {
    for (const table of [
      'registry_aliases',
      'registry_version_tags',
      'registry_versions',
      'registry_model_tags',
      'registry_models',
      'audit_events',
    ]) {
      await knex(table).delete();
    }
    const auditor = mockServices.auditor.mock();
    const auditStore = new AuditStore(knex);
    const artifacts = new FileSystemArtifactStore(artifactDir, {
      maxBytes: options?.maxBytes ?? 1024 * 1024,
    });
    const inspector = new OnnxInspector();
    const inspect = jest.spyOn(inspector, 'inspect');
    const runLookup = jest.fn(async (runIds: string[]) => {
      const found = new Map<string, RunData>();
      for (const id of runIds) {
        const run = RUNS.get(id);
        if (run) found.set(id, run);
      }
      return found;
    });
    let now = 1_700_000_000_000;
    const service = new RegistryService({
      store: new RegistryStore(knex),
      artifacts,
      auditTrail: new AuditTrail(auditStore, auditor),
      runLookup,
      inspector,
      clock: () => (now += 1000),
    });
    const audit = async (entityRef: string) =>
      (await auditStore.list({ entityRef, limit: 200 })).items.reverse();
    return { knex, service, auditor, audit, artifacts, inspect, runLookup };
  }

  describe('registered models', () => {
    it('creates a model tied to model:default/<name> and refuses a second one', async () => {
      const { service } = await setup();
      const model = await service.createRegisteredModel({
        name: 'Wine-Quality',
        description: 'Predicts wine quality',
        tags: { team: 'ml' },
      });
      expect(model).toEqual({
        name: 'Wine-Quality',
        entityRef: 'model:default/wine-quality',
        description: 'Predicts wine quality',
        createdAt: 1_700_000_001_000,
        updatedAt: 1_700_000_001_000,
        tags: { team: 'ml' },
        aliases: {},
      });
      await expect(service.getRegisteredModel('Wine-Quality')).resolves.toEqual(
        model,
      );

      const conflict = await service
        .createRegisteredModel({ name: 'Wine-Quality' })
        .catch(e => e);
      expect(conflict).toBeInstanceOf(ConflictError);
      expect(conflict.message).toBe(
        "Registered model 'Wine-Quality' already exists",
      );

      const missing = await service.getRegisteredModel('nope').catch(e => e);
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing.message).toBe("Registered model 'nope' not found");
    });

    it('ties models to a named catalog Model and finds them by entity ref', async () => {
      const { service } = await setup();
      await service.createRegisteredModel({
        name: 'churn-xgb',
        entityRef: 'Model:default/Customer-Churn',
      });
      await service.createRegisteredModel({
        name: 'churn-logreg',
        tags: { 'loopline.dev/entity-ref': 'model:default/customer-churn' },
      });
      await service.createRegisteredModel({ name: 'other' });

      expect(
        (await service.findByEntityRef('model:default/customer-churn')).map(
          m => m.name,
        ),
      ).toEqual(['churn-logreg', 'churn-xgb']);
      expect(service.entityRefFor('x', {})).toBe('model:default/x');
      expect(
        service.entityRefFor('x', { 'loopline.dev/entity-ref': 'team/Y' }),
      ).toBe('model:team/y');
      expect(() =>
        service.entityRefFor('x', {
          'loopline.dev/entity-ref': 'component:default/y',
        }),
      ).toThrow(InputError);
    });

    it.each(
      [
        ['', 'non-empty'],
        ['a/b', 'slash'],
        ['a\\b', 'slash'],
        ['..', 'starts with a dot'],
        [' padded', 'white space'],
        ['tab\there', 'control character'],
        ['x'.repeat(257), 'longer than 256'],
      ].map(([name, why]) => [label(name), name, why]),
    )('refuses the model name %s', async (_label, name, why) => {
      const { service } = await setup();
      await expect(service.createRegisteredModel({ name })).rejects.toThrow(
        InputError,
      );
      await expect(service.createRegisteredModel({ name })).rejects.toThrow(
        why,
      );
    });

    it('updates the description and tags', async () => {
      const { service } = await setup();
      const created = await service.createRegisteredModel({ name: 'wine' });
      const updated = await service.updateRegisteredModel('wine', {
        description: 'v2 of the card',
      });
      expect(updated.description).toBe('v2 of the card');
      expect(updated.updatedAt).toBeGreaterThan(created.updatedAt);

      await service.setRegisteredModelTag('wine', 'team', 'ml');
      await service.setRegisteredModelTag('wine', 'team', 'platform');
      await service.setRegisteredModelTag('wine', 'tier', 'gold');
      expect((await service.getRegisteredModel('wine')).tags).toEqual({
        team: 'platform',
        tier: 'gold',
      });
      await service.deleteRegisteredModelTag('wine', 'tier');
      await expect(
        service.deleteRegisteredModelTag('wine', 'tier'),
      ).rejects.toThrow("No tag 'tier' on registered model 'wine'");
      await expect(
        service.setRegisteredModelTag('wine', 'k'.repeat(251), 'v'),
      ).rejects.toThrow(InputError);
      await expect(
        service.updateRegisteredModel('nope', { description: 'x' }),
      ).rejects.toThrow(NotFoundError);
    });

    it('searches with MLflow filters, ordering and page tokens', async () => {
      const { service } = await setup();
      for (const name of ['wine', 'Wine-Red', 'wine_white', 'churn', 'fraud']) {
        await service.createRegisteredModel({
          name,
          tags: name.toLowerCase().startsWith('w')
            ? { team: 'vino' }
            : { team: 'risk' },
        });
      }
      const names = async (
        request: Parameters<RegistryService['searchRegisteredModels']>[0],
      ) =>
        (await service.searchRegisteredModels(request)).items.map(m => m.name);

      expect(await names({})).toEqual([
        'Wine-Red',
        'churn',
        'fraud',
        'wine',
        'wine_white',
      ]);
      expect(await names({ filter: "name = 'wine'" })).toEqual(['wine']);
      // LIKE is case-sensitive on both engines, ILIKE is not.
      expect(await names({ filter: "name LIKE 'wine%'" })).toEqual([
        'wine',
        'wine_white',
      ]);
      expect(await names({ filter: "name ILIKE 'wine%'" })).toEqual([
        'Wine-Red',
        'wine',
        'wine_white',
      ]);
      expect(await names({ filter: "name LIKE 'w_ne'" })).toEqual(['wine']);
      expect(
        await names({ filter: "tags.team = 'risk' AND name != 'fraud'" }),
      ).toEqual(['churn']);
      expect(await names({ filter: 'tags.`team` LIKE "ri%"' })).toEqual([
        'churn',
        'fraud',
      ]);
      expect(await names({ orderBy: ['name DESC'] })).toEqual([
        'wine_white',
        'wine',
        'fraud',
        'churn',
        'Wine-Red',
      ]);
      expect(await names({ orderBy: ['last_updated_timestamp DESC'] })).toEqual(
        ['fraud', 'churn', 'wine_white', 'Wine-Red', 'wine'],
      );

      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await service.searchRegisteredModels({
          maxResults: 2,
          pageToken,
        });
        seen.push(...page.items.map(m => m.name));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken);
      expect(pages).toBe(3);
      expect(seen).toEqual(await names({}));

      await expect(
        service.searchRegisteredModels({ filter: "name = 'x' OR name = 'y'" }),
      ).rejects.toThrow(
        `Invalid filter 'name = 'x' OR name = 'y'' at position 11: OR is not supported; join clauses with AND`,
      );
      await expect(
        service.searchRegisteredModels({ filter: "owner = 'x'" }),
      ).rejects.toThrow(/unknown attribute 'owner' for registered models/);
      await expect(
        service.searchRegisteredModels({ filter: "name = 'x" }),
      ).rejects.toThrow(
        /at position 7: unterminated quoted text starting with '/,
      );
      await expect(
        service.searchRegisteredModels({ pageToken: 'garbage' }),
      ).rejects.toThrow("Invalid page token 'garbage'");
      await expect(
        service.searchRegisteredModels({ maxResults: 5000 }),
      ).rejects.toThrow(InputError);
      await expect(
        service.searchRegisteredModels({ orderBy: ['owner ASC'] }),
      ).rejects.toThrow(InputError);
    });

    it('deletes a model with its versions, aliases and artifacts', async () => {
      const { service, artifacts, audit } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        artifact: linearRegressionOnnx(),
        credentials: alice,
      });
      await service.setAlias({
        name: 'wine',
        alias: 'champion',
        version: 1,
        credentials: alice,
      });
      expect(await artifacts.exists('wine/1/model.onnx')).toBe(true);

      await service.deleteRegisteredModel({
        name: 'wine',
        comment: 'retired',
        credentials: alice,
      });
      await expect(service.getRegisteredModel('wine')).rejects.toThrow(
        NotFoundError,
      );
      expect(await artifacts.exists('wine')).toBe(false);
      expect((await audit('model:default/wine')).pop()).toMatchObject({
        action: 'registry.model.delete',
        comment: 'retired',
        details: { registeredModel: 'wine', versions: [1] },
      });
      // The name is free again, and numbering starts over.
      await service.createRegisteredModel({ name: 'wine' });
      const again = await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: alice,
      });
      expect(again.version).toBe(1);
      expect(again.aliases).toEqual([]);
    });

    it('renames without moving files; a new model of the old name keeps its own', async () => {
      const { service, artifacts } = await setup();
      const first = linearRegressionOnnx();
      const second = linearRegressionOnnx([9, 9, 9], 9);
      expect(first.equals(second)).toBe(false);
      await service.createRegisteredModel({ name: 'wine' });
      const v1 = await service.createVersion({
        name: 'wine',
        source: 's',
        artifact: first,
        credentials: alice,
      });
      expect(v1.artifact?.path).toBe('wine/1/model.onnx');

      await service.renameRegisteredModel({
        name: 'wine',
        newName: 'red-wine',
        credentials: alice,
      });
      // The file stayed where it was recorded, and later versions join it.
      expect(await service.readArtifact('red-wine', 1)).toEqual(first);
      const v2 = await service.createVersion({
        name: 'red-wine',
        source: 's',
        artifact: first,
        credentials: alice,
      });
      expect(v2.artifact?.path).toBe('wine/2/model.onnx');

      // A new model named like the old one writes into a folder of its own.
      await service.createRegisteredModel({ name: 'wine' });
      const other = await service.createVersion({
        name: 'wine',
        source: 's',
        artifact: second,
        credentials: alice,
      });
      expect(other.artifact?.path).toMatch(
        /^wine~[0-9a-f]{8}\/1\/model\.onnx$/,
      );
      expect(await service.readArtifact('red-wine', 1)).toEqual(first);
      expect(await service.readArtifact('wine', 1)).toEqual(second);

      // Deleting one removes its files only.
      await service.deleteRegisteredModel({
        name: 'red-wine',
        credentials: alice,
      });
      expect(await artifacts.exists('wine')).toBe(false);
      expect(await service.readArtifact('wine', 1)).toEqual(second);
      await service.deleteRegisteredModel({ name: 'wine', credentials: alice });
      expect(await artifacts.list('')).toEqual([]);
    });
  });

  describe('versions', () => {
    it('registers consecutive versions with run metrics and params, audited', async () => {
      const { service, audit, auditor, runLookup } = await setup();
      await service.createRegisteredModel({ name: 'wine' });

      const v1 = await service.createVersion({
        name: 'wine',
        source: `runs:/${RUN_A}/model`,
        runId: RUN_A,
        description: 'first',
        tags: { dataset: 'wine-2024' },
        credentials: alice,
      });
      expect(v1).toEqual({
        name: 'wine',
        version: 1,
        entityRef: 'model:default/wine',
        description: 'first',
        source: `runs:/${RUN_A}/model`,
        runId: RUN_A,
        status: 'READY',
        stage: 'None',
        aliases: [],
        creator: 'user:default/alice',
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
        tags: { dataset: 'wine-2024' },
        metrics: { rmse: 0.61, r2: 0.42 },
        params: { alpha: '0.5' },
      });
      const v2 = await service.createVersion({
        name: 'wine',
        source: 's3://bucket/wine/2',
        credentials: ci,
      });
      expect(v2).toMatchObject({
        version: 2,
        creator: 'external:ci',
        metrics: {},
        params: {},
        tags: {},
      });
      expect(v2).not.toHaveProperty('runId');
      const v3 = await service.createVersion({
        name: 'wine',
        source: 'x',
        runId: 'f'.repeat(32), // a run tracking does not know
        credentials: ci,
      });
      expect(v3.metrics).toEqual({});

      expect((await service.listVersions('wine')).map(v => v.version)).toEqual([
        3, 2, 1,
      ]);
      expect(runLookup).toHaveBeenCalledWith([RUN_A]);
      expect((await service.getRegisteredModel('wine')).updatedAt).toBe(
        v3.updatedAt,
      );

      const events = await audit('model:default/wine');
      expect(events.map(e => [e.action, e.actor, e.details])).toEqual([
        [
          'registry.version.create',
          'user:default/alice',
          {
            registeredModel: 'wine',
            version: 1,
            source: `runs:/${RUN_A}/model`,
            runId: RUN_A,
          },
        ],
        [
          'registry.version.create',
          'external:ci',
          { registeredModel: 'wine', version: 2, source: 's3://bucket/wine/2' },
        ],
        [
          'registry.version.create',
          'external:ci',
          {
            registeredModel: 'wine',
            version: 3,
            source: 'x',
            runId: 'f'.repeat(32),
          },
        ],
      ]);
      expect(auditor.createEvent).toHaveBeenCalledWith(
        expect.objectContaining({ eventId: 'registry-version-create' }),
      );
    });

    it('refuses bad requests and unknown models or versions', async () => {
      const { service } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await expect(
        service.createVersion({
          name: 'nope',
          source: 's',
          credentials: alice,
        }),
      ).rejects.toThrow("Registered model 'nope' not found");
      await expect(
        service.createVersion({
          name: 'wine',
          source: ' ',
          credentials: alice,
        }),
      ).rejects.toThrow(InputError);
      await expect(
        service.createVersion({
          name: 'wine',
          source: 's',
          runId: 'r'.repeat(65),
          credentials: alice,
        }),
      ).rejects.toThrow(InputError);
      await expect(
        service.createVersion({
          name: 'wine',
          source: 's',
          tags: { k: 'v'.repeat(5001) },
          credentials: alice,
        }),
      ).rejects.toThrow(InputError);

      const missing = await service.getVersion('wine', 7).catch(e => e);
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing.message).toBe("Registered model 'wine' has no version 7");
      await expect(service.getVersion('nope', 1)).rejects.toThrow(
        "Registered model 'nope' not found",
      );
      await expect(service.getVersion('wine', 0)).rejects.toThrow(InputError);
      await expect(service.getVersion('wine', 1.5)).rejects.toThrow(InputError);
      await expect(service.listVersions('nope')).rejects.toThrow(NotFoundError);
      // Failed attempts consumed no number.
      const first = await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: alice,
      });
      expect(first.version).toBe(1);
    });

    it('numbers 50 concurrent registrations 1..50 without a gap or a duplicate', async () => {
      const { service, audit } = await setup();
      await service.createRegisteredModel({ name: 'busy' });
      await service.createRegisteredModel({ name: 'quiet' });

      const created = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          service.createVersion({
            name: i % 10 === 9 ? 'quiet' : 'busy',
            source: `s3://models/${i}`,
            credentials: ci,
          }),
        ),
      );
      const busy = created.filter(v => v.name === 'busy').map(v => v.version);
      const quiet = created.filter(v => v.name === 'quiet').map(v => v.version);
      expect([...busy].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 45 }, (_, i) => i + 1),
      );
      expect([...quiet].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
      expect((await service.listVersions('busy')).map(v => v.version)).toEqual(
        Array.from({ length: 45 }, (_, i) => 45 - i),
      );
      expect(
        (await audit('model:default/busy')).filter(
          e => e.action === 'registry.version.create',
        ),
      ).toHaveLength(45);

      // And once more with all 50 on one model.
      await service.createRegisteredModel({ name: 'hot' });
      const hot = await Promise.all(
        Array.from({ length: 50 }, () =>
          service.createVersion({ name: 'hot', source: 's', credentials: ci }),
        ),
      );
      expect(hot.map(v => v.version).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it('updates descriptions and tags of a version', async () => {
      const { service } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      const updated = await service.updateVersion('wine', 1, {
        description: 'better',
      });
      expect(updated.description).toBe('better');
      await service.setVersionTag('wine', 1, 'validated', 'true');
      expect((await service.getVersion('wine', 1)).tags).toEqual({
        validated: 'true',
      });
      await service.deleteVersionTag('wine', 1, 'validated');
      expect((await service.getVersion('wine', 1)).tags).toEqual({});
      await expect(
        service.deleteVersionTag('wine', 1, 'validated'),
      ).rejects.toThrow(
        "No tag 'validated' on version 1 of registered model 'wine'",
      );
      await expect(service.setVersionTag('wine', 2, 'k', 'v')).rejects.toThrow(
        NotFoundError,
      );
    });

    it('searches versions by name, run, number and tag, with pages', async () => {
      const { service } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createRegisteredModel({ name: 'churn' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        runId: RUN_A,
        credentials: ci,
      });
      await service.createVersion({
        name: 'wine',
        source: 's',
        runId: RUN_B,
        credentials: ci,
      });
      await service.createVersion({
        name: 'wine',
        source: 's',
        tags: { validated: 'true' },
        credentials: ci,
      });
      await service.createVersion({
        name: 'churn',
        source: 's',
        runId: RUN_A,
        credentials: ci,
      });
      await service.transitionStage({
        name: 'wine',
        version: 2,
        stage: 'Production',
        credentials: alice,
      });
      const found = async (filter?: string, orderBy?: string[]) =>
        (await service.searchVersions({ filter, orderBy })).items.map(
          v => `${v.name}/${v.version}`,
        );

      expect(await found()).toEqual(['churn/1', 'wine/3', 'wine/2', 'wine/1']);
      expect(await found("name='wine'")).toEqual([
        'wine/3',
        'wine/2',
        'wine/1',
      ]);
      expect(await found(`run_id = '${RUN_A}'`)).toEqual(['churn/1', 'wine/1']);
      expect(
        await found(`run_id IN ('${RUN_A}', '${RUN_B}') and name = 'wine'`),
      ).toEqual(['wine/2', 'wine/1']);
      expect(await found("name = 'wine' AND version_number >= 2")).toEqual([
        'wine/3',
        'wine/2',
      ]);
      expect(await found("tags.validated = 'true'")).toEqual(['wine/3']);
      expect(await found("current_stage = 'production'")).toEqual(['wine/2']);
      expect(await found(undefined, ['version_number ASC'])).toEqual([
        'churn/1',
        'wine/1',
        'wine/2',
        'wine/3',
      ]);
      const first = await service.searchVersions({ maxResults: 3 });
      expect(first.items).toHaveLength(3);
      const second = await service.searchVersions({
        maxResults: 3,
        pageToken: first.nextPageToken,
      });
      expect(second.items.map(v => `${v.name}/${v.version}`)).toEqual([
        'wine/1',
      ]);
      expect(second.nextPageToken).toBeUndefined();
      expect(second.items[0].metrics).toEqual({ rmse: 0.61, r2: 0.42 });
      await expect(found('version_number > abc')).rejects.toThrow(
        /expected a number to compare attribute 'version_number' with/,
      );
      await expect(found("current_stage = 'Prod'")).rejects.toThrow(InputError);
    });
  });

  describe('stages', () => {
    it('moves versions between stages, archiving the previous one when asked, audited', async () => {
      const { service, audit } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      for (let i = 0; i < 4; i++) {
        await service.createVersion({
          name: 'wine',
          source: 's',
          credentials: ci,
        });
      }

      const v1 = await service.transitionStage({
        name: 'wine',
        version: 1,
        stage: 'Production',
        comment: 'first release',
        credentials: alice,
      });
      expect(v1.stage).toBe('Production');
      // Without archiving, two versions may share a stage.
      await service.transitionStage({
        name: 'wine',
        version: 2,
        stage: 'production',
        credentials: alice,
      });
      await service.transitionStage({
        name: 'wine',
        version: 3,
        stage: 'STAGING',
        credentials: alice,
      });

      const v4 = await service.transitionStage({
        name: 'wine',
        version: 4,
        stage: 'Production',
        archiveExistingVersions: true,
        comment: 'rmse improved by 4%',
        credentials: alice,
      });
      expect(v4.stage).toBe('Production');
      const stages = Object.fromEntries(
        (await service.listVersions('wine')).map(v => [v.version, v.stage]),
      );
      expect(stages).toEqual({
        1: 'Archived',
        2: 'Archived',
        3: 'Staging',
        4: 'Production',
      });

      const events = (await audit('model:default/wine')).filter(
        e => e.action === 'registry.stage.transition',
      );
      expect(events.map(e => [e.comment, e.details])).toEqual([
        [
          'first release',
          {
            registeredModel: 'wine',
            version: 1,
            from: 'None',
            to: 'Production',
            archived: [],
          },
        ],
        [
          undefined,
          {
            registeredModel: 'wine',
            version: 2,
            from: 'None',
            to: 'Production',
            archived: [],
          },
        ],
        [
          undefined,
          {
            registeredModel: 'wine',
            version: 3,
            from: 'None',
            to: 'Staging',
            archived: [],
          },
        ],
        [
          'rmse improved by 4%',
          {
            registeredModel: 'wine',
            version: 4,
            from: 'None',
            to: 'Production',
            archived: [1, 2],
          },
        ],
        [
          'rmse improved by 4%',
          {
            registeredModel: 'wine',
            version: 1,
            from: 'Production',
            to: 'Archived',
            archived: [],
            archivedBy: 4,
          },
        ],
        [
          'rmse improved by 4%',
          {
            registeredModel: 'wine',
            version: 2,
            from: 'Production',
            to: 'Archived',
            archived: [],
            archivedBy: 4,
          },
        ],
      ]);
      expect(events.every(e => e.actor === 'user:default/alice')).toBe(true);

      expect(
        (await service.getLatestVersions('wine')).map(v => [
          v.stage,
          v.version,
        ]),
      ).toEqual([
        ['Staging', 3],
        ['Production', 4],
        ['Archived', 2],
      ]);
      expect(
        (await service.getLatestVersions('wine', ['production', 'None'])).map(
          v => v.version,
        ),
      ).toEqual([4]);

      // A search page's models at once: the same answer as one by one.
      await service.createRegisteredModel({ name: 'empty' });
      const latest = await service.getLatestVersionsOf(['wine', 'empty']);
      expect([...latest.keys()]).toEqual(['wine', 'empty']);
      expect(latest.get('wine')).toEqual(
        await service.getLatestVersions('wine'),
      );
      expect(latest.get('empty')).toEqual([]);
    });

    it('refuses bad stages and archiving from inactive stages', async () => {
      const { service, audit } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      await expect(
        service.transitionStage({
          name: 'wine',
          version: 1,
          stage: 'Prod',
          credentials: alice,
        }),
      ).rejects.toThrow(
        'Invalid stage "Prod": expected one of None, Staging, Production, Archived',
      );
      await expect(
        service.transitionStage({
          name: 'wine',
          version: 1,
          stage: 'Archived',
          archiveExistingVersions: true,
          credentials: alice,
        }),
      ).rejects.toThrow(/only Staging and Production/);
      await expect(
        service.transitionStage({
          name: 'wine',
          version: 9,
          stage: 'Staging',
          credentials: alice,
        }),
      ).rejects.toThrow("Registered model 'wine' has no version 9");
      await expect(service.getLatestVersions('wine', ['Nope'])).rejects.toThrow(
        InputError,
      );
      expect(
        (await audit('model:default/wine')).filter(
          e => e.action === 'registry.stage.transition',
        ),
      ).toEqual([]);
    });

    it('changes nothing when the audit entry cannot be written', async () => {
      const { service, auditor, audit } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      await service.transitionStage({
        name: 'wine',
        version: 1,
        stage: 'Production',
        credentials: alice,
      });
      auditor.createEvent.mockRejectedValueOnce(new Error('auditor down'));

      await expect(
        service.transitionStage({
          name: 'wine',
          version: 2,
          stage: 'Production',
          archiveExistingVersions: true,
          credentials: alice,
        }),
      ).rejects.toThrow('auditor down');
      expect(
        (await service.listVersions('wine')).map(v => [v.version, v.stage]),
      ).toEqual([
        [2, 'None'],
        [1, 'Production'],
      ]);
      expect(
        (await audit('model:default/wine')).filter(
          e => e.action === 'registry.stage.transition',
        ),
      ).toHaveLength(1);
    });
  });

  describe('aliases', () => {
    it('sets, moves and deletes an alias, audited with the previous version', async () => {
      const { service, audit } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });

      const set = await service.setAlias({
        name: 'wine',
        alias: 'champion',
        version: 1,
        comment: 'baseline',
        credentials: alice,
      });
      expect(set.version).toBe(1);
      expect(set.aliases).toEqual(['champion']);
      await service.setAlias({
        name: 'wine',
        alias: 'challenger',
        version: 2,
        credentials: alice,
      });
      expect(
        (await service.getVersionByAlias('wine', 'champion')).version,
      ).toBe(1);

      // Moving: the alias leaves v1 for v2.
      const moved = await service.setAlias({
        name: 'wine',
        alias: 'champion',
        version: 2,
        comment: 'v2 won the A/B test',
        credentials: alice,
      });
      expect(moved.aliases).toEqual(['challenger', 'champion']);
      expect((await service.getVersion('wine', 1)).aliases).toEqual([]);
      expect((await service.getRegisteredModel('wine')).aliases).toEqual({
        challenger: 2,
        champion: 2,
      });

      await service.deleteAlias({
        name: 'wine',
        alias: 'challenger',
        comment: 'test over',
        credentials: ci,
      });
      await expect(
        service.getVersionByAlias('wine', 'challenger'),
      ).rejects.toThrow("Registered model 'wine' has no alias 'challenger'");
      // Deleting an alias that is not there is not an error, and not audited.
      await service.deleteAlias({
        name: 'wine',
        alias: 'challenger',
        credentials: ci,
      });

      const events = (await audit('model:default/wine')).filter(e =>
        e.action.startsWith('registry.alias.'),
      );
      expect(
        events.map(e => [e.action, e.actor, e.comment, e.details]),
      ).toEqual([
        [
          'registry.alias.set',
          'user:default/alice',
          'baseline',
          {
            registeredModel: 'wine',
            alias: 'champion',
            version: 1,
            previousVersion: null,
          },
        ],
        [
          'registry.alias.set',
          'user:default/alice',
          undefined,
          {
            registeredModel: 'wine',
            alias: 'challenger',
            version: 2,
            previousVersion: null,
          },
        ],
        [
          'registry.alias.set',
          'user:default/alice',
          'v2 won the A/B test',
          {
            registeredModel: 'wine',
            alias: 'champion',
            version: 2,
            previousVersion: 1,
          },
        ],
        [
          'registry.alias.delete',
          'external:ci',
          'test over',
          {
            registeredModel: 'wine',
            alias: 'challenger',
            version: null,
            previousVersion: 2,
          },
        ],
      ]);
    });

    it.each(
      [
        ['latest', 'reserved'],
        ['Latest', 'reserved'],
        ['v1', 'reserved for version numbers'],
        ['V12', 'reserved for version numbers'],
        ['has space', 'only letters'],
        ['a/b', 'only letters'],
        ['café', 'only letters'],
        ['', 'non-empty'],
        ['a'.repeat(256), 'longer than 255'],
      ].map(([alias, why]) => [label(alias), alias, why]),
    )('refuses the alias %s', async (_label, alias, why) => {
      const { service } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      const error = await service
        .setAlias({ name: 'wine', alias, version: 1, credentials: alice })
        .catch(e => e);
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toContain(why);
      await expect(
        service.deleteAlias({ name: 'wine', alias, credentials: alice }),
      ).rejects.toThrow(InputError);
      expect((await service.getRegisteredModel('wine')).aliases).toEqual({});
    });

    it('accepts MLflow-style names and refuses unknown versions', async () => {
      const { service } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      for (const alias of ['champion', 'Prod_2024-q1', 'v1beta', 'vx', '_']) {
        await service.setAlias({
          name: 'wine',
          alias,
          version: 1,
          credentials: alice,
        });
      }
      expect(
        Object.keys((await service.getRegisteredModel('wine')).aliases),
      ).toEqual(expect.arrayContaining(['champion', 'Prod_2024-q1', 'v1beta']));
      await expect(
        service.setAlias({
          name: 'wine',
          alias: 'x',
          version: 3,
          credentials: alice,
        }),
      ).rejects.toThrow("Registered model 'wine' has no version 3");
      await expect(
        service.setAlias({
          name: 'nope',
          alias: 'x',
          version: 1,
          credentials: alice,
        }),
      ).rejects.toThrow(NotFoundError);
    });
  });

  describe('artifacts', () => {
    it('stores a checked ONNX model with its signature and reads it back verified', async () => {
      const { service, audit, artifacts } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      const model = linearRegressionOnnx([0.1, 0.2, 0.3, 0.4]);

      const version = await service.uploadArtifact({
        name: 'wine',
        version: 1,
        bytes: model,
        credentials: ci,
      });
      expect(version.status).toBe('READY');
      expect(version.artifact).toEqual({
        path: 'wine/1/model.onnx',
        sha256: sha256(model),
        sizeBytes: model.length,
        format: 'onnx',
      });
      expect(version.signature).toEqual({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
      });
      await expect(service.readArtifact('wine', 1)).resolves.toEqual(model);
      expect(await artifacts.list('wine/1')).toEqual([
        { path: 'wine/1/model.onnx', isDir: false, sizeBytes: model.length },
      ]);
      expect((await audit('model:default/wine')).pop()).toMatchObject({
        action: 'registry.artifact.upload',
        actor: 'external:ci',
        details: { version: 1, sha256: sha256(model), sizeBytes: model.length },
      });

      // The same bytes again: nothing to do. Other bytes: a new version, please.
      await expect(
        service.uploadArtifact({
          name: 'wine',
          version: 1,
          bytes: model,
          credentials: ci,
        }),
      ).resolves.toMatchObject({ artifact: { sha256: sha256(model) } });
      await expect(
        service.uploadArtifact({
          name: 'wine',
          version: 1,
          bytes: linearRegressionOnnx([9, 9, 9, 9]),
          credentials: ci,
        }),
      ).rejects.toThrow(ConflictError);
      await expect(service.readArtifact('wine', 1)).resolves.toEqual(model);

      // Tampering on disk is caught on read.
      await fs.writeFile(
        join(artifactDir, 'wine', '1', 'model.onnx'),
        Buffer.from(model).fill(0, 10, 20),
      );
      await expect(service.readArtifact('wine', 1)).rejects.toThrow(
        ArtifactIntegrityError,
      );
    });

    it('stores nothing and changes nothing for bytes that are not an ONNX model', async () => {
      const { service, audit, artifacts } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      const before = await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      const eventsBefore = (await audit('model:default/wine')).length;

      for (const bytes of [
        Buffer.from('PK\u0003\u0004 a pickle pretending to be a model'),
        Buffer.alloc(0),
        linearRegressionOnnx().subarray(0, 30),
      ]) {
        const error = await service
          .uploadArtifact({ name: 'wine', version: 1, bytes, credentials: ci })
          .catch(e => e);
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toMatch(/not a loadable ONNX model/);
      }
      expect(await artifacts.list('')).toEqual([]);
      expect(await service.getVersion('wine', 1)).toEqual(before);
      expect((await audit('model:default/wine')).length).toBe(eventsBefore);
      await expect(service.readArtifact('wine', 1)).rejects.toThrow(
        "Version 1 of registered model 'wine' has no artifact",
      );
    });

    it('refuses a file over the size limit before inspecting it', async () => {
      const model = linearRegressionOnnx();
      const { service, inspect, artifacts } = await setup({
        maxBytes: model.length - 1,
      });
      await service.createRegisteredModel({ name: 'wine' });
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      const error = await service
        .uploadArtifact({
          name: 'wine',
          version: 1,
          bytes: model,
          credentials: ci,
        })
        .catch(e => e);
      expect(error).toBeInstanceOf(ArtifactTooLargeError);
      expect(error.name).toBe('PayloadTooLargeError');
      expect(inspect).not.toHaveBeenCalled();
      expect(await artifacts.list('')).toEqual([]);
    });

    it('refuses unknown versions and bad file names', async () => {
      const { service, inspect } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await expect(
        service.uploadArtifact({
          name: 'wine',
          version: 1,
          bytes: linearRegressionOnnx(),
          credentials: ci,
        }),
      ).rejects.toThrow("Registered model 'wine' has no version 1");
      expect(inspect).not.toHaveBeenCalled();
      await service.createVersion({
        name: 'wine',
        source: 's',
        credentials: ci,
      });
      for (const fileName of ['../x.onnx', 'model.pkl', 'a/b.onnx', '.onnx']) {
        await expect(
          service.uploadArtifact({
            name: 'wine',
            version: 1,
            bytes: linearRegressionOnnx(),
            fileName,
            credentials: ci,
          }),
        ).rejects.toThrow(InputError);
      }
      const named = await service.uploadArtifact({
        name: 'wine',
        version: 1,
        bytes: linearRegressionOnnx(),
        fileName: 'wine.onnx',
        credentials: ci,
      });
      expect(named.artifact?.path).toBe('wine/1/wine.onnx');
    });

    it('registers a version together with its artifact, or not at all', async () => {
      const { service, artifacts, audit } = await setup();
      await service.createRegisteredModel({ name: 'wine' });
      await expect(
        service.createVersion({
          name: 'wine',
          source: 'mlflow-artifacts:/1/abc/artifacts/model',
          artifact: Buffer.from('not onnx'),
          credentials: ci,
        }),
      ).rejects.toThrow(InputError);
      expect(await service.listVersions('wine')).toEqual([]);
      expect(await artifacts.list('')).toEqual([]);
      expect(await audit('model:default/wine')).toEqual([]);

      const model = linearRegressionOnnx();
      const version = await service.createVersion({
        name: 'wine',
        source: 'mlflow-artifacts:/1/abc/artifacts/model',
        artifact: model,
        credentials: ci,
      });
      expect(version).toMatchObject({
        version: 1,
        status: 'READY',
        artifact: { path: 'wine/1/model.onnx', sha256: sha256(model) },
        signature: {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
        },
      });
      expect((await audit('model:default/wine'))[0].details).toMatchObject({
        version: 1,
        sha256: sha256(model),
      });
    });
  });
});
