import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  MODEL_STAGES,
  ModelSignature,
  ModelStage,
  ModelVersion,
  Page,
  RegisteredModel,
} from '@loopline/mlops-common';
import { randomBytes } from 'crypto';
import { Knex } from 'knex';
import { actorOf, AuditTrail } from '../audit';
import { ArtifactStore } from './artifacts/ArtifactStore';
import {
  canonicalStage,
  ENTITY_REF_TAG,
  normalizeEntityRef,
  REGISTRY_LIMITS,
  validateAliasName,
  validateModelName,
  validateTag,
  validateTags,
} from './names';
import { isUniqueViolation } from '../lib/database';
import { InvalidStateError } from '../lib/errors';
import { parseVersion } from '../lib/version';
import { ModelInspector, OnnxInspector } from './onnx/OnnxInspector';
import { VersionArtifacts } from './VersionArtifacts';
import {
  ArtifactRecord,
  ModelRecord,
  RegistryStore,
  VersionRecord,
  versionKey,
} from './RegistryStore';
import { readPage } from '../lib/paging';
import {
  FilterClause,
  parseOrderBy,
  parseSearchFilter,
} from '../lib/searchFilter';
import { MODEL_SEARCH_SCHEMA, VERSION_SEARCH_SCHEMA } from './searchSchemas';

/** What the registry shows of a version's source run. */
export interface RunData {
  /** Latest value per metric key. */
  metrics: Record<string, number>;
  params: Record<string, string>;
}

/**
 * Looks up runs by id (tracking provides it; the registry does not import
 * tracking). Runs that do not exist are simply absent from the map.
 */
export type RunLookup = (runIds: string[]) => Promise<Map<string, RunData>>;

export interface RegistryServiceOptions {
  store: RegistryStore;
  /**
   * Where version artifacts are kept (`<folder>/<version>/model.onnx`; the
   * folder is the model's name when it was created).
   */
  artifacts: ArtifactStore;
  auditTrail: AuditTrail;
  /** Metrics and params of source runs; without it versions show none. */
  runLookup?: RunLookup;
  /** Defaults to an OnnxInspector (onnxruntime-node). */
  inspector?: ModelInspector;
  /** Milliseconds since the epoch; for tests. */
  clock?: () => number;
  /**
   * The versions of a model that deployments route (rollout provides it;
   * the registry does not import rollout). They cannot be deleted, nor can
   * their model be deleted or renamed.
   */
  versionsInUse?: (name: string) => Promise<number[]>;
}

const ACTIVE_STAGES: ModelStage[] = ['Staging', 'Production'];

export const REGISTRY_SEARCH_LIMITS = {
  models: { default: 100, max: 1000 },
  versions: { default: 10000, max: 200000 },
} as const;

function describeModel(name: string) {
  return `registered model '${name}'`;
}

function describeVersion(name: string, version: number) {
  return `version ${version} of registered model '${name}'`;
}

/**
 * The model registry: registered models (each tied to a catalog Model),
 * their numbered versions with a checked ONNX artifact, stages and aliases.
 * Every stage change, alias change and version registration is written to
 * the audit trail in the same transaction as the change.
 */
export class RegistryService {
  private readonly store: RegistryStore;
  private readonly artifacts: VersionArtifacts;
  private readonly auditTrail: AuditTrail;
  private readonly runLookup: RunLookup;
  private readonly clock: () => number;
  private readonly versionsInUse: (name: string) => Promise<number[]>;
  private readonly versionListeners: Array<
    (version: ModelVersion) => Promise<void>
  > = [];

  constructor(options: RegistryServiceOptions) {
    this.store = options.store;
    this.artifacts = new VersionArtifacts(
      options.artifacts,
      options.inspector ?? new OnnxInspector(),
    );
    this.auditTrail = options.auditTrail;
    this.runLookup = options.runLookup ?? (async () => new Map());
    this.clock = options.clock ?? Date.now;
    this.versionsInUse = options.versionsInUse ?? (async () => []);
  }

  /** Called after each new version is committed (e.g. to record its lineage); a listener must not throw. */
  addVersionListener(listener: (version: ModelVersion) => Promise<void>) {
    this.versionListeners.push(listener);
  }

