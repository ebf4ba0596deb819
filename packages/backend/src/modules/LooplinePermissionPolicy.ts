import {
  AuthorizeResult,
  isPermission,
  isResourcePermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  catalogEntityCreatePermission,
  catalogEntityDeletePermission,
  catalogEntityRefreshPermission,
  catalogLocationCreatePermission,
  catalogLocationAnalyzePermission,
  RESOURCE_TYPE_CATALOG_ENTITY,
} from '@backstage/plugin-catalog-common/alpha';
import { scaffolderPermissions } from '@backstage/plugin-scaffolder-common/alpha';
import {
  mlopsPermissions,
  modelInvokePermission,
} from '@loopline/mlops-common';

/**
 * The demo portal's policy, decided by rules rather than by user names:
 *
 * - members of a platform group (config `loopline.permission.platformGroups`)
 *   may do everything;
 * - everyone signed in may read, invoke served models, use the scaffolder and
 *   register new entities;
 * - changing ML state of an entity (registry, deployments, pipeline runs), and
 *   refreshing or deleting a catalog entity, is for the entity's owners, as the
 *   catalog knows them (`isEntityOwner`);
 * - anything else is denied.
 */
export class LooplinePermissionPolicy implements PermissionPolicy {
  private readonly platformGroups: Set<string>;

  constructor(options: { platformGroups: string[] }) {
    this.platformGroups = new Set(
      options.platformGroups.map(ref => ref.toLocaleLowerCase('en-US')),
    );
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    // Service-to-service calls never reach a policy; a request without a user
    // is an anonymous one.
    if (!user) {
      return { result: AuthorizeResult.DENY };
    }
    const claims = user.info.ownershipEntityRefs;
    if (
      claims.some(ref =>
        this.platformGroups.has(ref.toLocaleLowerCase('en-US')),
      )
    ) {
      return { result: AuthorizeResult.ALLOW };
    }

    const { permission } = request;
    if (
      permission.attributes.action === 'read' ||
      isPermission(permission, modelInvokePermission) ||
      scaffolderPermissions.some(p => isPermission(permission, p)) ||
      [
        catalogEntityCreatePermission,
        catalogLocationCreatePermission,
        catalogLocationAnalyzePermission,
      ].some(p => isPermission(permission, p))
    ) {
      return { result: AuthorizeResult.ALLOW };
    }

    const ownersOnly = [
      ...mlopsPermissions,
      catalogEntityRefreshPermission,
      catalogEntityDeletePermission,
    ];
    if (
      isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY) &&
      ownersOnly.some(p => isPermission(permission, p))
    ) {
      return createCatalogConditionalDecision(
        permission,
        catalogConditions.isEntityOwner({ claims }),
      );
    }
    return { result: AuthorizeResult.DENY };
  }
}
