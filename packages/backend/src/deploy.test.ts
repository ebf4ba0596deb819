/*
 * The Kubernetes manifests under deploy/: every resource against the
 * Kubernetes schemas (kubernetes-models, generated from the Kubernetes
 * OpenAPI), then what a schema cannot see: Services select the pods and name
 * their ports, Secrets and ConfigMaps referred to exist or are the documented
 * one, the portal reads the config file its ConfigMap mounts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';

const DEPLOY = path.resolve(__dirname, '../../../deploy');
// The one Secret the manifests expect the platform team to create (portal.yaml).
const SECRET = 'loopline-secrets';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

type Resource = { file: string; object: any };

function load(): Resource[] {
  const kustomization = parse(
    fs.readFileSync(path.join(DEPLOY, 'kustomization.yaml'), 'utf8'),
  );
  return (kustomization.resources as string[]).flatMap(file =>
    parseAllDocuments(fs.readFileSync(path.join(DEPLOY, file), 'utf8')).map(
      doc => {
        if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]}`);
        return { file, object: doc.toJS() };
      },
    ),
  );
}

const resources = load();
const of = (kind: string) =>
  resources.filter(r => r.object.kind === kind).map(r => r.object);
const named = (kind: string, name: string) => {
  const found = of(kind).find(o => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/`);
  return found;
};

describe('deploy/ manifests', () => {
  it('lists every manifest file in kustomization.yaml', () => {
    const files = fs
      .readdirSync(DEPLOY)
      .filter(f => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(new Set(resources.map(r => r.file))).toEqual(new Set(files));
  });

  it.each(
    resources.map(r => [
      `${r.file}: ${r.object.kind} ${r.object.metadata?.name}`,
      r,
    ]),
  )('%s is valid against the Kubernetes schema', (_, { object }: any) => {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    expect(Model).toBeDefined();
    expect(() => new Model(object).validate()).not.toThrow();
  });

  it('catches an invalid manifest (the validation is not a no-op)', () => {
    const portal = structuredClone(named('Deployment', 'loopline-portal'));
    portal.spec.replicas = 'one';
    expect(() => new Deployment(portal).validate()).toThrow(/replicas/);
  });

  it('has the portal and the data plane with several replicas', () => {
    expect(named('Deployment', 'loopline-portal').spec.replicas).toBe(1);
    expect(
      named('Deployment', 'loopline-serving').spec.replicas,
    ).toBeGreaterThanOrEqual(2);
    const budget = named('PodDisruptionBudget', 'loopline-serving');
    expect(budget.spec.minAvailable).toBeLessThan(
      named('Deployment', 'loopline-serving').spec.replicas,
    );
  });

  it.each(of('Service').map(s => [s.metadata.name, s]))(
    'Service %s selects a Deployment and names its container ports',
    (_, service: any) => {
      const selected = of('Deployment').filter(d =>
        Object.entries(service.spec.selector).every(
          ([k, v]) => d.spec.template.metadata.labels[k] === v,
        ),
      );
      expect(selected).toHaveLength(1);
      const ports = selected[0].spec.template.spec.containers.flatMap(
        (c: any) => c.ports.map((p: any) => p.name),
      );
      for (const port of service.spec.ports) {
        expect(ports).toContain(port.targetPort);
      }
    },
  );

  it.each(of('Deployment').map(d => [d.metadata.name, d]))(
    'Deployment %s: selector, probes, Secret, ConfigMap and volume references hold',
    (_, deployment: any) => {
      const pod = deployment.spec.template;
      for (const [k, v] of Object.entries(
        deployment.spec.selector.matchLabels,
      )) {
        expect(pod.metadata.labels[k]).toBe(v);
      }
      const volumes = new Map<string, any>(
        (pod.spec.volumes ?? []).map((v: any) => [v.name, v]),
      );
      for (const container of pod.spec.containers) {
        const ports = container.ports.map((p: any) => p.name);
        for (const probe of ['readinessProbe', 'livenessProbe']) {
          expect(ports).toContain(container[probe].httpGet.port);
        }
        const secrets = (container.env ?? [])
          .map((e: any) => e.valueFrom?.secretKeyRef?.name)
          .filter(Boolean);
        expect(secrets.filter((name: string) => name !== SECRET)).toEqual([]);
        for (const mount of container.volumeMounts ?? []) {
          expect(volumes.has(mount.name)).toBe(true);
        }
      }
      for (const volume of volumes.values()) {
        if (volume.configMap) named('ConfigMap', volume.configMap.name);
        if (volume.persistentVolumeClaim) {
          named(
            'PersistentVolumeClaim',
            volume.persistentVolumeClaim.claimName,
          );
        }
      }
    },
  );

  it('the portal reads its ConfigMap layer after the image configs, and every token the data plane sends is one the portal accepts', () => {
    const portal = named('Deployment', 'loopline-portal').spec.template.spec;
    const container = portal.containers[0];
    const configs = container.args
      .map((a: string, i: number) =>
        container.args[i - 1] === '--config' ? a : undefined,
      )
      .filter(Boolean);
    expect(configs.slice(0, 2)).toEqual([
      'app-config.yaml',
      'app-config.production.yaml',
    ]);
    // The third is a file of the mounted ConfigMap, and valid YAML.
    const mount = container.volumeMounts.find((m: any) => m.name === 'config');
    const file = path.relative(mount.mountPath, configs[2]);
    const configMap = named(
      'ConfigMap',
      portal.volumes.find((v: any) => v.name === 'config').configMap.name,
    );
    const layer = parse(configMap.data[file]);
    expect(layer.backend.baseUrl).toBe(layer.app.baseUrl);

    // app-config.production.yaml reads the data-plane token from this
    // variable, and the data plane sends the same Secret key.
    const production = fs.readFileSync(
      path.resolve(DEPLOY, '../app-config.production.yaml'),
      'utf8',
    );
    const secretEnv = (c: any, name: string) =>
      c.env.find((e: any) => e.name === name)?.valueFrom?.secretKeyRef?.key;
    const serving = named('Deployment', 'loopline-serving').spec.template.spec
      .containers[0];
    expect(production).toContain('${LOOPLINE_DATA_PLANE_TOKEN}');
    expect(secretEnv(container, 'LOOPLINE_DATA_PLANE_TOKEN')).toBe(
      secretEnv(serving, 'LOOPLINE_DATA_PLANE_TOKEN'),
    );
    // The data plane calls the portal's Service on its port.
    const url = new URL(
      serving.env.find(
        (e: any) => e.name === 'LOOPLINE_CONTROL_PLANE_URL',
      ).value,
    );
    const portalService = named('Service', url.hostname);
    expect(portalService.spec.ports.map((p: any) => String(p.port))).toContain(
      url.port,
    );
    expect(url.pathname).toBe('/api/mlops');
  });
});