  // ---- registered models -------------------------------------------------

  /**
   * The catalog Model a new registered model belongs to: the entity named by
   * the `loopline.dev/entity-ref` tag if present, else `model:default/<name>`.
   */
  entityRefFor(name: string, tags?: Record<string, string>): string {
    const tagged = tags?.[ENTITY_REF_TAG];
    if (tagged !== undefined) {
      return normalizeEntityRef(tagged);
    }
    return stringifyEntityRef({
      kind: 'model',
      namespace: 'default',
      name,
    }).toLocaleLowerCase('en-US');
  }

  async createRegisteredModel(request: {
    name: string;
    entityRef?: string;
    description?: string;
    tags?: Record<string, string>;
  }): Promise<RegisteredModel> {
    const name = validateModelName(request.name);
    const tags = validateTags(request.tags, describeModel(name));
    const entityRef =
      request.entityRef !== undefined
        ? normalizeEntityRef(request.entityRef)
        : this.entityRefFor(name, tags);
    const description = this.checkDescription(request.description);
    const now = this.clock();
    try {
      await this.store.transaction(async trx => {
        if (await this.store.getModel(name, trx)) {
          throw new ConflictError(`Registered model '${name}' already exists`);
        }
        const artifactFolder = await this.newArtifactFolder(name, trx);
        await this.store.insertModel(
          {
            name,
            entityRef,
            description,
            createdAt: now,
            updatedAt: now,
            artifactFolder,
          },
          tags,
          trx,
        );
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`Registered model '${name}' already exists`);
      }
      throw error;
    }
    return this.getRegisteredModel(name);
  }

  /**
   * The folder of a new model's version files: its name, unless a model
   * renamed away from that name still has it; then the name with a random
   * suffix. Never changed afterwards, so a rename moves no files and a later
   * model of the old name writes elsewhere.
   */
  private async newArtifactFolder(
    name: string,
    trx: Knex.Transaction,
  ): Promise<string> {
    if (!(await this.store.isArtifactFolderTaken(name, trx))) {
      return name;
    }
    return `${name}~${randomBytes(4).toString('hex')}`;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const model = await this.requireModel(name);
    const [assembled] = await this.assembleModels([model]);
    return assembled;
  }

  /** The registered models of one catalog Model, by name. */
  async findByEntityRef(entityRef: string): Promise<RegisteredModel[]> {
    const models = await this.store.findModelsByEntityRef(
      normalizeEntityRef(entityRef),
    );
    return this.assembleModels(models);
  }

  /**
   * MLflow's search: `filter` such as `name = 'wine'`, `name LIKE 'wine%'`,
   * `tags.team = 'ml'`; `orderBy` such as `name DESC`,
   * `last_updated_timestamp DESC` (default `name ASC`).
   */
  async searchRegisteredModels(request: {
    filter?: string;
    maxResults?: number;
    orderBy?: string[];
    pageToken?: string;
  }): Promise<Page<RegisteredModel>> {
    const clauses = parseSearchFilter(request.filter, MODEL_SEARCH_SCHEMA);
    const orderBy = parseOrderBy(request.orderBy, MODEL_SEARCH_SCHEMA);
    const limit = this.checkMaxResults(
      request.maxResults,
      REGISTRY_SEARCH_LIMITS.models,
    );
    const page = await readPage(request.pageToken, limit, (offset, rows) =>
      this.store.searchModels({ clauses, orderBy, offset, limit: rows }),
    );
    return { ...page, items: await this.assembleModels(page.items) };
  }

  async updateRegisteredModel(
    name: string,
    patch: { description?: string },
  ): Promise<RegisteredModel> {
    const description =
      patch.description === undefined
        ? undefined
        : this.checkDescription(patch.description);
    await this.requireModel(name);
    await this.store.updateModel(name, {
      description,
      updatedAt: this.clock(),
    });
    return this.getRegisteredModel(name);
  }

