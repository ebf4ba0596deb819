import { Config } from '@backstage/config';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubernetesClient } from './kubernetesClient';

/** An API server given inline instead of through a kubeconfig file. */
export interface KServeClusterConfig {
  /** The API server, e.g. `https://10.0.0.1:6443`. */
  url: string;
  /** A bearer token (e.g. a service account's). */
  token?: string;
  skipTLSVerify?: boolean;
  /** The API server's CA certificate, base64-encoded PEM (as in a kubeconfig). */
  caData?: string;
}

/** `mlops.rollout.kserve`: where and how InferenceServices are written. */
export interface KServeConfig {
  /** The namespace every InferenceService is written to. */
  namespace: string;
  /** A version's `storageUri`, with `{model}`, `{version}` and `{sha256}` placeholders. */
  storageUriTemplate: string;
  /** Our KServe logger route as the cluster reaches it (`.../api/mlops/serving/kserve/logger`). */
  loggerUrl: string;
  /** `mlops.serving.kserveLogger.token`: the route's shared secret, sent as `?token=`. */
  loggerToken?: string;
  /** A kubeconfig file; its current context is used. */
  kubeconfig?: string;
  cluster?: KServeClusterConfig;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const PLACEHOLDERS = ['model', 'version', 'sha256'];
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Reads `mlops.rollout.kserve`: `namespace`, `storageUriTemplate` and
 * `loggerUrl` (required), then either `kubeconfig` (a file) or `cluster`
 * (`url`, `token`, `skipTLSVerify`, `caData`); with neither, the client's
 * defaults apply (KUBECONFIG, ~/.kube/config, or the in-cluster service
 * account). The logger token is `mlops.serving.kserveLogger.token`, the same
 * secret the logger route checks. Returns undefined without a
 * `mlops.rollout.kserve` section; throws on a bad value so a wrong config
 * fails at startup.
 */
export function readKServeConfig(config: Config): KServeConfig | undefined {
  const kserve = config.getOptionalConfig('mlops.rollout.kserve');
  if (!kserve) {
    return undefined;
  }
  const key = (name: string) => `mlops.rollout.kserve.${name}`;

  const namespace = kserve.getString('namespace');
  if (namespace.length > 63 || !DNS_1123_LABEL.test(namespace)) {
    throw new Error(
      `Invalid config ${key(
        'namespace',
      )}: "${namespace}" is not a Kubernetes namespace name ` +
        '(lower-case letters, digits and dashes, at most 63)',
    );
  }

  const storageUriTemplate = kserve.getString('storageUriTemplate');
  const unknown = [...storageUriTemplate.matchAll(PLACEHOLDER)]
    .map(match => match[1])
    .filter(name => !PLACEHOLDERS.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `Invalid config ${key(
        'storageUriTemplate',
      )}: unknown placeholder ${unknown
        .map(name => `{${name}}`)
        .join(', ')}; use {model}, {version} and {sha256}`,
    );
  }
  if (
    !storageUriTemplate.includes('{version}') &&
    !storageUriTemplate.includes('{sha256}')
  ) {
    // Every version would get the same URI, so a rollout would change nothing.
    throw new Error(
      `Invalid config ${key(
        'storageUriTemplate',
      )}: "${storageUriTemplate}" must contain {version} or {sha256}`,
    );
  }

  const loggerUrl = kserve.getString('loggerUrl');
  requireHttpUrl(loggerUrl, key('loggerUrl'));

  const kubeconfig = kserve.getOptionalString('kubeconfig');
  const kubernetesCluster = kserve.getOptionalString('kubernetesCluster');
  const given = [
    kubeconfig !== undefined && 'kubeconfig',
    kubernetesCluster !== undefined && 'kubernetesCluster',
    kserve.has('cluster') && 'cluster',
  ].filter(Boolean);
  if (given.length > 1) {
    throw new Error(
      `Invalid config ${given
        .map(name => key(name as string))
        .join(' and ')}: give only one of them`,
    );
  }
  const clusterConfig = kubernetesCluster
    ? kubernetesPluginCluster(
        config,
        kubernetesCluster,
        key('kubernetesCluster'),
      )
    : kserve.getOptionalConfig('cluster');
  const cluster = clusterConfig
    ? readClusterConfig(clusterConfig, key('cluster'))
    : undefined;

