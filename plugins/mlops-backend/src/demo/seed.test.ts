import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { applyMigrations } from '../database/migrations';
import { AuditStore, AuditTrail } from '../audit';
import {
  FileSystemArtifactStore,
  RegistryService,
  RegistryStore,
} from '../registry';
import { TrackingService, TrackingStore } from '../tracking';
import { seedDemoModels } from './seed';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe.each(databaseIds)('seedDemoModels on %s', databaseId => {
  let artifactDir: string;
  beforeEach(() => {
    artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-seed-'));
  });
  afterEach(() => fs.rmSync(artifactDir, { recursive: true, force: true }));

  it('registers two trained, checked versions per demo model, once', async () => {
    const knex = await databases.init(databaseId);
    await applyMigrations(knex);
    const tracking = new TrackingService(new TrackingStore(knex));
    const registry = new RegistryService({
      store: new RegistryStore(knex),
      artifacts: new FileSystemArtifactStore(artifactDir, {
        maxBytes: 1 << 20,
      }),
      auditTrail: new AuditTrail(
        new AuditStore(knex),
        mockServices.auditor.mock(),
      ),
      runLookup: ids => tracking.lookupRunSummaries(ids),
    });
    const seed = () =>
      seedDemoModels({
        tracking,
        registry,
        credentials: mockCredentials.service('plugin:mlops'),
        logger: mockServices.logger.mock(),
      });

    await seed();
    await seed(); // a restart on the same database adds nothing

    for (const name of [
      'wine-quality',
      'wine-type-classifier',
      'customer-churn',
    ]) {
      const versions = await registry.listVersions(name);
      expect(versions.map(v => [v.version, v.stage, v.aliases])).toEqual([
        [2, 'Staging', ['challenger']],
        [1, 'Production', ['champion']],
      ]);
      for (const version of versions) {
        expect(version.status).toBe('READY');
        expect(version.signature!.inputs[0]).toMatchObject({
          datatype: 'FP32',
        });
        expect(version.artifact!.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(Object.keys(version.metrics).length).toBeGreaterThan(2);
        // The artifact reads back, verified against its sha256.
        const bytes = await registry.readArtifact(name, version.version);
        expect(bytes.length).toBe(version.artifact!.sizeBytes);
      }
      const runs = await tracking.listRunsOfModel({ modelName: name });
      expect(runs.map(r => r.status)).toEqual(['FINISHED', 'FINISHED']);
    }

    const [wineRun] = (await registry.listVersions('wine-quality')).map(
      v => v.runId!,
    );
    const curve = await tracking.getFullMetricHistory(wineRun, 'val_rmse');
    expect(curve.map(p => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