  /**
   * Deletes a registered model with its versions, tags, aliases and
   * artifacts (audited as `registry.model.delete`).
   */
  async deleteRegisteredModel(request: {
    name: string;
    comment?: string;
    credentials: BackstageCredentials;
  }): Promise<void> {
    const { name } = request;
    await this.refuseInUse(name, undefined, 'delete');
    let folder: string | undefined;
    let files: Array<string | undefined> = [];
    await this.store.transaction(async trx => {
      const model = await this.requireModel(name, trx, true);
      const versions = await this.store.listVersions(name, trx);
      folder = model.artifactFolder;
      files = versions.map(v => v.artifact?.path);
      await this.store.deleteModel(name, trx);
      await this.auditTrail.record(
        {
          entityRef: model.entityRef,
          action: 'registry.model.delete',
          credentials: request.credentials,
          comment: request.comment,
          details: {
            registeredModel: name,
            versions: versions.map(v => v.version),
          },
        },
        trx,
      );
    });
    // Each recorded file too: one written before folders were kept per
    // model may lie outside the folder.
    for (const file of files) {
      await this.artifacts.removeQuietly(file);
    }
    await this.artifacts.remove(folder!);
  }

  /**
   * MLflow's `registered-models/rename`: the model, its versions, tags and
   * aliases under a new name; it keeps its catalog Model and its artifact
   * folder (no file moves). Refused while a deployment routes one of its
   * versions. Audited as `registry.model.rename`.
   */
  async renameRegisteredModel(request: {
    name: string;
    newName: string;
    credentials: BackstageCredentials;
  }): Promise<RegisteredModel> {
    const { name } = request;
    const newName = validateModelName(request.newName);
    await this.refuseInUse(name, undefined, 'rename');
    await this.store.transaction(async trx => {
      const model = await this.requireModel(name, trx, true);
      if (await this.store.getModel(newName, trx)) {
        throw new ConflictError(`Registered model '${newName}' already exists`);
      }
      await this.store.renameModel(name, newName, this.clock(), trx);
      await this.auditTrail.record(
        {
          entityRef: model.entityRef,
          action: 'registry.model.rename',
          credentials: request.credentials,
          details: { registeredModel: newName, previousName: name },
        },
        trx,
      );
    });
    return this.getRegisteredModel(newName);
  }

  async setRegisteredModelTag(
    name: string,
    key: string,
    value: string,
  ): Promise<void> {
    validateTag(key, value, describeModel(name));
    await this.store.transaction(async trx => {
      await this.requireModel(name, trx, true);
      await this.store.setModelTag(name, key, value, trx);
      await this.store.updateModel(name, { updatedAt: this.clock() }, trx);
    });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.store.transaction(async trx => {
      await this.requireModel(name, trx, true);
      if (!(await this.store.deleteModelTag(name, key, trx))) {
        throw new NotFoundError(
          `No tag '${key}' on registered model '${name}'`,
        );
      }
      await this.store.updateModel(name, { updatedAt: this.clock() }, trx);
    });
  }

  // ---- versions ----------------------------------------------------------

