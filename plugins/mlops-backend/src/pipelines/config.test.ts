import { ConfigReader } from '@backstage/config';
import { pipelineKubeConfig, readPipelinesConfig } from './config';

const kubernetesPlugin = {
  clusterLocatorMethods: [
    {
      type: 'config',
      clusters: [
        {
          name: 'ml-cluster',
          url: 'https://10.0.0.1:6443',
          authProvider: 'serviceAccount',
          serviceAccountToken: 'sa-token',
          skipTLSVerify: true,
        },
      ],
    },
  ],
};

describe('mlops.pipelines.kubernetes', () => {
  it('is off without the section, and has defaults with it', () => {
    expect(
      readPipelinesConfig(new ConfigReader({})).kubernetes,
    ).toBeUndefined();
    expect(
      readPipelinesConfig(
        new ConfigReader({
          mlops: { pipelines: { kubernetes: { namespace: 'ml' } } },
        }),
      ).kubernetes,
    ).toEqual({
      namespace: 'ml',
      defaultTimeoutSeconds: 3600,
      ttlSecondsAfterFinished: 3600,
      pollIntervalMs: 2000,
    });
  });

  it('refuses a namespace that is not a DNS label, and a non-positive TTL', () => {
    expect(() =>
      readPipelinesConfig(
        new ConfigReader({
          mlops: { pipelines: { kubernetes: { namespace: 'ML_Jobs' } } },
        }),
      ),
    ).toThrow(/mlops.pipelines.kubernetes.namespace/);
    expect(() =>
      readPipelinesConfig(
        new ConfigReader({
          mlops: {
            pipelines: { kubernetes: { ttlSecondsAfterFinished: 0 } },
          },
        }),
      ),
    ).toThrow(/ttlSecondsAfterFinished/);
  });

  it("takes a cluster by name from the Kubernetes plugin's config", () => {
    const config = new ConfigReader({ kubernetes: kubernetesPlugin });
    const kubeConfig = pipelineKubeConfig(config, 'ml-cluster');
    expect(kubeConfig.getCurrentCluster()).toMatchObject({
      server: 'https://10.0.0.1:6443',
      skipTLSVerify: true,
    });
    expect(kubeConfig.getCurrentUser()?.token).toBe('sa-token');
    expect(() => pipelineKubeConfig(config, 'elsewhere')).toThrow(
      /no cluster "elsewhere".*known: ml-cluster/,
    );
  });
});
