import express from 'express';
import Router from 'express-promise-router';

/**
 * Mounts the routers that speak other protocols first, each with its own
 * body parsing and error shape (MLflow's under `/mlflow`, the Open Inference
 * Protocol's `{"error"}`, the KServe logger's large bodies), then the native
 * domain routers behind one JSON body parser (Backstage's error shape).
 */
export function createRouter(options: {
  jsonBodyLimit: string;
  mlflowRouter: express.Router;
  servingRouter: express.Router;
  inferenceLogRouter: express.Router;
  routers: express.Router[];
}): express.Router {
  const router = Router();
  router.use('/mlflow', options.mlflowRouter);
  router.use(options.servingRouter);
  router.use(options.inferenceLogRouter);
  router.use(express.json({ limit: options.jsonBodyLimit }));
  for (const domainRouter of options.routers) {
    router.use(domainRouter);
  }
  return router;
}