  /**
   * Registers the next version of a model (numbers are consecutive per
   * model, also under concurrent calls). With `artifact`, the bytes are
   * checked as an ONNX model first and stored with the version; a model
   * that does not load creates nothing. Audited as `registry.version.create`.
   */
  async createVersion(request: {
    name: string;
    source: string;
    runId?: string;
    /** The MLflow logged model the version is registered from. */
    modelId?: string;
    description?: string;
    tags?: Record<string, string>;
    /** ONNX bytes to store as the version's artifact. */
    artifact?: Buffer;
    /** Who registered it; defaults to the caller's user ref or service subject. */
    creator?: string;
    credentials: BackstageCredentials;
  }): Promise<ModelVersion> {
    const { name } = request;
    if (typeof request.source !== 'string' || request.source.trim() === '') {
      throw new InputError(
        `Invalid source for a new version of registered model '${name}': it must be a non-empty string`,
      );
    }
    if (request.source.length > REGISTRY_LIMITS.sourceLength) {
      throw new InputError(
        `Invalid source for a new version of registered model '${name}': longer than ${REGISTRY_LIMITS.sourceLength} characters`,
      );
    }
    const runId = request.runId === '' ? undefined : request.runId;
    if (
      runId !== undefined &&
      (typeof runId !== 'string' || runId.length > REGISTRY_LIMITS.runIdLength)
    ) {
      throw new InputError(
        `Invalid run id ${JSON.stringify(
          runId,
        )} for a new version of registered model '${name}'`,
      );
    }
    const tags = validateTags(
      request.tags,
      `a new version of registered model '${name}'`,
    );
    const description = this.checkDescription(request.description);
    const creator = request.creator ?? actorOf(request.credentials);
    const inspected = request.artifact
      ? await this.artifacts.inspect(
          name,
          request.artifact,
          `${name}/<new version>`,
        )
      : undefined;

    let writtenPath: string | undefined;
    let number: number;
    try {
      number = await this.store.transaction(async trx => {
        const model = await this.requireModel(name, trx, true);
        const next = await this.store.nextVersionNumber(name, trx);
        const now = this.clock();
        let artifact: ArtifactRecord | undefined;
        if (inspected) {
          writtenPath = this.artifacts.pathOf(model.artifactFolder, next);
          artifact = await this.artifacts.write(
            writtenPath,
            request.artifact!,
            inspected,
          );
        }
        await this.store.insertVersion(
          {
            name,
            version: next,
            description,
            source: request.source,
            runId,
            ...(request.modelId ? { modelId: request.modelId } : {}),
            status: 'READY',
            stage: 'None',
            creator,
            createdAt: now,
            updatedAt: now,
            artifact,
          },
          tags,
          trx,
        );
        await this.store.updateModel(name, { updatedAt: now }, trx);
        await this.auditTrail.record(
          {
            entityRef: model.entityRef,
            action: 'registry.version.create',
            credentials: request.credentials,
            details: {
              registeredModel: name,
              version: next,
              source: request.source,
              ...(runId ? { runId } : {}),
              ...(artifact
                ? { sha256: artifact.sha256, sizeBytes: artifact.sizeBytes }
                : {}),
            },
          },
          trx,
        );
        return next;
      });
    } catch (error) {
      await this.artifacts.removeQuietly(writtenPath);
      throw error;
    }
    const created = await this.getVersion(name, number);
    for (const listener of this.versionListeners) {
      await listener(created);
    }
    return created;
  }

  async getVersion(name: string, version: number): Promise<ModelVersion> {
    const record = await this.requireVersion(name, version);
    const [assembled] = await this.assembleVersions([record]);
    return assembled;
  }

  /** All versions of a model, newest first. */
  async listVersions(name: string): Promise<ModelVersion[]> {
    await this.requireModel(name);
    return this.assembleVersions(await this.store.listVersions(name));
  }

  /**
   * MLflow's search: `filter` such as `name = 'wine'`, `run_id = '...'`,
   * `run_id IN ('a', 'b')`, `version_number > 2`, `tags.k = 'v'`; `orderBy`
   * such as `version_number DESC` (default: name, then newest first).
   */
  async searchVersions(request: {
    filter?: string;
    maxResults?: number;
    orderBy?: string[];
    pageToken?: string;
  }): Promise<Page<ModelVersion>> {
    const clauses = parseSearchFilter(
      request.filter,
      VERSION_SEARCH_SCHEMA,
    ).map((clause): FilterClause => {
      if (clause.type !== 'attribute' || clause.key !== 'current_stage') {
        return clause;
      }
      if (clause.valueType === 'list') {
        return { ...clause, value: clause.value.map(canonicalStage) };
      }
      return { ...clause, value: canonicalStage(clause.value) } as FilterClause;
    });
    const orderBy = parseOrderBy(request.orderBy, VERSION_SEARCH_SCHEMA);
    const limit = this.checkMaxResults(
      request.maxResults,
      REGISTRY_SEARCH_LIMITS.versions,
    );
    const page = await readPage(request.pageToken, limit, (offset, rows) =>
      this.store.searchVersions({ clauses, orderBy, offset, limit: rows }),
    );
    return { ...page, items: await this.assembleVersions(page.items) };
  }

