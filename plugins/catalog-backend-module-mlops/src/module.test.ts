import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { catalogModuleMlopsEntityModel } from './module';
import { invalidEntityCases } from './__fixtures__/invalidEntities';

jest.setTimeout(120_000);

const examplesLocation = path.resolve(__dirname, '../../../examples/catalog.yaml');
const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

interface CatalogError {
  entity: string;
  errors: Array<{ name: string; message: string }>;
}

/** Collects what the catalog publishes on its errors topic, as the logs module does. */
function catalogErrorCollector(sink: CatalogError[]) {
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'test-error-collector',
    register(env) {
      env.registerInit({
        deps: { events: eventsServiceRef },
        async init({ events }) {
          await events.subscribe({
            id: 'test-error-collector',
            topics: ['experimental.catalog.errors'],
            async onEvent({ eventPayload }) {
              sink.push(eventPayload as CatalogError);
            },
          });
        },
      });
    },
  });
}

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}`);
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

describe.each(databaseIds)('catalog with the mlops module on %s', databaseId => {
  it('ingests the demo catalog, resolves every relation and reports each invalid entity', async () => {
    // Valid and invalid entities side by side in one file: the invalid ones
    // must not stop the others.
    const mixedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-catalog-'));
    const mixedFile = path.join(mixedDir, 'mixed.yaml');
    const validNeighbour: Entity = {
      apiVersion: 'loopline.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'valid-neighbour' },
      spec: {
        type: 'reference',
        owner: 'group:wine-science',
        lifecycle: 'experimental',
        location: 's3://bucket/reference/',
        format: 'parquet',
        derivedFrom: ['wine-features'],
      },
    };
    const documents = [
      ...invalidEntityCases.slice(0, 15).map(c => c.entity),
      validNeighbour,
      ...invalidEntityCases.slice(15).map(c => c.entity),
    ];
    fs.writeFileSync(mixedFile, documents.map(d => stringify(d)).join('---\n'));

    const errors: CatalogError[] = [];
    const knex = await databases.init(databaseId);
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleMlopsEntityModel,
        catalogErrorCollector(errors),
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({
          data: {
            catalog: {
              rules: [
                {
                  allow: ['Component', 'System', 'Group', 'User', 'Location', 'Model', 'Dataset', 'Pipeline'],
                },
              ],
              locations: [
                { type: 'file', target: examplesLocation },
                { type: 'file', target: mixedFile },
              ],
            },
          },
        }),
      ],
    });

    async function entities(filter: string): Promise<Entity[]> {
      const res = await request(server).get('/api/catalog/entities').query({ filter });
      expect(res.status).toBe(200);
      return res.body;
    }

    // Wait until every entity is in and stitched with its relations.
    const expectedCounts = { model: 3, dataset: 6, pipeline: 5 };
    await waitFor(async () => {
      const ml = await entities('kind=model,kind=dataset,kind=pipeline');
      const counts = { model: 0, dataset: 0, pipeline: 0 } as Record<string, number>;
      ml.forEach(e => (counts[e.kind.toLocaleLowerCase()] += 1));
      const stitched = ml.every(e => (e.relations ?? []).length > 0);
      return stitched && JSON.stringify(counts) === JSON.stringify(expectedCounts) ? ml : undefined;
    }, 'the demo catalog to be processed');
    await waitFor(
      async () => (errors.length >= invalidEntityCases.length ? errors : undefined),
      'an error for every invalid entity',
    );

    // Every relation of every entity points at an entity that exists. The
    // catalog stitches entities independently, so a relation may name a
    // Component that is not yet readable: wait for the graph to settle.
    const danglingOf = (list: Entity[]) => {
      const known = new Set(list.map(e => stringifyEntityRef(e)));
      return list.flatMap(e =>
        (e.relations ?? [])
          .filter(r => !known.has(r.targetRef))
          .map(r => `${stringifyEntityRef(e)} ${r.type} ${r.targetRef}`),
      );
    };
    let dangling: string[] = [];
    const all = await waitFor(async () => {
      const list = await entities(
        'kind=model,kind=dataset,kind=pipeline,kind=component,kind=system,kind=group,kind=user',
      );
      dangling = danglingOf(list);
      return dangling.length === 0 ? list : undefined;
    }, 'every relation to resolve').catch(error => {
      throw new Error(`${error.message}; still dangling: ${dangling.join(', ')}`);
    });
    const refs = new Set(all.map(e => stringifyEntityRef(e)));
    expect(dangling).toEqual([]);

    const byRef = (ref: string) => all.find(e => stringifyEntityRef(e) === ref)!;
    const relationsOf = (ref: string) =>
      (byRef(ref).relations ?? []).map(r => `${r.type} ${r.targetRef}`);

    expect(relationsOf('model:default/wine-quality')).toEqual(
      expect.arrayContaining([
        'ownedBy group:default/wine-science',
        'partOf system:default/wine-quality',
        'trainedOn dataset:default/wine-features',
        'producedBy pipeline:default/wine-quality-training',
        'dependencyOf component:default/wine-quality-api',
      ]),
    );
    expect(relationsOf('dataset:default/wine-features')).toEqual(
      expect.arrayContaining([
        'derivedFrom dataset:default/wine-quality-raw',
        'usedToTrain model:default/wine-quality',
        'usedToTrain model:default/wine-type-classifier',
        'producedBy pipeline:default/wine-data-prep',
        'datasetConsumedBy pipeline:default/wine-quality-training',
        'sourceOf dataset:default/valid-neighbour',
      ]),
    );
    expect(relationsOf('pipeline:default/wine-quality-training')).toEqual(
      expect.arrayContaining([
        'consumesDataset dataset:default/wine-features',
        'produces model:default/wine-quality',
        'produces model:default/wine-type-classifier',
      ]),
    );
    expect(relationsOf('component:default/wine-quality-api')).toContain(
      'dependsOn model:default/wine-quality',
    );
    expect(relationsOf('group:default/wine-science')).toEqual(
      expect.arrayContaining(['ownerOf model:default/wine-quality', 'ownerOf dataset:default/wine-quality-raw']),
    );
    // A relation emitted from both ends is stored once.
    const producedBy = relationsOf('model:default/wine-quality').filter(r => r.startsWith('producedBy '));
    expect(producedBy).toHaveLength(1);

    // None of the invalid entities got in, and each has an error naming it and its field.
    for (const { entity, field } of invalidEntityCases) {
      const ref = stringifyEntityRef(entity);
      expect(refs.has(ref)).toBe(false);
      const reported = errors.find(e => e.entity === ref);
      expect(reported).toBeDefined();
      expect(reported!.errors[0].name).toBe('InputError');
      expect(reported!.errors[0].message).toContain(`"${ref}" is invalid: ${field} `);
    }
    expect(refs.has('dataset:default/valid-neighbour')).toBe(true);
  });
});
