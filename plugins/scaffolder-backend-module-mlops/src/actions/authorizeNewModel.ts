import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  PermissionRule,
} from '@backstage/plugin-permission-node';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import {
  getMlopsReferences,
  ModelEntityV1alpha1,
  modelVersionCreatePermission,
} from '@loopline/mlops-common';

/** Whether the user may create the registered model of a Model entity that is not in the catalog yet. */
export type NewModelAuthorizer = (
  entity: ModelEntityV1alpha1,
  credentials: BackstageCredentials,
) => Promise<boolean>;

/**
 * Asks the policy for `loopline.model.version.create` without a resource;
 * a conditional answer (e.g. "owners only") is applied to the entity as the
 * catalog will store it: with the relations the catalog module emits for it
 * (`ownedBy` its owner, ...). The catalog's own rules decide, so the answer
 * is the one the catalog gives once the entity is there.
 */
export function newModelAuthorizer(
  permissions: PermissionsService,
): NewModelAuthorizer {
  const rules = Object.values(permissionRules) as PermissionRule<
    any,
    any,
    string
  >[];
  const applyConditions = createConditionAuthorizer({
    getRuleByName(name: string) {
      const rule = rules.find(r => r.name === name);
      if (!rule) {
        throw new Error(`Unknown catalog permission rule ${name}`);
      }
      return rule;
    },
  });
  return async (entity, credentials) => {
    const [decision] = await permissions.authorizeConditional(
      [{ permission: modelVersionCreatePermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.CONDITIONAL) {
      return decision.result === AuthorizeResult.ALLOW;
    }
    const relations = getMlopsReferences(entity).map(reference => ({
      type: reference.type,
      targetRef: stringifyEntityRef(reference.target),
    }));
    return applyConditions(decision, { ...entity, relations });
  };
}