  /**
   * For each stage asked (all four by default), the highest-numbered version
   * in it; stages without a version are left out. Ordered as MODEL_STAGES.
   */
  async getLatestVersions(
    name: string,
    stages?: string[],
  ): Promise<ModelVersion[]> {
    const wanted =
      stages && stages.length > 0
        ? [...new Set(stages.map(canonicalStage))]
        : [...MODEL_STAGES];
    await this.requireModel(name);
    const records = await this.store.latestVersionsByStage(name, wanted);
    records.sort(
      (a, b) => MODEL_STAGES.indexOf(a.stage) - MODEL_STAGES.indexOf(b.stage),
    );
    return this.assembleVersions(records);
  }

  /**
   * `getLatestVersions` (all four stages) of many models at once, e.g. for a
   * page of search results: one query, not one per model.
   */
  async getLatestVersionsOf(
    names: string[],
  ): Promise<Map<string, ModelVersion[]>> {
    const records = await this.store.latestVersionsByStageOf(names, [
      ...MODEL_STAGES,
    ]);
    records.sort(
      (a, b) => MODEL_STAGES.indexOf(a.stage) - MODEL_STAGES.indexOf(b.stage),
    );
    const versions = await this.assembleVersions(records);
    const byModel = new Map<string, ModelVersion[]>(names.map(n => [n, []]));
    for (const version of versions) {
      byModel.get(version.name)?.push(version);
    }
    return byModel;
  }

  /**
   * The versions registered from each MLflow logged model (MLflow's
   * `registrations` of a LoggedModel), keyed by model id.
   */
  async registrationsOf(
    modelIds: string[],
  ): Promise<Map<string, Array<{ name: string; version: number }>>> {
    const result = new Map<string, Array<{ name: string; version: number }>>();
    if (modelIds.length === 0) return result;
    for (const v of await this.store.listVersionsOfLoggedModels(modelIds)) {
      const list = result.get(v.modelId!) ?? [];
      list.push({ name: v.name, version: v.version });
      result.set(v.modelId!, list);
    }
    return result;
  }

  async updateVersion(
    name: string,
    version: number,
    patch: { description?: string },
  ): Promise<ModelVersion> {
    const number = parseVersion(version);
    const description =
      patch.description === undefined
        ? undefined
        : this.checkDescription(patch.description);
    await this.requireVersion(name, number);
    await this.store.updateVersion(name, number, {
      description,
      updatedAt: this.clock(),
    });
    return this.getVersion(name, number);
  }

  async setVersionTag(
    name: string,
    version: number,
    key: string,
    value: string,
  ): Promise<void> {
    const number = parseVersion(version);
    validateTag(key, value, describeVersion(name, number));
    await this.store.transaction(async trx => {
      await this.requireVersion(name, number, trx);
      await this.store.setVersionTag(name, number, key, value, trx);
      await this.store.updateVersion(
        name,
        number,
        { updatedAt: this.clock() },
        trx,
      );
    });
  }

  /**
   * Deletes a version with its tags and aliases (its artifact file too).
   * Refused with InvalidStateError while a deployment routes it. Audited as
   * `registry.version.delete`.
   */
  async deleteVersion(request: {
    name: string;
    version: number;
    comment?: string;
    credentials: BackstageCredentials;
  }): Promise<void> {
    const { name } = request;
    const number = parseVersion(request.version);
    await this.refuseInUse(name, number, 'delete');
    let artifactPath: string | undefined;
    await this.store.transaction(async trx => {
      const model = await this.requireModel(name, trx, true);
      const version = await this.requireVersion(name, number, trx);
      artifactPath = version.artifact?.path;
      await this.store.deleteVersion(name, number, trx);
      await this.store.updateModel(name, { updatedAt: this.clock() }, trx);
      await this.auditTrail.record(
        {
          entityRef: model.entityRef,
          action: 'registry.version.delete',
          credentials: request.credentials,
          comment: request.comment,
          details: {
            registeredModel: name,
            version: number,
            stage: version.stage,
          },
        },
        trx,
      );
    });
    await this.artifacts.removeQuietly(artifactPath);
  }

