import express, { Request } from 'express';
import { MlflowRouteContext } from './context';
import { mlflowSchemas as s } from '../schemas';

/** The proxied artifact store's routes (`mlflow-artifacts:/` URIs), under `/api/2.0/mlflow-artifacts/artifacts`. */
export function addArtifactRoutes(
  artifactRoutes: express.Router,
  context: MlflowRouteContext,
) {
  const { auth, input, artifacts } = context;

  artifactRoutes.put(
    '/*',
    express.raw({ type: () => true, limit: context.artifactBodyLimit }),
    async (req, res) => {
      await auth.credentialsOf(req);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      await artifacts.put(wildcardPath(req), body);
      res.json({});
    },
  );

  // The listing first: `/*` would match the bare folder too.
  artifactRoutes.get('/', async (req, res) => {
    await auth.credentialsOf(req);
    const { path } = input(req, s.listArtifacts);
    res.json({ files: await artifacts.list(path ?? '') });
  });

  artifactRoutes.get('/*', async (req, res) => {
    await auth.credentialsOf(req);
    const bytes = await artifacts.get(wildcardPath(req));
    res.type('application/octet-stream').send(bytes);
  });
}

/** The decoded path matched by a route's `*`. */
function wildcardPath(req: Request): string {
  return String((req.params as Record<string, string>)['0'] ?? '');
}
