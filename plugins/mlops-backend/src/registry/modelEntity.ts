import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { MODEL_KIND } from '@loopline/mlops-common';
import { ENTITY_REF_TAG } from './names';

/** Whether the catalog has this Model entity, as the caller may see it. */
export type ModelEntityLookup = (
  entityRef: string,
  credentials: BackstageCredentials,
) => Promise<boolean>;

/**
 * The lookup against the catalog. The kind is asked by its canonical name:
 * registry refs are stored lower-cased, and not every catalog client
 * compares kinds without regard to case.
 */
export function catalogModelEntityLookup(
  catalog: CatalogService,
): ModelEntityLookup {
  return async (entityRef, credentials) => {
    const { namespace, name } = parseEntityRef(entityRef, {
      defaultKind: MODEL_KIND,
      defaultNamespace: 'default',
    });
    const entity = await catalog.getEntityByRef(
      { kind: MODEL_KIND, namespace, name },
      { credentials },
    );
    return entity !== undefined;
  };
}

/**
 * A registered model must belong to a catalog Model: without one it has no
 * owner, so no permission policy could decide on it. InputError (MLflow's
 * INVALID_PARAMETER_VALUE) naming both ways to attach it, otherwise.
 */
export async function requireModelEntity(
  lookup: ModelEntityLookup,
  request: { name: string; entityRef: string },
  credentials: BackstageCredentials,
): Promise<void> {
  if (await lookup(request.entityRef, credentials)) {
    return;
  }
  throw new InputError(
    `Registered model '${request.name}' has no catalog Model: the catalog has no entity ${request.entityRef}. ` +
      `Attach it in one of two ways: add a Model entity named '${request.name}' to the catalog, ` +
      `or create the registered model with the tag ${ENTITY_REF_TAG} set to the ref of an existing Model entity ` +
      `(e.g. model:default/wine-quality).`,
  );
}
