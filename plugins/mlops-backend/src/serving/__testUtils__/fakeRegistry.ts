/*
 * An in-memory registry with the reads the serving code uses, for service
 * tests that need no database (the router tests use the real RegistryService
 * on SQLite and PostgreSQL). Signatures come from the real OnnxInspector.
 */
import { NotFoundError } from '@backstage/errors';
import {
  ModelStage,
  ModelVersion,
  RegisteredModel,
} from '@loopline/mlops-common';
import { OnnxInspector } from '../../registry/onnx/OnnxInspector';
import type { ServingRegistry } from '../InferenceService';

interface FakeVersion {
  version: number;
  stage: ModelStage;
  bytes?: Buffer;
  signature?: ModelVersion['signature'];
}

export class FakeRegistry {
  readonly models = new Map<
    string,
    { entityRef: string; versions: FakeVersion[] }
  >();
  readonly calls: Record<string, number> = {};

  /** Adds a version (creating the model); bytes that do not load are stored without a signature. */
  async add(
    name: string,
    version: number,
    stage: ModelStage,
    bytes?: Buffer,
    entityRef = `model:default/${name}`,
  ): Promise<void> {
    let model = this.models.get(name);
    if (!model) {
      model = { entityRef, versions: [] };
      this.models.set(name, model);
    }
    let signature: ModelVersion['signature'];
    if (bytes) {
      signature = await new OnnxInspector()
        .inspect(bytes)
        .catch(() => undefined);
    }
    model.versions.push({ version, stage, bytes, signature });
  }

  setStage(name: string, version: number, stage: ModelStage) {
    this.requireVersion(name, version).stage = stage;
  }

  asRegistry(): ServingRegistry {
    const count = (method: string) => {
      this.calls[method] = (this.calls[method] ?? 0) + 1;
    };
    const api = {
      getRegisteredModel: async (name: string): Promise<RegisteredModel> => {
        count('getRegisteredModel');
        const model = this.requireModel(name);
        return {
          name,
          entityRef: model.entityRef,
          description: '',
          createdAt: 0,
          updatedAt: 0,
          tags: {},
          aliases: {},
        };
      },
      getVersion: async (name: string, version: number) => {
        count('getVersion');
        return this.toVersion(name, this.requireVersion(name, version));
      },
      listVersions: async (name: string) => {
        count('listVersions');
        return this.requireModel(name)
          .versions.map(v => this.toVersion(name, v))
          .sort((a, b) => b.version - a.version);
      },
      getLatestVersions: async (name: string, stages?: string[]) => {
        count('getLatestVersions');
        const model = this.requireModel(name);
        const result: ModelVersion[] = [];
        for (const stage of stages ?? []) {
          const latest = model.versions
            .filter(v => v.stage === stage)
            .sort((a, b) => b.version - a.version)[0];
          if (latest) result.push(this.toVersion(name, latest));
        }
        return result;
      },
      searchVersions: async (request: { filter?: string }) => {
        count('searchVersions');
        const stage = /current_stage = '(\w+)'/.exec(request.filter ?? '')?.[1];
        const items: ModelVersion[] = [];
        for (const [name, model] of this.models) {
          for (const v of model.versions) {
            if (!stage || v.stage === stage)
              items.push(this.toVersion(name, v));
          }
        }
        return { items };
      },
      readArtifact: async (name: string, version: number) => {
        count('readArtifact');
        const v = this.requireVersion(name, version);
        if (!v.bytes) {
          throw new NotFoundError(
            `Version ${version} of registered model '${name}' has no artifact`,
          );
        }
        return v.bytes;
      },
    };
    return api as unknown as ServingRegistry;
  }

  private requireModel(name: string) {
    const model = this.models.get(name);
    if (!model) throw new NotFoundError(`Registered model '${name}' not found`);
    return model;
  }

  private requireVersion(name: string, version: number) {
    const found = this.requireModel(name).versions.find(
      v => v.version === version,
    );
    if (!found) {
      throw new NotFoundError(
        `Registered model '${name}' has no version ${version}`,
      );
    }
    return found;
  }

  private toVersion(name: string, v: FakeVersion): ModelVersion {
    return {
      name,
      version: v.version,
      entityRef: this.models.get(name)!.entityRef,
      description: '',
      source: 'test',
      status: 'READY',
      stage: v.stage,
      aliases: [],
      creator: 'test',
      createdAt: 0,
      updatedAt: 0,
      tags: {},
      ...(v.bytes
        ? {
            artifact: {
              path: `${name}/${v.version}/model.onnx`,
              sha256: '0'.repeat(64),
              sizeBytes: v.bytes.length,
              format: 'onnx' as const,
            },
          }
        : {}),
      ...(v.signature ? { signature: v.signature } : {}),
      metrics: {},
      params: {},
    };
  }
}
