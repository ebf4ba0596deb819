import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { InMemoryCatalogClient } from '@backstage/catalog-client/testUtils';
import { renderTestApp } from '@backstage/frontend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import {
  catalogGraphApiRef,
  DefaultCatalogGraphApi,
} from '@backstage/plugin-catalog-graph';
import {
  catalogApiRef,
  MockStarredEntitiesApi,
  starredEntitiesApiRef,
} from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { MlopsApi, mlopsApiRef } from '../api';
import { catalogEntities } from '../__testUtils__/entities';
import { fakePermissionApi } from '../__testUtils__/msw';
import {
  promotionEvent,
  wineQualityRegistered,
  wineQualityVersions,
} from '../__testUtils__/registry';
import {
  wineQualityServingInfo,
  wineQualityStats,
} from '../__testUtils__/serving';
import mlopsPlugin from './index';

/** The backend as the Model page's Overview and Versions tab read it. */
const mlopsApi: Partial<MlopsApi> = {
  getRegisteredModels: async ({ entityRef }) =>
    entityRef === 'model:default/wine-quality' ? [wineQualityRegistered] : [],
  getModelVersions: async () => wineQualityVersions,
  getAuditEvents: async () => ({ items: [promotionEvent] }),
  getServingInfo: async () => wineQualityServingInfo,
  getServingStats: async () => wineQualityStats,
};

/** The new frontend system's app with the catalog and this plugin, at `path`. */
function renderApp(path: string) {
  return renderTestApp({
    features: [catalogPlugin, mlopsPlugin],
    initialRouteEntries: [path],
    apis: [
      [catalogApiRef, new InMemoryCatalogClient({ entities: catalogEntities })],
      [starredEntitiesApiRef, new MockStarredEntitiesApi()],
      [catalogGraphApiRef, new DefaultCatalogGraphApi()],
      [permissionApiRef, fakePermissionApi()],
      [mlopsApiRef, mlopsApi],
    ],
  });
}

/** The entity page's tabs: the catalog draws them as links in the header. */
const tabs = async () =>
  within(
    await screen.findByRole('navigation', { name: 'Content navigation' }),
  ).getAllByRole('link');
const tabNames = async () => (await tabs()).map(tab => tab.textContent?.trim());

describe('mlops plugin in the new frontend system', () => {
  it('has the extensions the README names', () => {
    expect(mlopsPlugin.id).toBe('mlops');
    for (const id of [
      'api:mlops',
      'page:mlops',
      'entity-card:mlops/overview',
      'entity-card:mlops/graph',
      'entity-card:mlops/relations',
      'entity-card:mlops/serving',
      'entity-card:mlops/audit',
      'entity-card:mlops/depends-on-models',
      'entity-content:mlops/model-versions',
      'entity-content:mlops/model-experiments',
      'entity-content:mlops/model-deployments',
      'entity-content:mlops/model-drift',
      'entity-content:mlops/pipeline-runs',
      'entity-content:mlops/lineage',
      'scaffolder-form-field:mlops/target-column',
      'scaffolder-form-field:mlops/name',
    ] as const) {
      expect(mlopsPlugin.getExtension(id)).toBeDefined();
    }
  });

  it('has the ML page, with its nav item', async () => {
    renderApp('/ml');
    expect(
      await screen.findByRole('heading', { name: 'Machine learning' }),
    ).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'ML' })).toHaveAttribute(
      'href',
      '/ml',
    );
  });

  it("renders a Model's page with its tabs, and the Versions tab's content", async () => {
    renderApp('/catalog/default/model/wine-quality');
    expect(await tabNames()).toEqual([
      'Overview',
      'Versions',
      'Experiments',
      'Deployments',
      'Drift',
      'Lineage',
    ]);
    // The Overview holds the ML cards of a Model.
    expect(
      await screen.findByRole('table', { name: 'Audit trail' }),
    ).toBeInTheDocument();

    const versionsTab = (await tabs())[1];
    expect(versionsTab).toHaveAttribute(
      'href',
      '/catalog/default/model/wine-quality/versions',
    );
    await userEvent.click(versionsTab);
    const versions = await screen.findByRole('table', {
      name: 'Versions of wine-quality',
    });
    expect(within(versions).getAllByRole('row')).toHaveLength(
      1 + wineQualityVersions.length,
    );
  });

  it("gives a Dataset's page its Lineage tab and no Model tabs", async () => {
    renderApp('/catalog/default/dataset/wine-features');
    // The ML cards are on its Overview all the same.
    expect(await screen.findByText('Dataset details')).toBeInTheDocument();
    expect(await tabNames()).toEqual(['Overview', 'Lineage']);
  });
});
