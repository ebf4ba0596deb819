/**
 * Authentication and authorization of HTTP requests, for every domain router.
 *
 * One authorization style: **routers authorize, services do not.** Every
 * permission decision (which permission, whose credentials, which entity) is
 * made by a router through `createRequestAuth`; no service is given the
 * PermissionsService. Where only a service can find the entity a request is
 * about (the inference path resolves a model from its hot cache; a rollout
 * command loads its deployment), the router hands the service an
 * `EntityAuthorizer` made here, which the service calls with the entity ref
 * before it reads or changes anything. The decision is still the router's.
 */
import {
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { Request } from 'express';
import { z } from 'zod';
import { authorizeEntity } from './authorize';
import { parseInput } from './validation';

/** A permission on a catalog entity (the Model, a System, ...). */
export type EntityPermission = ResourcePermission<'catalog-entity'>;

/**
 * A router's check handed to a service: resolves when the caller may do the
 * router's chosen permission on the entity, throws NotAllowedError otherwise.
 */
export type EntityAuthorizer = (entityRef: string) => Promise<void>;

/** What `authorizedModel` needs to know of a model: its name and catalog entity. */
export interface EntityOwnedModel {
  name: string;
  entityRef: string;
}

export interface RequestAuthOptions<M extends EntityOwnedModel> {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  /** Finds a model by name (NotFoundError when there is none); needed by `authorizedModel`. */
  getModel?: (name: string) => Promise<M>;
}

export interface RequestAuth<M extends EntityOwnedModel> {
  /** The caller's credentials (a user or a service), verified once per request; AuthenticationError (401) otherwise. */
  credentialsOf(req: Request): Promise<BackstageCredentials>;
  /** Whether the policy allows `permission` on the entity for these credentials. */
  isAllowed(
    credentials: BackstageCredentials,
    permission: EntityPermission,
    entityRef: string,
  ): Promise<boolean>;
  /** Throws NotAllowedError (403) unless these credentials may do `permission` on the entity. */
  authorize(
    credentials: BackstageCredentials,
    permission: EntityPermission,
    entityRef: string,
  ): Promise<void>;
  /** The caller's credentials and a check of `permission` for a service to call with the entity it finds. */
  entityAuthorizer(
    req: Request,
    permission: EntityPermission,
  ): Promise<{
    credentials: BackstageCredentials;
    authorize: EntityAuthorizer;
  }>;
  /**
   * Looks up the model (named by `name`, else by the path's `:name`), then
   * authorizes `permission` on its entity.
   */
  authorizedModel(
    req: Request,
    permission: EntityPermission,
    name?: string,
  ): Promise<{ model: M; credentials: BackstageCredentials }>;
}

// A model name is at most 256 characters (the registry's limit).
const nameParams = z.object({ name: z.string().min(1).max(256) }).passthrough();

export function createRequestAuth<M extends EntityOwnedModel>(
  options: RequestAuthOptions<M>,
): RequestAuth<M> {
  const { httpAuth, permissions } = options;

  // Verified once per request, however many helpers ask.
  const verified = new WeakMap<Request, Promise<BackstageCredentials>>();
  const credentialsOf = (req: Request) => {
    let credentials = verified.get(req);
    if (!credentials) {
      credentials = httpAuth.credentials(req, { allow: ['user', 'service'] });
      verified.set(req, credentials);
    }
    return credentials;
  };

  const isAllowed = async (
    credentials: BackstageCredentials,
    permission: EntityPermission,
    entityRef: string,
  ) => {
    const [decision] = await permissions.authorize(
      [{ permission, resourceRef: entityRef }],
      { credentials },
    );
    return decision.result === AuthorizeResult.ALLOW;
  };

  const check = (
    credentials: BackstageCredentials,
    permission: EntityPermission,
    entityRef: string,
  ) => authorizeEntity(permissions, permission, entityRef, credentials);

  return {
    credentialsOf,
    isAllowed,
    authorize: check,
    async entityAuthorizer(req, permission) {
      const credentials = await credentialsOf(req);
      return {
        credentials,
        authorize: entityRef => check(credentials, permission, entityRef),
      };
    },
    async authorizedModel(req, permission, name) {
      if (!options.getModel) {
        throw new Error('authorizedModel needs the getModel option');
      }
      const credentials = await credentialsOf(req);
      const modelName = name ?? parseInput(nameParams, req.params, 'path').name;
      const model = await options.getModel(modelName);
      await check(credentials, permission, model.entityRef);
      return { model, credentials };
    },
  };
}