  /** InvalidStateError when deployments route the version (or any version of the model). */
  private async refuseInUse(
    name: string,
    version: number | undefined,
    what: 'delete' | 'rename',
  ): Promise<void> {
    const inUse = await this.versionsInUse(name);
    const blocking =
      version === undefined ? inUse : inUse.filter(v => v === version);
    if (blocking.length > 0) {
      throw new InvalidStateError(
        version === undefined
          ? `Cannot ${what} registered model '${name}': deployments route its version(s) ${blocking.join(
              ', ',
            )}`
          : `Cannot ${what} ${describeVersion(
              name,
              version,
            )}: a deployment routes it`,
      );
    }
  }

  async deleteVersionTag(
    name: string,
    version: number,
    key: string,
  ): Promise<void> {
    const number = parseVersion(version);
    await this.store.transaction(async trx => {
      await this.requireVersion(name, number, trx);
      if (!(await this.store.deleteVersionTag(name, number, key, trx))) {
        throw new NotFoundError(
          `No tag '${key}' on ${describeVersion(name, number)}`,
        );
      }
      await this.store.updateVersion(
        name,
        number,
        { updatedAt: this.clock() },
        trx,
      );
    });
  }

  /**
   * Moves a version to `stage` (MLflow's names, any case). With
   * `archiveExistingVersions` (Staging and Production only), the other
   * versions in that stage move to Archived in the same transaction. Audited
   * as `registry.stage.transition` for the version and for each archived one.
   */
  async transitionStage(request: {
    name: string;
    version: number;
    stage: ModelStage | string;
    archiveExistingVersions?: boolean;
    comment?: string;
    credentials: BackstageCredentials;
  }): Promise<ModelVersion> {
    const { name, credentials, comment } = request;
    const number = parseVersion(request.version);
    const to = canonicalStage(request.stage);
    const archive = request.archiveExistingVersions ?? false;
    if (archive && !ACTIVE_STAGES.includes(to)) {
      throw new InputError(
        `Cannot archive existing versions when moving to stage '${to}': only Staging and Production are active stages`,
      );
    }
    await this.store.transaction(async trx => {
      const model = await this.requireModel(name, trx, true);
      const current = await this.requireVersion(name, number, trx);
      const now = this.clock();
      const archived = archive
        ? (await this.store.listVersionsInStage(name, to, trx))
            .map(v => v.version)
            .filter(v => v !== number)
            .sort((a, b) => a - b)
        : [];
      for (const other of archived) {
        await this.store.updateVersion(
          name,
          other,
          { stage: 'Archived', updatedAt: now },
          trx,
        );
      }
      await this.store.updateVersion(
        name,
        number,
        { stage: to, updatedAt: now },
        trx,
      );
      await this.store.updateModel(name, { updatedAt: now }, trx);
      await this.auditTrail.record(
        {
          entityRef: model.entityRef,
          action: 'registry.stage.transition',
          credentials,
          comment,
          details: {
            registeredModel: name,
            version: number,
            from: current.stage,
            to,
            archived,
          },
        },
        trx,
      );
      for (const other of archived) {
        await this.auditTrail.record(
          {
            entityRef: model.entityRef,
            action: 'registry.stage.transition',
            credentials,
            comment,
            details: {
              registeredModel: name,
              version: other,
              from: to,
              to: 'Archived',
              archived: [],
              archivedBy: number,
            },
          },
          trx,
        );
      }
    });
    return this.getVersion(name, number);
  }

  /**
   * Points `alias` at a version, moving it if it pointed elsewhere. Audited
   * as `registry.alias.set` with the previous version (null when new).
   */
  async setAlias(request: {
    name: string;
    alias: string;
    version: number;
    comment?: string;
    credentials: BackstageCredentials;
  }): Promise<ModelVersion> {
    const { name } = request;
    const alias = validateAliasName(request.alias);
    const number = parseVersion(request.version);
    await this.store.transaction(async trx => {
      const model = await this.requireModel(name, trx, true);
      await this.requireVersion(name, number, trx);
      const previous = await this.store.getAlias(name, alias, trx);
      const now = this.clock();
      await this.store.setAlias(name, alias, number, now, trx);
      await this.store.updateModel(name, { updatedAt: now }, trx);
      await this.auditTrail.record(
        {
          entityRef: model.entityRef,
          action: 'registry.alias.set',
          credentials: request.credentials,
          comment: request.comment,
          details: {
            registeredModel: name,
            alias,
            version: number,
            previousVersion: previous ?? null,
          },
        },
        trx,
      );
    });
    return this.getVersion(name, number);
  }

