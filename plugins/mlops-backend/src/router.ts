import express from 'express';
import Router from 'express-promise-router';

/** Mounts the domain routers behind one JSON body parser. */
export function createRouter(options: {
  jsonBodyLimit: string;
  routers: express.Router[];
}): express.Router {
  const router = Router();
  router.use(express.json({ limit: options.jsonBodyLimit }));
  for (const domainRouter of options.routers) {
    router.use(domainRouter);
  }
  return router;
}
