import type * as KubernetesClient from '@kubernetes/client-node';

let loaded: typeof KubernetesClient | undefined;

/**
 * `@kubernetes/client-node`, loaded the first time a KServe target (or the
 * fake API server) needs it rather than when the plugin loads: the package is
 * large and ESM-only, and a backend that deploys nothing to KServe should
 * neither pay for it nor fail on it.
 */
export function kubernetesClient(): typeof KubernetesClient {
  if (!loaded) {
    try {
      // A plain require: Node (>= 20.19) loads the ESM package synchronously,
      // and Jest transpiles it; a dynamic import() would need --experimental-vm-modules in Jest.
      loaded = require('@kubernetes/client-node') as typeof KubernetesClient;
    } catch (error) {
      throw new Error(
        `The KServe target needs @kubernetes/client-node, which could not be loaded on Node ${
          process.version
        }: ${(error as Error)?.message ?? error}`,
      );
    }
  }
  return loaded;
}
