/*
 * The Loopline demo backend: Backstage's core plugins, Loopline's plugins and
 * a real permission policy.
 */
import { createBackend } from '@backstage/backend-defaults';
import { localGitUrlReaderFactory } from '@loopline/plugin-scaffolder-backend-module-mlops';
import { authModuleDemoProvider } from './modules/demoAuthProvider';
import { permissionModuleLooplinePolicy } from './modules/permissionPolicy';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

// auth: guest, plus acting as the demo users where `auth.providers.demo` is set
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(authModuleDemoProvider);

// catalog, with Loopline's Model, Dataset and Pipeline kinds
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
backend.add(import('@loopline/plugin-catalog-backend-module-mlops'));

// permissions, decided by Loopline's policy
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(permissionModuleLooplinePolicy);

backend.add(import('@backstage/plugin-scaffolder-backend'));
// mlops:* template actions; in the demo, publishing to the portal's own git
// server, whose files the catalog reads through this URL reader.
backend.add(import('@loopline/plugin-scaffolder-backend-module-mlops'));
backend.add(localGitUrlReaderFactory);

// Loopline: the ML lifecycle API under /api/mlops
// Rollout actions and automatic decisions reach the model's owners here.
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));

backend.add(import('@loopline/plugin-mlops-backend'));

backend.start();