  /**
   * Removes an alias. Like MLflow, removing an alias that does not exist is
   * not an error (and is not audited); an unknown model is.
   */
  async deleteAlias(request: {
    name: string;
    alias: string;
    comment?: string;
    credentials: BackstageCredentials;
  }): Promise<void> {
    const { name } = request;
    const alias = validateAliasName(request.alias);
    await this.store.transaction(async trx => {
      const model = await this.requireModel(name, trx, true);
      const previous = await this.store.getAlias(name, alias, trx);
      if (previous === undefined) {
        return;
      }
      await this.store.deleteAlias(name, alias, trx);
      await this.store.updateModel(name, { updatedAt: this.clock() }, trx);
      await this.auditTrail.record(
        {
          entityRef: model.entityRef,
          action: 'registry.alias.delete',
          credentials: request.credentials,
          comment: request.comment,
          details: {
            registeredModel: name,
            alias,
            version: null,
            previousVersion: previous,
          },
        },
        trx,
      );
    });
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    await this.requireModel(name);
    const version = await this.store.getAlias(name, alias);
    if (version === undefined) {
      throw new NotFoundError(
        `Registered model '${name}' has no alias '${alias}'`,
      );
    }
    return this.getVersion(name, version);
  }

  // ---- artifacts ---------------------------------------------------------

  /**
   * Stores the version's ONNX model at `<folder>/<version>/<fileName>` after
   * checking it loads; records sha256, size and signature on the version.
   * Bytes that are not a loadable model store nothing and change nothing.
   * Uploading the same bytes again is a no-op; other bytes over an existing
   * artifact are a ConflictError (register a new version instead).
   * Audited as `registry.artifact.upload`.
   */
  async uploadArtifact(request: {
    name: string;
    version: number;
    bytes: Buffer;
    fileName?: string;
    credentials: BackstageCredentials;
  }): Promise<ModelVersion> {
    const { name, bytes } = request;
    const number = parseVersion(request.version);
    const { artifactFolder } = await this.requireModel(name);
    const path = this.artifacts.pathOf(
      artifactFolder,
      number,
      request.fileName,
    );
    await this.requireVersion(name, number);
    const signature = await this.artifacts.inspect(name, bytes, path);

    let written: string | undefined;
    try {
      await this.store.transaction(async trx => {
        const model = await this.requireModel(name, trx, true);
        const current = await this.requireVersion(name, number, trx);
        if (current.artifact) {
          if (this.artifacts.isSame(bytes, current.artifact)) {
            return;
          }
          throw new ConflictError(
            `${describeVersion(name, number)} already has an artifact (sha256 ${
              current.artifact.sha256
            }); register a new version for another model file`,
          );
        }
        written = path;
        const artifact = await this.artifacts.write(path, bytes, signature);
        const now = this.clock();
        await this.store.updateVersion(
          name,
          number,
          { artifact, updatedAt: now },
          trx,
        );
        await this.store.updateModel(name, { updatedAt: now }, trx);
        await this.auditTrail.record(
          {
            entityRef: model.entityRef,
            action: 'registry.artifact.upload',
            credentials: request.credentials,
            details: {
              registeredModel: name,
              version: number,
              path,
              sha256: artifact.sha256,
              sizeBytes: artifact.sizeBytes,
            },
          },
          trx,
        );
      });
    } catch (error) {
      await this.artifacts.removeQuietly(written);
      throw error;
    }
    return this.getVersion(name, number);
  }

  /** The version's model file, verified against the recorded sha256 and size. */
  async readArtifact(name: string, version: number): Promise<Buffer> {
    const record = await this.requireVersion(name, version);
    if (!record.artifact) {
      throw new NotFoundError(
        `${capitalize(describeVersion(name, record.version))} has no artifact`,
      );
    }
    return this.artifacts.read(record.artifact);
  }

  // ---- helpers -----------------------------------------------------------

