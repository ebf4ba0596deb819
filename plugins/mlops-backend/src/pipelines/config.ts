import { Config } from '@backstage/config';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  kubeConfigFor,
  kubernetesPluginCluster,
  readClusterConfig,
} from '../rollout/kserve/config';
import os from 'node:os';
import path from 'node:path';

/** `mlops.pipelines`, with its defaults. */
export interface PipelinesConfig {
  workspaceDirectory: string;
  defaultTimeoutSeconds: number;
  passEnv: string[];
  logRetentionDays: number;
  maxLogLinesPerStep: number;
  maxLatenessMs: number;
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  /** Unset: this backend's `/openlineage` route. */
  openLineageUrl?: string;
  /** Unset: this backend's `/mlflow` route. */
  trackingUri?: string;
  /** `mlops.pipelines.kubernetes`; unset: no Kubernetes runner. */
  kubernetes?: KubernetesRunnerConfig;
}

export interface KubernetesRunnerConfig {
  /** A cluster's name in the Kubernetes plugin's config; unset: the client's defaults (KUBECONFIG, in-cluster). */
  cluster?: string;
  namespace: string;
  image?: string;
  defaultTimeoutSeconds: number;
  ttlSecondsAfterFinished: number;
  pollIntervalMs: number;
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The client configuration of a cluster named in the Backstage Kubernetes
 * plugin's config (`kubernetes.clusterLocatorMethods[].clusters[]`, type
 * `config`), read as the KServe target reads it; without a name, the
 * client's defaults.
 */
export function pipelineKubeConfig(
  config: Config,
  cluster: string | undefined,
): KubeConfig {
  if (!cluster) return kubeConfigFor({});
  const key = 'mlops.pipelines.kubernetes.cluster';
  return kubeConfigFor({
    cluster: readClusterConfig(
      kubernetesPluginCluster(config, cluster, key),
      key,
    ),
  });
}

export function readPipelinesConfig(config: Config): PipelinesConfig {
  const c = config.getOptionalConfig('mlops.pipelines');
  const positive = (key: string, fallback: number) => {
    const value = c?.getOptionalNumber(key) ?? fallback;
    if (!(value > 0)) {
      throw new Error(
        `Invalid config mlops.pipelines.${key}: ${value} must be a positive number`,
      );
    }
    return value;
  };
  return {
    workspaceDirectory:
      c?.getOptionalString('workspaceDirectory') ??
      path.join(os.tmpdir(), 'loopline', 'pipelines'),
    defaultTimeoutSeconds: positive('local.defaultTimeoutSeconds', 3600),
    passEnv: c?.getOptionalStringArray('local.passEnv') ?? [],
    logRetentionDays: positive('logs.retentionDays', 30),
    maxLogLinesPerStep: positive('logs.maxLinesPerStep', 100_000),
    maxLatenessMs: positive('schedule.maxLatenessMinutes', 60) * 60_000,
    heartbeatIntervalMs: positive('heartbeatIntervalSeconds', 5) * 1000,
    staleAfterMs: positive('staleAfterSeconds', 60) * 1000,
    ...(c?.getOptionalString('openLineageUrl')
      ? { openLineageUrl: c.getString('openLineageUrl') }
      : {}),
    ...(c?.has('kubernetes')
      ? { kubernetes: readKubernetesRunnerConfig(c.getConfig('kubernetes')) }
      : {}),
    ...(c?.getOptionalString('trackingUri')
      ? { trackingUri: c.getString('trackingUri') }
      : {}),
  };
}

function readKubernetesRunnerConfig(k: Config): KubernetesRunnerConfig {
  const key = (name: string) => `mlops.pipelines.kubernetes.${name}`;
  const positive = (name: string, fallback: number) => {
    const value = k.getOptionalNumber(name) ?? fallback;
    if (!(value > 0)) {
      throw new Error(
        `Invalid config ${key(name)}: ${value} must be a positive number`,
      );
    }
    return value;
  };
  const namespace = k.getOptionalString('namespace') ?? 'default';
  if (namespace.length > 63 || !DNS_1123_LABEL.test(namespace)) {
    throw new Error(
      `Invalid config ${key(
        'namespace',
      )}: "${namespace}" is not a Kubernetes namespace name`,
    );
  }
  const cluster = k.getOptionalString('cluster');
  const image = k.getOptionalString('image');
  return {
    ...(cluster ? { cluster } : {}),
    namespace,
    ...(image ? { image } : {}),
    defaultTimeoutSeconds: positive('defaultTimeoutSeconds', 3600),
    ttlSecondsAfterFinished: positive('ttlSecondsAfterFinished', 3600),
    pollIntervalMs: positive('pollIntervalSeconds', 2) * 1000,
  };
}
