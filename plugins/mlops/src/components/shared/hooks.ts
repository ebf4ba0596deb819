import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteParams,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { isModelEntity, RegisteredModel } from '@loopline/mlops-common';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { mlopsApiRef } from '../../api';

const NO_METRICS: string[] = [];

/** The metrics the Model's card names (`spec.modelCard.metrics`), if any. */
export function modelCardMetrics(entity: Entity): string[] {
  return (
    (isModelEntity(entity) && entity.spec.modelCard?.metrics) || NO_METRICS
  );
}

/** The registered models that belong to the entity. */
export function useRegisteredModels(entity: Entity) {
  const mlopsApi = useApi(mlopsApiRef);
  const entityRef = stringifyEntityRef(entity);
  return useAsyncRetry<RegisteredModel[]>(
    () => mlopsApi.getRegisteredModels({ entityRef }),
    [mlopsApi, entityRef],
  );
}

/**
 * A function giving the path of one of the entity page's tabs, e.g.
 * `experiments`, for links between the tabs.
 */
export function useEntityTabPath(entity: Entity) {
  const entityRoute = useRouteRef(entityRouteRef);
  const base = entityRoute(entityRouteParams(entity));
  return (tab: string, query?: Record<string, string>) => {
    const search = query ? `?${new URLSearchParams(query)}` : '';
    return `${base.replace(/\/$/, '')}/${tab}${search}`;
  };
}
