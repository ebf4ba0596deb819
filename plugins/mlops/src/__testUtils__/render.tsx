import { ReactElement } from 'react';
import { InMemoryCatalogClient } from '@backstage/catalog-client/testUtils';
import { Entity } from '@backstage/catalog-model';
import { ApiRef } from '@backstage/core-plugin-api';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import {
  catalogApiRef,
  EntityProvider,
  entityRouteRef,
  MockStarredEntitiesApi,
  starredEntitiesApiRef,
} from '@backstage/plugin-catalog-react';
import {
  catalogGraphApiRef,
  catalogGraphRouteRef,
  DefaultCatalogGraphApi,
} from '@backstage/plugin-catalog-graph';
import { MlopsApi, mlopsApiRef } from '../api';
import { catalogEntities } from './entities';

/**
 * Renders an element in a test app whose catalog holds the test entities,
 * inside an entity page's context when given an entity. (The catalog mock of
 * `@backstage/plugin-catalog-react/testUtils` needs the new frontend system's
 * test utilities; this is the in-memory client it wraps.)
 */
export function renderInCatalog(
  element: ReactElement,
  options: {
    entity?: Entity;
    mlopsApi?: Partial<MlopsApi>;
    /** More APIs (permissions, alerts...), as `[apiRef, implementation]`. */
    apis?: ReadonlyArray<readonly [ApiRef<any>, any]>;
    /** The URL to render at, e.g. with a query string. */
    routeEntries?: string[];
  } = {},
) {
  const { entity, mlopsApi = {}, apis = [], routeEntries } = options;
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [
          catalogApiRef,
          new InMemoryCatalogClient({ entities: catalogEntities }),
        ],
        [starredEntitiesApiRef, new MockStarredEntitiesApi()],
        [catalogGraphApiRef, new DefaultCatalogGraphApi()],
        [mlopsApiRef, mlopsApi],
        ...apis,
      ]}
    >
      {entity ? (
        <EntityProvider entity={entity}>{element}</EntityProvider>
      ) : (
        element
      )}
    </TestApiProvider>,
    {
      routeEntries,
      mountedRoutes: {
        '/catalog/:namespace/:kind/:name': entityRouteRef,
        '/catalog-graph': catalogGraphRouteRef,
      },
    },
  );
}

/** The element holding a labelled field's value (see `Field`). */
export function getField(label: string): HTMLElement {
  return screen.getByRole('heading', { name: label }).parentElement!;
}
