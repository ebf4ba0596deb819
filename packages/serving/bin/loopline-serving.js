#!/usr/bin/env node
/*
 * loopline-serving: the serving data plane (OIP over HTTP, the binary tensor
 * extension, gRPC) as a process of its own. It shares its code with the
 * backend plugin (@loopline/plugin-mlops-backend's dataPlane) and
 * talks to the backend, the control plane, over HTTP.
 *
 * Environment: LOOPLINE_CONTROL_PLANE_URL (e.g. http://portal:7007/api/mlops),
 * LOOPLINE_DATA_PLANE_TOKEN (a static external-access token of the backend,
 * allowed loopline.serving.dataplane.connect), PORT (7008), HOST (0.0.0.0),
 * GRPC_PORT (unset: no gRPC), LOOPLINE_ROUTING_REFRESH_MS (2000), and the
 * LOOPLINE_* tuning variables read by runStandaloneDataPlane.
 */
const entry = require.resolve('@loopline/plugin-mlops-backend');
if (entry.endsWith('.ts')) {
  // A source checkout: the plugin is TypeScript, loaded through Backstage's transform.
  require('@backstage/cli/config/nodeTransform.cjs');
}
require('@loopline/plugin-mlops-backend')
  .runStandaloneDataPlane()
  .catch(error => {
    process.stderr.write(`loopline-serving: ${error?.stack ?? error}\n`);
    process.exit(1);
  });
