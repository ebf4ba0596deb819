import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { applyMigrations } from '../database/migrations';
import { AuditStore } from './AuditStore';

// Both engines are named explicitly so that a missing PostgreSQL fails the
// test instead of skipping it.
const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe.each(databaseIds)('AuditStore on %s', databaseId => {
  async function createStore() {
    const knex = await databases.init(databaseId);
    await applyMigrations(knex);
    return new AuditStore(knex);
  }

  it('appends events and reads them back newest first, per entity', async () => {
    const store = await createStore();
    const first = await store.append({
      entityRef: 'model:default/wine-quality',
      action: 'registry.stage.transition',
      actor: 'user:default/alice',
      comment: 'rmse improved by 4%',
      details: { version: 3, from: 'Staging', to: 'Production' },
    });
    await store.append({
      entityRef: 'model:default/customer-churn',
      action: 'registry.alias.set',
      actor: 'user:default/carol',
    });
    const second = await store.append({
      entityRef: 'model:default/wine-quality',
      action: 'registry.alias.set',
      actor: 'external:ci',
      details: { alias: 'champion', version: 3 },
    });

    expect(first).toEqual({
      id: expect.any(Number),
      entityRef: 'model:default/wine-quality',
      action: 'registry.stage.transition',
      actor: 'user:default/alice',
      comment: 'rmse improved by 4%',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      details: { version: 3, from: 'Staging', to: 'Production' },
    });

    const page = await store.list({
      entityRef: 'model:default/wine-quality',
      limit: 10,
    });
    expect(page.items.map(e => e.id)).toEqual([second.id, first.id]);
    expect(page.items[0]).not.toHaveProperty('comment');
    expect(page.items[0].details).toEqual({ alias: 'champion', version: 3 });
    expect(page.nextCursor).toBeUndefined();
  });

  it('pages with a cursor until the trail is exhausted', async () => {
    const store = await createStore();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const event = await store.append({
        entityRef: 'pipeline:default/churn-training',
        action: 'pipelines.run.trigger',
        actor: 'user:default/dave',
        details: { run: i },
      });
      ids.push(event.id);
    }

    const seen: number[] = [];
    let before: number | undefined;
    let pages = 0;
    do {
      const page = await store.list({
        entityRef: 'pipeline:default/churn-training',
        limit: 2,
        before,
      });
      seen.push(...page.items.map(e => e.id));
      before = page.nextCursor;
      pages += 1;
    } while (before !== undefined);

    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });
});
