import express from 'express';
import Router from 'express-promise-router';

/**
 * Mounts the routers that speak other protocols first, each with its own
 * body parsing and error shape (MLflow's under `/mlflow`, the Open Inference
 * Protocol's `{"error"}`, the KServe logger's large bodies), the native
 * routers that parse their own bodies, then the other native
 * domain routers behind one JSON body parser (Backstage's error shape).
 */
export function createRouter(options: {
  jsonBodyLimit: string;
  mlflowRouter: express.Router;
  servingRouter: express.Router;
  inferenceLogRouter: express.Router;
  /** Native routers whose routes parse their own bodies (limits of their own). */
  ownBodyRouters?: express.Router[];
  routers: express.Router[];
}): express.Router {
  const router = Router();
  router.use('/mlflow', options.mlflowRouter);
  router.use(options.servingRouter);
  router.use(options.inferenceLogRouter);
  for (const ownBodyRouter of options.ownBodyRouters ?? []) {
    router.use(ownBodyRouter);
  }
  router.use(express.json({ limit: options.jsonBodyLimit }));
  for (const domainRouter of options.routers) {
    router.use(domainRouter);
  }
  return router;
}