  const loggerToken = config.getOptionalString(
    'mlops.serving.kserveLogger.token',
  );
  return {
    namespace,
    storageUriTemplate,
    loggerUrl,
    ...(loggerToken ? { loggerToken } : {}),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(cluster ? { cluster } : {}),
  };
}

/** `url`, `token` (or `serviceAccountToken`), `skipTLSVerify`, `caData` of a cluster's config. */
export function readClusterConfig(
  clusterConfig: Config,
  key: string,
): KServeClusterConfig {
  const url = clusterConfig.getString('url');
  requireHttpUrl(url, `${key}.url`);
  const token =
    clusterConfig.getOptionalString('token') ??
    clusterConfig.getOptionalString('serviceAccountToken');
  const skipTLSVerify = clusterConfig.getOptionalBoolean('skipTLSVerify');
  const caData = clusterConfig.getOptionalString('caData');
  return {
    url,
    ...(token ? { token } : {}),
    ...(skipTLSVerify !== undefined ? { skipTLSVerify } : {}),
    ...(caData ? { caData } : {}),
  };
}

/**
 * A cluster of the Backstage Kubernetes plugin's configuration
 * (`kubernetes.clusterLocatorMethods[].clusters[]` of type `config`), so the
 * portal's cluster access is configured once.
 */
export function kubernetesPluginCluster(
  config: Config,
  name: string,
  key: string,
): Config {
  const clusters = (
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? []
  )
    .filter(method => method.getOptionalString('type') === 'config')
    .flatMap(method => method.getOptionalConfigArray('clusters') ?? []);
  const cluster = clusters.find(c => c.getOptionalString('name') === name);
  if (!cluster) {
    throw new Error(
      `Invalid config ${key}: no cluster "${name}" in kubernetes.clusterLocatorMethods (type config); known: ${
        clusters.map(c => c.getOptionalString('name')).join(', ') || 'none'
      }`,
    );
  }
  return cluster;
}

/** The client configuration `readKServeConfig` describes. */
export function kubeConfigFor(
  kserve: Pick<KServeConfig, 'kubeconfig' | 'cluster'>,
): KubeConfig {
  const kubeConfig = new (kubernetesClient().KubeConfig)();
  if (kserve.cluster) {
    const name = 'loopline-kserve';
    kubeConfig.loadFromClusterAndUser(
      {
        name,
        server: kserve.cluster.url,
        skipTLSVerify: kserve.cluster.skipTLSVerify ?? false,
        ...(kserve.cluster.caData ? { caData: kserve.cluster.caData } : {}),
      },
      {
        name,
        ...(kserve.cluster.token ? { token: kserve.cluster.token } : {}),
      },
    );
  } else if (kserve.kubeconfig !== undefined) {
    kubeConfig.loadFromFile(kserve.kubeconfig);
  } else {
    kubeConfig.loadFromDefault();
  }
  return kubeConfig;
}

/**
 * A version's `storageUri` from the configured template, e.g.
 * `s3://models/{model}/{version}/model.onnx`. The model name is
 * percent-encoded where it is not URI-safe. Throws when the template asks for
 * `{sha256}` and the version has no artifact digest, or names an unknown
 * placeholder.
 */
export function storageUriFor(
  template: string,
  version: { modelName: string; version: number; sha256?: string },
): string {
  return template.replace(PLACEHOLDER, (match, name: string) => {
    switch (name) {
      case 'model':
        return encodeURIComponent(version.modelName);
      case 'version':
        return String(version.version);
      case 'sha256':
        if (!version.sha256) {
          throw new Error(
            `Cannot build the storage URI of ${version.modelName} version ${version.version}: ` +
              `the template "${template}" needs {sha256} and the version has no artifact digest`,
          );
        }
        return version.sha256;
      default:
        throw new Error(
          `Unknown placeholder ${match} in the storage URI template "${template}"`,
        );
    }
  });
}

function requireHttpUrl(value: string, key: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Invalid config ${key}: "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(
      `Invalid config ${key}: "${value}" must be an http or https URL`,
    );
  }
}
