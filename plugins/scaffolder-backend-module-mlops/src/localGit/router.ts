import fs from 'node:fs/promises';
import path from 'node:path';
import { HttpAuthService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import express from 'express';
import Router from 'express-promise-router';
import { LocalGitRepositories } from './LocalGitRepositories';

/** The files git's dumb HTTP protocol fetches from a bare repository. */
const DUMB_PROTOCOL_FILE =
  /^(HEAD|info\/refs|objects\/info\/(packs|alternates|http-alternates)|objects\/[0-9a-f]{2}\/[0-9a-f]{38,62}|objects\/pack\/pack-[0-9a-f]{40,64}\.(pack|idx))$/;

/**
 * `GET /git/<name>.git/...`: clone over git's dumb HTTP protocol, read-only,
 * for signed-in users and services (git sends the token with
 * `-c http.extraHeader="Authorization: Bearer <token>"`).
 */
export function createLocalGitRouter(options: {
  httpAuth: HttpAuthService;
  repositories: LocalGitRepositories;
}): express.Router {
  const { httpAuth, repositories } = options;
  const router = Router();
  router.get(/^\/git\/([^/]+)\.git\/(.+)$/, async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const name = req.params[0];
    const file = req.params[1];
    if (!DUMB_PROTOCOL_FILE.test(file)) {
      throw new NotFoundError(`No ${file} in the repository '${name}'`);
    }
    const bare = repositories.directoryOf(name);
    const absolute = path.join(bare, file);
    let content: Buffer;
    try {
      content = await fs.readFile(absolute);
    } catch {
      throw new NotFoundError(`No ${file} in the repository '${name}'`);
    }
    // Not the smart protocol's content type: git then falls back to dumb HTTP.
    res.type(
      file.endsWith('.pack') ||
        file.endsWith('.idx') ||
        (file.startsWith('objects/') && !file.startsWith('objects/info'))
        ? 'application/octet-stream'
        : 'text/plain',
    );
    res.setHeader('Cache-Control', 'no-cache');
    res.send(content);
  });
  return router;
}