  private async requireModel(
    name: string,
    trx?: Knex.Transaction,
    lock?: boolean,
  ): Promise<ModelRecord> {
    const model =
      typeof name === 'string'
        ? await this.store.getModel(name, trx, { lock })
        : undefined;
    if (!model) {
      throw new NotFoundError(`Registered model '${name}' not found`);
    }
    return model;
  }

  private async requireVersion(
    name: string,
    version: number,
    trx?: Knex.Transaction,
  ): Promise<VersionRecord> {
    const number = parseVersion(version);
    const record = await this.store.getVersion(name, number, trx);
    if (!record) {
      await this.requireModel(name, trx);
      throw new NotFoundError(
        `Registered model '${name}' has no version ${number}`,
      );
    }
    return record;
  }

  private checkDescription(description: string | undefined): string {
    if (description === undefined || description === null) return '';
    if (typeof description !== 'string') {
      throw new InputError('Invalid description: it must be a string');
    }
    if (description.length > REGISTRY_LIMITS.descriptionLength) {
      throw new InputError(
        `Invalid description: longer than ${REGISTRY_LIMITS.descriptionLength} characters`,
      );
    }
    return description;
  }

  private checkMaxResults(
    maxResults: number | undefined,
    limits: { default: number; max: number },
  ): number {
    if (maxResults === undefined) return limits.default;
    if (
      !Number.isSafeInteger(maxResults) ||
      maxResults < 1 ||
      maxResults > limits.max
    ) {
      throw new InputError(
        `Invalid max_results ${maxResults}: it must be an integer from 1 to ${limits.max}`,
      );
    }
    return maxResults;
  }

  private async assembleModels(
    models: ModelRecord[],
  ): Promise<RegisteredModel[]> {
    if (models.length === 0) return [];
    const names = models.map(m => m.name);
    const [tags, aliases] = await Promise.all([
      this.store.getModelTags(names),
      this.store.getAliases(names),
    ]);
    return models.map(m => ({
      name: m.name,
      entityRef: m.entityRef,
      description: m.description,
      createdAt: m.createdAt,
      updatedAt: m.updatedAt,
      tags: tags.get(m.name) ?? {},
      aliases: aliases.get(m.name) ?? {},
    }));
  }

  private async assembleVersions(
    records: VersionRecord[],
  ): Promise<ModelVersion[]> {
    if (records.length === 0) return [];
    const names = [...new Set(records.map(r => r.name))];
    const runIds = [
      ...new Set(records.flatMap(r => (r.runId ? [r.runId] : []))),
    ];
    const [models, tags, aliases, runs] = await Promise.all([
      this.store.getModels(names),
      this.store.getVersionTags(records),
      this.store.getAliases(names),
      runIds.length > 0
        ? this.runLookup(runIds)
        : Promise.resolve(new Map<string, RunData>()),
    ]);
    const entityRefs = new Map(models.map(m => [m.name, m.entityRef] as const));
    return records.map(r => {
      const modelAliases = aliases.get(r.name) ?? {};
      const run = r.runId ? runs.get(r.runId) : undefined;
      return {
        name: r.name,
        version: r.version,
        entityRef: entityRefs.get(r.name) ?? '',
        description: r.description,
        source: r.source,
        ...(r.runId ? { runId: r.runId } : {}),
        ...(r.modelId ? { modelId: r.modelId } : {}),
        status: r.status,
        ...(r.statusMessage ? { statusMessage: r.statusMessage } : {}),
        stage: r.stage,
        aliases: Object.entries(modelAliases)
          .filter(([, v]) => v === r.version)
          .map(([alias]) => alias)
          .sort(),
        creator: r.creator,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
        tags: tags.get(versionKey(r.name, r.version)) ?? {},
        ...(r.artifact
          ? {
              artifact: {
                path: r.artifact.path,
                sha256: r.artifact.sha256,
                sizeBytes: r.artifact.sizeBytes,
                format: r.artifact.format,
              },
              signature: JSON.parse(r.artifact.signature) as ModelSignature,
            }
          : {}),
        metrics: { ...(run?.metrics ?? {}) },
        params: { ...(run?.params ?? {}) },
      };
    });
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
