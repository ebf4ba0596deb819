import http from 'node:http';
import { AddressInfo } from 'node:net';
import express from 'express';
import { LoggerService } from '@backstage/backend-plugin-api';

/**
 * The serving routes on a port of their own, as inference servers keep their
 * data plane apart from the control plane (KServe's predictor port). The
 * routes and their checks are the same router as under /api/mlops (tokens
 * through httpAuth, the invoke permission, the inference log); what this
 * listener leaves out is the portal's middleware for browsers (helmet's
 * headers, CORS, compression, request logging), which an inference client
 * does not need.
 */
export async function startDataPlane(options: {
  router: express.Router;
  port: number;
  host: string;
  logger: LoggerService;
}): Promise<{ port: number; close: () => Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(options.router);
  app.use((req, res) => {
    res.status(404).json({ error: `No such route: ${req.method} ${req.path}` });
  });
  const server = http.createServer(app);
  // Clients keep their connections open between requests.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  options.logger.info(
    `Serving data plane listening on ${options.host}:${port}`,
  );
  return {
    port,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
