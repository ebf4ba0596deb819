import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  MODEL_STAGES,
  mlopsEntityReadPermission,
  modelAliasManagePermission,
  modelStageTransitionPermission,
  modelVersionCreatePermission,
} from '@loopline/mlops-common';
import { createRequestAuth } from '../lib/http';
import { entityRefSchema, parseInput } from '../lib/validation';
import { versionSchema } from '../lib/version';
import { TrackingService } from '../tracking';
import { RegistryService } from './RegistryService';
import { gateOverrideOf, StageGate } from './stageGate';

const versionParams = z
  .object({ name: z.string().min(1), version: versionSchema })
  .passthrough();
const aliasParams = z
  .object({ name: z.string().min(1), alias: z.string().min(1) })
  .passthrough();

const listModelsQuery = z.object({ entityRef: entityRefSchema }).strict();
const createVersionBody = z
  .object({
    source: z.string().min(1),
    runId: z.string().min(1).optional(),
    description: z.string().max(5000).optional(),
    tags: z.record(z.string()).optional(),
  })
  .strict();
const transitionBody = z
  .object({
    stage: z.enum(MODEL_STAGES),
    comment: z.string().max(5000).optional(),
    archiveExistingVersions: z.boolean().optional(),
    /** Promote past failing gates (a platform group, with a comment). */
    overrideGates: z.boolean().optional(),
  })
  .strict();
const setAliasBody = z
  .object({
    version: z.number().int().min(1),
    comment: z.string().max(5000).optional(),
  })
  .strict();
const deleteAliasQuery = z
  .object({ comment: z.string().max(5000).optional() })
  .strict();

/**
 * The registry's native routes for the frontend and for scripts:
 * `/registry/models/...`. Reads need `loopline.entity.read` on the Model
 * entity; each change needs its own permission on it.
 */
export function createRegistryRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  registry: RegistryService;
  tracking: TrackingService;
  artifactBodyLimit: number;
  /** The Model's gates, checked before a version moves to Production. */
  stageGate?: StageGate;
}): express.Router {
  const { registry, tracking } = options;
  const router = Router();
  const auth = createRequestAuth({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    getModel: name => registry.getRegisteredModel(name),
  });
  const authorizedModel = auth.authorizedModel;

  router.get('/registry/models', async (req, res) => {
    const credentials = await auth.credentialsOf(req);
    const { entityRef } = parseInput(listModelsQuery, req.query, 'query');
    await auth.authorize(credentials, mlopsEntityReadPermission, entityRef);
    res.json({ items: await registry.findByEntityRef(entityRef) });
  });

  router.get('/registry/models/:name', async (req, res) => {
    const { model } = await authorizedModel(req, mlopsEntityReadPermission);
    res.json(model);
  });

  router.get('/registry/models/:name/versions', async (req, res) => {
    const { model } = await authorizedModel(req, mlopsEntityReadPermission);
    res.json({ items: await registry.listVersions(model.name) });
  });

  router.post('/registry/models/:name/versions', async (req, res) => {
    const { model, credentials } = await authorizedModel(
      req,
      modelVersionCreatePermission,
    );
    const body = parseInput(createVersionBody, req.body, 'version');
    if (body.runId) {
      await tracking.getRun(body.runId);
    }
    const version = await registry.createVersion({
      name: model.name,
      source: body.source,
      runId: body.runId,
      description: body.description,
      tags: body.tags,
      credentials,
    });
    res.status(201).json(version);
  });

  router.get('/registry/models/:name/versions/:version', async (req, res) => {
    const { model } = await authorizedModel(req, mlopsEntityReadPermission);
    const { version } = parseInput(versionParams, req.params, 'path');
    res.json(await registry.getVersion(model.name, version));
  });

  router.put(
    '/registry/models/:name/versions/:version/artifact',
    express.raw({ type: () => true, limit: options.artifactBodyLimit }),
    async (req, res) => {
      const { model, credentials } = await authorizedModel(
        req,
        modelVersionCreatePermission,
      );
      const { version } = parseInput(versionParams, req.params, 'path');
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.json(
        await registry.uploadArtifact({
          name: model.name,
          version,
          bytes,
          credentials,
        }),
      );
    },
  );

  router.get(
    '/registry/models/:name/versions/:version/artifact',
    async (req, res) => {
      const { model } = await authorizedModel(req, mlopsEntityReadPermission);
      const { version } = parseInput(versionParams, req.params, 'path');
      const bytes = await registry.readArtifact(model.name, version);
      res
        .type('application/octet-stream')
        .attachment(`${model.name}-v${version}.onnx`)
        .send(bytes);
    },
  );

  router.post(
    '/registry/models/:name/versions/:version/stage',
    async (req, res) => {
      const { model, credentials } = await authorizedModel(
        req,
        modelStageTransitionPermission,
      );
      const { version } = parseInput(versionParams, req.params, 'path');
      const body = parseInput(transitionBody, req.body, 'stage transition');
      await options.stageGate?.beforeTransition({
        name: model.name,
        version,
        stage: body.stage,
        credentials,
        comment: body.comment,
        override: await gateOverrideOf(
          options.permissions,
          credentials,
          body.overrideGates,
        ),
      });
      res.json(
        await registry.transitionStage({
          name: model.name,
          version,
          stage: body.stage,
          archiveExistingVersions: body.archiveExistingVersions ?? false,
          comment: body.comment,
          credentials,
        }),
      );
    },
  );

  router.put('/registry/models/:name/aliases/:alias', async (req, res) => {
    const { model, credentials } = await authorizedModel(
      req,
      modelAliasManagePermission,
    );
    const { alias } = parseInput(aliasParams, req.params, 'path');
    const body = parseInput(setAliasBody, req.body, 'alias');
    await registry.setAlias({
      name: model.name,
      alias,
      version: body.version,
      comment: body.comment,
      credentials,
    });
    res.json(await registry.getVersion(model.name, body.version));
  });

  router.delete('/registry/models/:name/aliases/:alias', async (req, res) => {
    const { model, credentials } = await authorizedModel(
      req,
      modelAliasManagePermission,
    );
    const { alias } = parseInput(aliasParams, req.params, 'path');
    const { comment } = parseInput(deleteAliasQuery, req.query, 'query');
    await registry.deleteAlias({
      name: model.name,
      alias,
      comment,
      credentials,
    });
    res.status(204).end();
  });

  /** The runs behind a model: its versions' source runs and its experiments' runs. */
  router.get('/registry/models/:name/runs', async (req, res) => {
    const { model } = await authorizedModel(req, mlopsEntityReadPermission);
    const versions = await registry.listVersions(model.name);
    const runIds = versions.flatMap(v => (v.runId ? [v.runId] : []));
    res.json({
      items: await tracking.listRunsOfModel({ modelName: model.name, runIds }),
    });
  });

  return router;
}
