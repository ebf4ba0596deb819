import { AuthService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { MODEL_KIND } from '@loopline/mlops-common';
import { ENTITY_REF_TAG } from './names';

/** Whether the catalog has this Model entity. */
export type ModelEntityLookup = (entityRef: string) => Promise<boolean>;

/**
 * The lookup against the catalog, with the plugin's own credentials: a
 * training job's external-access token is usually restricted to this plugin
 * (`accessRestrictions`) and may not read the catalog itself. Whether the
 * caller may register a model for the entity is the permission check that
 * follows. The kind is asked by its canonical name: registry refs are stored
 * lower-cased, and not every catalog client compares kinds without regard
 * to case.
 */
export function catalogModelEntityLookup(
  catalog: CatalogService,
  auth: AuthService,
): ModelEntityLookup {
  return async entityRef => {
    const { namespace, name } = parseEntityRef(entityRef, {
      defaultKind: MODEL_KIND,
      defaultNamespace: 'default',
    });
    const entity = await catalog.getEntityByRef(
      { kind: MODEL_KIND, namespace, name },
      { credentials: await auth.getOwnServiceCredentials() },
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
): Promise<void> {
  if (await lookup(request.entityRef)) {
    return;
  }
  throw new InputError(
    `Registered model '${request.name}' has no catalog Model: the catalog has no entity ${request.entityRef}. ` +
      `Attach it in one of two ways: add a Model entity named '${request.name}' to the catalog, ` +
      `or create the registered model with the tag ${ENTITY_REF_TAG} set to the ref of an existing Model entity ` +
      `(e.g. model:default/wine-quality).`,
  );
}
