import { InputError, NotFoundError } from '@backstage/errors';
import type {
  LineageColumnNodeData,
  LineageDataset,
  LineageDatasetVersion,
  LineageDatasetVersionRef,
  LineageEdge,
  LineageGraph,
  LineageJob,
  LineageJobVersion,
  LineageNamespace,
  LineageNode,
  LineageRun,
} from '@loopline/mlops-common';
import { LineageBatch } from './LineageBatch';
import {
  DatasetRecord,
  DatasetVersionRecord,
  JobIoRecord,
  JobRecord,
  JobVersionRecord,
  LineageStore,
  Page,
  RunRecord,
} from './LineageStore';
import {
  DatasetId,
  columnLineageOf,
  datasetFacts,
  datasetVersionUuid,
  entityUuid,
  isDone,
  jobTypeOf,
  jobVersionUuid,
  mergeFacets,
  nodeIds,
  parentOf,
  parseNodeId,
  RunState,
  runStateOf,
  staticDatasetVersionUuid,
} from './model';
import {
  EventProblem,
  eventTypeOf,
  OpenLineageValidator,
} from './OpenLineageValidator';
import type {
  DatasetEvent,
  EventDataset,
  Facets,
  JobEvent,
  LineageEvent,
  RunEvent,
} from './types';

/** A batch entry that failed, in the shape of the spec's `/lineage/batch` answer. */
export interface BatchFailure {
  index: number;
  reason: string;
  retriable: boolean;
  problems: EventProblem[];
}

/** A dataset version stored for the first time: a run's write, or a declared version. */
export interface NewDatasetVersion {
  namespace: string;
  name: string;
  /** The content hash (`version` facet) when there is one, else the version id. */
  version: string;
  runId: string | null;
  createdAt: number;
}

/** Thrown for an invalid event: the routes answer 400 with its problems. */
export class InvalidEventError extends InputError {
  constructor(readonly problems: EventProblem[]) {
    super(
      `Invalid OpenLineage event: ${problems
        .map(p => `${p.path}: ${p.message}`)
        .join('; ')}`,
    );
  }
}

/**
 * A lineage walk reads all the job I/O edges at once (instead of a
 * statement per hop) when a hop reaches at least this many new datasets
 * and the graph has at most `WALK_IN_MEMORY_RATIO` times as many edges.
 */
const WALK_IN_MEMORY_FROM = 256;
const WALK_IN_MEMORY_RATIO = 64;

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Most events written in one group commit. */
const MAX_GROUP = 500;

type Iso = (ms: number | null | undefined) => string | null;

const iso: Iso = ms =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/** `iso` with a memo, for shaping many rows that share timestamps (one call's worth). */
function memoIso(): Iso {
  const seen = new Map<number, string>();
  return ms => {
    if (ms === null || ms === undefined) return null;
    let s = seen.get(ms);
    if (s === undefined) {
      s = new Date(ms).toISOString();
      seen.set(ms, s);
    }
    return s;
  };
}

/**
 * OpenLineage ingest into Marquez's model, and Marquez's read API.
 *
 * How events are applied (Marquez's `OpenLineageDao`, with its known gaps
 * closed as its maintainers describe):
 * - Every accepted event is kept raw, append-only, duplicates included.
 * - A run's state follows its events by eventTime, except that a terminal
 *   state (COMPLETED, FAILED, ABORTED) is never replaced by a START or
 *   RUNNING, whenever those arrive (COMPLETE before START leaves the run
 *   COMPLETED, with START's time as `startedAt`). OTHER changes no state.
 *   A state at the same time is recorded once, so a repeated event adds no
 *   history.
 * - Inputs map to the dataset's current version; each output gets one
 *   version per run (the same run writing again updates that version), and
 *   becomes the dataset's current version when the run completes (or when
 *   the dataset has none yet).
 * - A batch job's version (Marquez's hash of its sorted I/O and location)
 *   is made when the run ends, from the I/O of all the run's events; it
 *   becomes the job's current version and its I/O the graph's edges. A job
 *   that never ended yet shows its running I/O (Marquez shows nothing
 *   until COMPLETE; its users ask for this). Streaming jobs are versioned
 *   on every event.
 */
export class LineageService {
  constructor(
    private readonly store: LineageStore,
    private readonly validator: OpenLineageValidator,
    private readonly clock: () => number = Date.now,
    /** Told, after commit, of every dataset version stored for the first time. */
    private readonly onDatasetVersions?: (
      versions: NewDatasetVersion[],
    ) => Promise<void>,
  ) {}

  /**
   * Validates then records one event; nothing is stored if it is invalid.
   * Events that arrive while a write is under way are written together
   * next, in one transaction (group commit), so concurrent clients that
   * post one event per request cost a statement per table per group, not
   * per event.
   */
  async ingest(body: unknown): Promise<void> {
    const result = this.validator.validate(body);
    if (!result.valid) {
      throw new InvalidEventError(result.problems);
    }
    const event = result.event;
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private readonly queue: Array<{
    event: LineageEvent;
    resolve: () => void;
    reject: (error: unknown) => void;
  }> = [];
  private draining = false;

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // One turn of the event loop first: the callers answered by the
      // last group (and requests already read from the network) can
      // queue their next events and join this group.
      await new Promise(resolve => setImmediate(resolve));
      const group = this.queue.splice(0, MAX_GROUP);
      try {
        await this.applyAll(group.map(g => g.event));
        group.forEach(g => g.resolve());
      } catch (error) {
        if (group.length === 1) {
          group[0].reject(error);
          continue;
        }
        // One event's failure must not fail the others: apply each alone.
        for (const g of group) {
          await this.applyAll([g.event]).then(g.resolve, g.reject);
        }
      }
    }
    this.draining = false;
  }

  /**
   * Records a batch (the spec's `/lineage/batch`): each valid event is
   * recorded; the invalid ones are reported by index and not stored.
   */
  async ingestBatch(
    bodies: unknown[],
  ): Promise<{ received: number; failed: BatchFailure[] }> {
    const failed: BatchFailure[] = [];
    const valid: LineageEvent[] = [];
    bodies.forEach((body, index) => {
      const result = this.validator.validate(body);
      if (result.valid) {
        valid.push(result.event);
      } else {
        failed.push({
          index,
          reason: result.problems
            .map(p => `${p.path}: ${p.message}`)
            .join('; '),
          retriable: false,
          problems: result.problems,
        });
      }
    });
    if (valid.length > 0) {
      await this.applyAll(valid);
    }
    return { received: bodies.length, failed };
  }

  /**
   * Applies events in order, in one transaction: the state they touch is
   * read up front, changed in memory and written table by table.
   */
  private async applyAll(events: LineageEvent[]): Promise<void> {
    const created = await this.store.transaction(async store => {
      const batch = await LineageBatch.load(store, events);
      for (const event of events) {
        await this.apply(batch, event);
      }
      await batch.flush(this.clock());
      return (await batch.newDatasetVersions()).map(({ dataset, version }) => ({
        namespace: dataset.namespace,
        name: dataset.name,
        version: version.contentHash ?? version.version,
        runId: version.runUuid,
        createdAt: version.createdAt,
      }));
    });
    if (created.length > 0 && this.onDatasetVersions) {
      // The events are stored: a failing listener (it logs its own
      // errors) must not make the caller retry them.
      await this.onDatasetVersions(created).catch(() => undefined);
    }
  }

  private async apply(tx: LineageBatch, event: LineageEvent): Promise<void> {
    const type = eventTypeOf(event as any);
    const now = this.clock();
    const eventTime = Date.parse(event.eventTime);
    const run = type === 'RunEvent' ? (event as RunEvent) : undefined;
    const job = 'job' in event ? event.job : undefined;
    tx.insertEvent({
      kind:
        type === 'RunEvent'
          ? 'RUN'
          : type === 'DatasetEvent'
          ? 'DATASET'
          : 'JOB',
      eventType: run?.eventType ?? null,
      eventTime,
      runUuid: run?.run.runId.toLowerCase() ?? null,
      jobNamespace: job?.namespace ?? null,
      jobName: job?.name ?? null,
      producer: event.producer,
      event,
      receivedAt: now,
    });
    if (type === 'RunEvent') {
      await this.applyRunEvent(tx, event as RunEvent, eventTime, now);
    } else if (type === 'DatasetEvent') {
      await this.applyDatasetEvent(tx, event as DatasetEvent, eventTime, now);
    } else {
      await this.applyJobEvent(tx, event as JobEvent, now);
    }
  }

  private async upsertJob(
    tx: LineageBatch,
    id: DatasetId,
    facets: Facets | undefined,
    now: number,
    parentJobUuid?: string,
  ): Promise<JobRecord> {
    tx.ensureNamespace(id.namespace);
    const existing = await tx.getJob(id);
    const merged = mergeFacets(existing?.facets ?? {}, facets);
    const job: JobRecord = {
      uuid: existing?.uuid ?? entityUuid('job', id),
      namespace: id.namespace,
      name: id.name,
      simpleName: existing?.simpleName ?? id.name,
      parentJobUuid: parentJobUuid ?? existing?.parentJobUuid ?? null,
      type: jobTypeOf(merged),
      description:
        (merged.documentation as any)?.description ??
        existing?.description ??
        null,
      location:
        (merged.sourceCodeLocation as any)?.url ?? existing?.location ?? null,
      facets: merged,
      currentVersionUuid: existing?.currentVersionUuid ?? null,
      currentRunUuid: existing?.currentRunUuid ?? null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    tx.putJob(job);
    return job;
  }

  private async upsertDataset(
    tx: LineageBatch,
    dataset: EventDataset,
    now: number,
  ): Promise<DatasetRecord> {
    tx.ensureNamespace(dataset.namespace);
    const existing = await tx.getDataset(dataset);
    const facts = datasetFacts(dataset);
    const record: DatasetRecord = {
      uuid: existing?.uuid ?? entityUuid('dataset', dataset),
      namespace: dataset.namespace,
      name: dataset.name,
      type: existing?.type ?? 'DB_TABLE',
      sourceName: facts.sourceName ?? existing?.sourceName ?? 'default',
      description: facts.description ?? existing?.description ?? null,
      fields: facts.fields ?? existing?.fields ?? [],
      facets: mergeFacets(existing?.facets ?? {}, dataset.facets),
      currentVersionUuid: existing?.currentVersionUuid ?? null,
      lifecycleState: facts.lifecycleState ?? existing?.lifecycleState ?? null,
      lastModifiedAt: existing?.lastModifiedAt ?? null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    tx.putDataset(record);
    return record;
  }

  private async applyRunEvent(
    tx: LineageBatch,
    event: RunEvent,
    eventTime: number,
    now: number,
  ): Promise<void> {
    const runUuid = event.run.runId.toLowerCase();
    const parent = parentOf(event.run.facets);
    let parentJobUuid: string | undefined;
    if (parent) {
      parentJobUuid = (await this.upsertJob(tx, parent.job, undefined, now))
        .uuid;
    }
    const job = await this.upsertJob(
      tx,
      event.job,
      event.job.facets,
      now,
      parentJobUuid,
    );

    // The run's state, robust to events out of order (see the class doc).
    const existing = await tx.getRun(runUuid);
    const incoming = runStateOf(event.eventType);
    let state: RunRecord['state'] = existing?.state ?? incoming ?? 'NEW';
    let stateTime = existing?.stateTime ?? eventTime;
    if (incoming && existing) {
      const current = existing.state as RunState;
      const replaces = isDone(current)
        ? isDone(incoming) && eventTime >= existing.stateTime
        : isDone(incoming) || eventTime >= existing.stateTime;
      if (replaces) {
        state = incoming;
        stateTime = eventTime;
      }
    }
    const nominal: any = event.run.facets?.nominalTime;
    const startedAt =
      event.eventType === 'START' ||
      (!existing?.startedAt && incoming === 'RUNNING')
        ? Math.min(eventTime, existing?.startedAt ?? eventTime)
        : existing?.startedAt ?? null;
    const run: RunRecord = {
      uuid: runUuid,
      jobUuid: existing?.jobUuid ?? job.uuid,
      jobVersionUuid: existing?.jobVersionUuid ?? null,
      parentRunUuid:
        parent?.runId?.toLowerCase() ?? existing?.parentRunUuid ?? null,
      state,
      stateTime,
      nominalStartTime: nominal?.nominalStartTime
        ? Date.parse(nominal.nominalStartTime)
        : existing?.nominalStartTime ?? null,
      nominalEndTime: nominal?.nominalEndTime
        ? Date.parse(nominal.nominalEndTime)
        : existing?.nominalEndTime ?? null,
      startedAt,
      endedAt: isDone(state as RunState) ? stateTime : null,
      facets: mergeFacets(existing?.facets ?? {}, event.run.facets),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (incoming) {
      tx.addRunState(runUuid, incoming, eventTime);
    }

    const completed = state === 'COMPLETED';
    for (const input of event.inputs ?? []) {
      const dataset = await this.upsertDataset(tx, input, now);
      let versionUuid = dataset.currentVersionUuid;
      if (!versionUuid) {
        // Read before anyone wrote it here: a version with no producing run.
        versionUuid = await this.putStaticVersion(tx, dataset, input, now);
      }
      await tx.putRunIo({
        runUuid,
        direction: 'in',
        datasetUuid: dataset.uuid,
        datasetVersionUuid: versionUuid,
      });
    }
    for (const output of event.outputs ?? []) {
      const dataset = await this.upsertDataset(tx, output, now);
      const versionUuid = datasetVersionUuid(output, runUuid);
      const previous = await tx.getDatasetVersion(versionUuid);
      const facts = datasetFacts(output);
      const version: DatasetVersionRecord = {
        uuid: versionUuid,
        datasetUuid: dataset.uuid,
        version: versionUuid,
        runUuid,
        contentHash: facts.version ?? previous?.contentHash ?? null,
        rowCount: facts.rowCount ?? previous?.rowCount ?? null,
        byteSize: facts.byteSize ?? previous?.byteSize ?? null,
        fields: facts.fields ?? previous?.fields ?? dataset.fields,
        facets: mergeFacets(
          mergeFacets(previous?.facets ?? {}, output.facets),
          output.outputFacets,
        ),
        lifecycleState:
          facts.lifecycleState ?? previous?.lifecycleState ?? null,
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
      };
      tx.putDatasetVersion(version);
      await tx.putRunIo({
        runUuid,
        direction: 'out',
        datasetUuid: dataset.uuid,
        datasetVersionUuid: versionUuid,
      });
      const rows = columnLineageOf(output);
      if (rows.length > 0) {
        tx.replaceColumnLineage(versionUuid, dataset.uuid, rows);
      }
      if (completed || !dataset.currentVersionUuid) {
        tx.putDataset({
          ...dataset,
          currentVersionUuid: versionUuid,
          lastModifiedAt: completed ? eventTime : dataset.lastModifiedAt,
          updatedAt: now,
        });
      }
    }

    // The job's version and current I/O.
    const io = await tx.runIo(runUuid);
    const ids = await tx.getDatasetsByUuid(io.map(r => r.datasetUuid));
    const byUuid = new Map(ids.map(d => [d.uuid, d]));
    const side = (direction: 'in' | 'out') =>
      io
        .filter(r => r.direction === direction)
        .map(r => byUuid.get(r.datasetUuid)!)
        .filter(Boolean);
    const inputs = side('in');
    const outputs = side('out');
    if (completed && existing?.state !== 'COMPLETED') {
      // What a run wrote is new data once the run completes.
      io.filter(r => r.direction === 'out').forEach(r =>
        tx.announce(r.datasetVersionUuid),
      );
    }
    let currentVersionUuid = job.currentVersionUuid;
    const streaming = job.type === 'STREAM';
    if (isDone(state as RunState) || streaming) {
      const versionUuid = jobVersionUuid(
        job.namespace,
        job.name,
        inputs,
        outputs,
        job.location,
      );
      const previous = await tx.getJobVersion(versionUuid, job.uuid);
      tx.putJobVersion({
        uuid: versionUuid,
        jobUuid: job.uuid,
        inputs: inputs.map(d => ({ namespace: d.namespace, name: d.name })),
        outputs: outputs.map(d => ({ namespace: d.namespace, name: d.name })),
        location: job.location,
        latestRunUuid: runUuid,
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
      });
      run.jobVersionUuid = versionUuid;
      currentVersionUuid = versionUuid;
      tx.setJobIo(
        job.uuid,
        inputs.map(d => d.uuid),
        outputs.map(d => d.uuid),
      );
    } else if (!job.currentVersionUuid) {
      tx.setJobIo(
        job.uuid,
        inputs.map(d => d.uuid),
        outputs.map(d => d.uuid),
      );
    }
    tx.putRun(run);
    const latestRun =
      job.currentRunUuid && job.currentRunUuid !== runUuid
        ? await tx.getRun(job.currentRunUuid)
        : undefined;
    const isLatest =
      !latestRun ||
      (run.startedAt ?? run.stateTime) >=
        (latestRun.startedAt ?? latestRun.stateTime);
    tx.putJob({
      ...job,
      currentVersionUuid,
      currentRunUuid: isLatest ? runUuid : job.currentRunUuid,
      updatedAt: now,
    });
  }

  /** A version for a dataset with none, keyed by what its facets say. */
  private async putStaticVersion(
    tx: LineageBatch,
    dataset: DatasetRecord,
    source: EventDataset,
    now: number,
  ): Promise<string> {
    const facts = datasetFacts(source);
    const content = JSON.stringify([facts.version ?? null, dataset.fields]);
    const uuid = staticDatasetVersionUuid(dataset, content);
    const previous = await tx.getDatasetVersion(uuid, dataset.uuid);
    tx.putDatasetVersion({
      uuid,
      datasetUuid: dataset.uuid,
      version: uuid,
      runUuid: null,
      contentHash: facts.version ?? null,
      rowCount: facts.rowCount ?? null,
      byteSize: facts.byteSize ?? null,
      fields: dataset.fields,
      facets: dataset.facets,
      lifecycleState: dataset.lifecycleState,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    });
    tx.putDataset({
      ...dataset,
      currentVersionUuid: uuid,
      updatedAt: now,
    });
    return uuid;
  }

  private async applyDatasetEvent(
    tx: LineageBatch,
    event: DatasetEvent,
    eventTime: number,
    now: number,
  ): Promise<void> {
    const dataset = await this.upsertDataset(tx, event.dataset, now);
    // A declared version (the `version` facet) is recorded as a version of
    // its own, without a run; otherwise the metadata changes the dataset only.
    if (datasetFacts(event.dataset).version) {
      const uuid = await this.putStaticVersion(tx, dataset, event.dataset, now);
      tx.announce(uuid);
      tx.putDataset({
        ...(await tx.getDataset(event.dataset))!,
        lastModifiedAt: eventTime,
      });
    }
  }

  /** Static lineage: the job's declared I/O becomes its current version. */
  private async applyJobEvent(
    tx: LineageBatch,
    event: JobEvent,
    now: number,
  ): Promise<void> {
    const job = await this.upsertJob(tx, event.job, event.job.facets, now);
    if (!event.inputs && !event.outputs) {
      return;
    }
    const inputs = [];
    for (const input of event.inputs ?? []) {
      inputs.push(await this.upsertDataset(tx, input, now));
    }
    const outputs = [];
    for (const output of event.outputs ?? []) {
      outputs.push(await this.upsertDataset(tx, output, now));
    }
    const versionUuid = jobVersionUuid(
      job.namespace,
      job.name,
      inputs,
      outputs,
      job.location,
    );
    const previous = await tx.getJobVersion(versionUuid, job.uuid);
    tx.putJobVersion({
      uuid: versionUuid,
      jobUuid: job.uuid,
      inputs: inputs.map(d => ({ namespace: d.namespace, name: d.name })),
      outputs: outputs.map(d => ({ namespace: d.namespace, name: d.name })),
      location: job.location,
      latestRunUuid: previous?.latestRunUuid ?? null,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    });
    tx.setJobIo(
      job.uuid,
      inputs.map(d => d.uuid),
      outputs.map(d => d.uuid),
    );
    tx.putJob({
      ...job,
      currentVersionUuid: versionUuid,
      updatedAt: now,
    });
  }

  // ---- reads (Marquez's shapes) ------------------------------------------

  async listNamespaces(
    page: Page,
  ): Promise<{ namespaces: LineageNamespace[] }> {
    const namespaces = await this.store.listNamespaces(page);
    return { namespaces: namespaces.map(toNamespace) };
  }

  async getNamespace(name: string): Promise<LineageNamespace> {
    const namespace = await this.store.getNamespace(name);
    if (!namespace) {
      throw new NotFoundError(`Namespace '${name}' not found`);
    }
    return toNamespace(namespace);
  }

  async putNamespace(
    name: string,
    ownerName: string,
    description: string | null,
  ): Promise<LineageNamespace> {
    await this.store.putNamespace(name, ownerName, description, this.clock());
    return this.getNamespace(name);
  }

  async listJobs(
    namespace: string | undefined,
    page: Page,
  ): Promise<{ jobs: LineageJob[]; totalCount: number }> {
    const { jobs, totalCount } = await this.store.listJobs(namespace, page);
    return { jobs: await this.toJobs(jobs), totalCount };
  }

  async getJob(id: DatasetId): Promise<LineageJob> {
    const job = await this.store.getJob(id);
    if (!job) {
      throw new NotFoundError(
        `Job '${id.name}' not found in '${id.namespace}'`,
      );
    }
    return (await this.toJobs([job]))[0];
  }

  async listJobVersions(
    id: DatasetId,
    page: Page,
  ): Promise<{ versions: LineageJobVersion[]; totalCount: number }> {
    const job = await this.store.getJob(id);
    if (!job) {
      throw new NotFoundError(
        `Job '${id.name}' not found in '${id.namespace}'`,
      );
    }
    const { versions, totalCount } = await this.store.listJobVersions(
      job.uuid,
      page,
    );
    const runs = await this.toRuns(
      await this.store.getRuns(
        versions.map(v => v.latestRunUuid).filter((u): u is string => !!u),
      ),
    );
    const runById = new Map(runs.map(r => [r.id, r]));
    return {
      versions: versions.map(v => toJobVersion(job, v, runById)),
      totalCount,
    };
  }

  async listRuns(
    id: DatasetId,
    page: Page,
  ): Promise<{ runs: LineageRun[]; totalCount: number }> {
    const job = await this.store.getJob(id);
    if (!job) {
      throw new NotFoundError(
        `Job '${id.name}' not found in '${id.namespace}'`,
      );
    }
    const { runs, totalCount } = await this.store.listRuns(job.uuid, page);
    return { runs: await this.toRuns(runs), totalCount };
  }

  async getRun(
    runId: string,
  ): Promise<
    LineageRun & { states: Array<{ state: string; transitionedAt: string }> }
  > {
    const run = await this.store.getRun(runId.toLowerCase());
    if (!run) {
      throw new NotFoundError(`Run '${runId}' not found`);
    }
    const [shaped] = await this.toRuns([run]);
    const states = await this.store.runStates(run.uuid);
    return {
      ...shaped,
      states: states.map(s => ({
        state: s.state,
        transitionedAt: iso(s.transitionedAt)!,
      })),
    };
  }

  async listDatasets(
    namespace: string,
    page: Page,
  ): Promise<{ datasets: LineageDataset[]; totalCount: number }> {
    const { datasets, totalCount } = await this.store.listDatasets(
      namespace,
      page,
    );
    return { datasets: datasets.map(d => toDataset(d)), totalCount };
  }

  async getDataset(id: DatasetId): Promise<LineageDataset> {
    const dataset = await this.store.getDataset(id);
    if (!dataset) {
      throw new NotFoundError(
        `Dataset '${id.name}' not found in '${id.namespace}'`,
      );
    }
    return toDataset(dataset);
  }

  async listDatasetVersions(
    id: DatasetId,
    page: Page,
  ): Promise<{ versions: LineageDatasetVersion[]; totalCount: number }> {
    const dataset = await this.store.getDataset(id);
    if (!dataset) {
      throw new NotFoundError(
        `Dataset '${id.name}' not found in '${id.namespace}'`,
      );
    }
    const { versions, totalCount } = await this.store.listDatasetVersions(
      dataset.uuid,
      page,
    );
    const runs = await this.toRuns(
      await this.store.getRuns(
        versions.map(v => v.runUuid).filter((u): u is string => !!u),
      ),
    );
    const runById = new Map(runs.map(r => [r.id, r]));
    return {
      versions: versions.map(v => toDatasetVersion(dataset, v, runById)),
      totalCount,
    };
  }

  async listEvents(
    page: Page,
  ): Promise<{ events: unknown[]; totalCount: number }> {
    return this.store.listEvents(page);
  }

  /**
   * Marquez's `GET /lineage`: the jobs within `depth` job hops of the node
   * over the jobs' current I/O, with every dataset they read or write.
   * Walks breadth-first with one query per hop, so cycles end.
   */
  async getLineage(nodeId: string, depth: number): Promise<LineageGraph> {
    const parsed = parseNodeId(nodeId, await this.store.namespaceNames());
    if (!parsed || (parsed.type !== 'dataset' && parsed.type !== 'job')) {
      if (parsed?.type === 'run') {
        const run = await this.store.getRun(parsed.runId.toLowerCase());
        if (run) {
          const [job] = await this.store.getJobsByUuid([run.jobUuid]);
          return this.getLineage(nodeIds.job(job), depth);
        }
      }
      throw new NotFoundError(`Node '${nodeId}' not found`);
    }
    const start =
      parsed.type === 'job'
        ? await this.store.getJob(parsed.id)
        : await this.store.getDataset(parsed.id);
    if (!start) {
      throw new NotFoundError(`Node '${nodeId}' not found`);
    }

    // Breadth-first over the job I/O edges, one statement per hop: the
    // edges of every job on the datasets reached last (the jobs not yet
    // seen are the next frontier, and their edges are the hop's edges).
    // When a hop's frontier is a large part of the graph, all the edges
    // are read at once and the walk goes on in memory.
    let all: Map<string, JobIoRecord[]>[] | undefined;
    let counted = false;
    const jobsOn = async (datasetUuids: string[]) => {
      if (!all && !counted && datasetUuids.length >= WALK_IN_MEMORY_FROM) {
        counted = true;
        const total = await this.store.jobIoCount();
        if (total <= WALK_IN_MEMORY_RATIO * datasetUuids.length) {
          const byDataset = new Map<string, JobIoRecord[]>();
          const byJob = new Map<string, JobIoRecord[]>();
          for (const e of await this.store.allJobIo()) {
            push(byDataset, e.datasetUuid, e);
            push(byJob, e.jobUuid, e);
          }
          all = [byDataset, byJob];
        }
      }
      if (!all) return this.store.jobIoOfJobsOn(datasetUuids);
      const [byDataset, byJob] = all;
      const out: JobIoRecord[] = [];
      const seen = new Set<string>();
      for (const d of datasetUuids) {
        for (const e of byDataset.get(d) ?? []) {
          if (seen.has(e.jobUuid)) continue;
          seen.add(e.jobUuid);
          out.push(...byJob.get(e.jobUuid)!);
        }
      }
      return out;
    };
    const jobUuids = new Set<string>();
    const datasetUuids = new Set<string>(
      parsed.type === 'dataset' ? [start.uuid] : [],
    );
    const edges: JobIoRecord[] = [];
    let found =
      parsed.type === 'job'
        ? await this.store.jobIo({ jobUuids: [start.uuid] })
        : await jobsOn([start.uuid]);
    for (let hop = 0; ; hop++) {
      const newDatasets: string[] = [];
      for (const e of found) {
        if (jobUuids.has(e.jobUuid)) continue;
        edges.push(e);
        if (!datasetUuids.has(e.datasetUuid)) {
          datasetUuids.add(e.datasetUuid);
          newDatasets.push(e.datasetUuid);
        }
      }
      for (const e of found) jobUuids.add(e.jobUuid);
      if (hop >= depth || newDatasets.length === 0) {
        break;
      }
      found = await jobsOn(newDatasets);
      if (found.length === 0) break;
    }
    if (parsed.type === 'job') {
      jobUuids.add(start.uuid); // even without edges
    }

    const jobs = await this.store.getJobsByUuid([...jobUuids], true);
    const datasets = await this.store.getDatasetsByUuid(
      [...datasetUuids],
      true,
    );
    const datasetById = new Map(datasets.map(d => [d.uuid, d]));
    const isoOnce = memoIso();
    const datasetIds = new Map<string, DatasetId>();
    const shapedJobs = await this.toJobs(
      jobs,
      { edges, datasets: datasetById, ids: datasetIds },
      isoOnce,
    );
    const nodes = new Map<string, LineageNode>();
    const datasetNodes = new Map<string, LineageNode>();
    for (const dataset of datasets) {
      const id = nodeIds.dataset(dataset);
      const node: LineageNode = {
        id,
        type: 'DATASET',
        data: toDataset(dataset, isoOnce, datasetIds.get(dataset.uuid)),
        inEdges: [],
        outEdges: [],
      };
      nodes.set(id, node);
      datasetNodes.set(dataset.uuid, node);
    }
    const jobNodes = new Map<string, LineageNode>();
    jobs.forEach((job, i) => {
      const id = nodeIds.job(job);
      const node: LineageNode = {
        id,
        type: 'JOB',
        data: shapedJobs[i],
        inEdges: [],
        outEdges: [],
      };
      nodes.set(id, node);
      jobNodes.set(job.uuid, node);
    });
    for (const edge of edges) {
      const node = jobNodes.get(edge.jobUuid);
      const datasetNode = datasetNodes.get(edge.datasetUuid);
      if (!node || !datasetNode) continue;
      if (edge.direction === 'in') {
        const e = { origin: datasetNode.id, destination: node.id };
        node.inEdges.push(e);
        datasetNode.outEdges.push(e);
      } else {
        const e = { origin: node.id, destination: datasetNode.id };
        node.outEdges.push(e);
        datasetNode.inEdges.push(e);
      }
    }
    const byEnds = (a: LineageEdge, b: LineageEdge) =>
      compare(a.origin, b.origin) || compare(a.destination, b.destination);
    const graph = [...nodes.values()].sort((a, b) => compare(a.id, b.id));
    for (const node of graph) {
      if (node.inEdges.length > 1) node.inEdges.sort(byEnds);
      if (node.outEdges.length > 1) node.outEdges.sort(byEnds);
    }
    return { graph };
  }

  /**
   * Marquez's `GET /column-lineage`: the fields of the node's dataset (or
   * the one field) and the input fields behind them, from the
   * `columnLineage` facets of the datasets' current versions, `depth` hops
   * upstream (and downstream with `withDownstream`).
   */
  async getColumnLineage(
    nodeId: string,
    depth: number,
    withDownstream: boolean,
  ): Promise<LineageGraph> {
    const parsed = parseNodeId(nodeId, await this.store.namespaceNames());
    if (
      !parsed ||
      (parsed.type !== 'dataset' && parsed.type !== 'datasetField')
    ) {
      throw new NotFoundError(`Node '${nodeId}' not found`);
    }
    if (parsed.version && withDownstream) {
      throw new InputError(
        'withDownstream is not supported for a versioned node id',
      );
    }
    const start = await this.store.getDataset(parsed.id);
    if (!start) {
      throw new NotFoundError(`Node '${nodeId}' not found`);
    }
    type Key = string;
    const fieldKey = (id: DatasetId, field: string) => nodeIds.field(id, field);
    const nodes = new Map<Key, LineageNode>();
    const datasetsSeen = new Map<string, DatasetRecord>();
    const onlyField = parsed.type === 'datasetField' ? parsed.field : undefined;

    const addDatasetRows = async (
      datasets: DatasetRecord[],
    ): Promise<DatasetId[]> => {
      const versions = datasets
        .map(d => d.currentVersionUuid)
        .filter((u): u is string => !!u);
      const rows = await this.store.columnLineage(versions);
      const byDataset = new Map(datasets.map(d => [d.uuid, d]));
      const upstream: DatasetId[] = [];
      for (const row of rows) {
        const dataset = byDataset.get(row.datasetUuid)!;
        const id = fieldKey(dataset, row.field);
        let node = nodes.get(id);
        if (!node) {
          const type =
            dataset.fields.find(f => f.name === row.field)?.type ?? null;
          node = {
            id,
            type: 'DATASET_FIELD',
            data: {
              namespace: dataset.namespace,
              dataset: dataset.name,
              datasetVersion: row.datasetVersionUuid,
              field: row.field,
              fieldType: type,
              transformationDescription: row.transformationDescription,
              transformationType: row.transformationType,
              inputFields: [],
            },
            inEdges: [],
            outEdges: [],
          };
          nodes.set(id, node);
        }
        const data = node.data as LineageColumnNodeData;
        data.inputFields.push({
          namespace: row.inputNamespace,
          dataset: row.inputName,
          field: row.inputField,
          transformationDescription: row.transformationDescription,
          transformationType: row.transformationType,
        });
        const origin = fieldKey(
          { namespace: row.inputNamespace, name: row.inputName },
          row.inputField,
        );
        node.inEdges.push({ origin, destination: id });
        upstream.push({ namespace: row.inputNamespace, name: row.inputName });
      }
      return upstream;
    };

    let frontier: DatasetRecord[] = [start];
    datasetsSeen.set(start.uuid, start);
    for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
      const upstream = await addDatasetRows(frontier);
      const next: DatasetRecord[] = [];
      for (const id of upstream) {
        const dataset = await this.store.getDataset(id);
        if (dataset && !datasetsSeen.has(dataset.uuid)) {
          datasetsSeen.set(dataset.uuid, dataset);
          next.push(dataset);
        }
      }
      frontier = next;
    }
    if (withDownstream) {
      let down: DatasetId[] = [start];
      const seen = new Set([nodeIds.dataset(start)]);
      for (let hop = 0; hop < depth && down.length > 0; hop++) {
        const rows = await this.store.columnLineageReading(down);
        const datasets = await this.store.getDatasetsByUuid(
          rows.map(r => r.datasetUuid),
        );
        const fresh = datasets.filter(d => !seen.has(nodeIds.dataset(d)));
        fresh.forEach(d => seen.add(nodeIds.dataset(d)));
        await addDatasetRows(fresh);
        down = fresh;
      }
    }

    // Input fields with no lineage of their own are nodes too, and every
    // edge appears on both of its ends.
    for (const node of [...nodes.values()]) {
      for (const edge of node.inEdges) {
        let origin = nodes.get(edge.origin);
        if (!origin) {
          const input = (node.data as LineageColumnNodeData).inputFields.find(
            f =>
              fieldKey({ namespace: f.namespace, name: f.dataset }, f.field) ===
              edge.origin,
          )!;
          origin = {
            id: edge.origin,
            type: 'DATASET_FIELD',
            data: {
              namespace: input.namespace,
              dataset: input.dataset,
              datasetVersion: null,
              field: input.field,
              fieldType: null,
              transformationDescription: null,
              transformationType: null,
              inputFields: [],
            },
            inEdges: [],
            outEdges: [],
          };
          nodes.set(edge.origin, origin);
        }
        origin.outEdges.push(edge);
      }
    }
    let graph = [...nodes.values()];
    if (onlyField !== undefined) {
      // Keep what is connected to the one field.
      const keep = new Set<string>([fieldKey(start, onlyField)]);
      const queue = [...keep];
      while (queue.length > 0) {
        const node = nodes.get(queue.pop()!);
        if (!node) continue;
        for (const e of [
          ...node.inEdges,
          ...(withDownstream ? node.outEdges : []),
        ]) {
          for (const id of [e.origin, e.destination]) {
            if (!keep.has(id)) {
              keep.add(id);
              queue.push(id);
            }
          }
        }
      }
      graph = graph.filter(n => keep.has(n.id));
    }
    graph.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { graph };
  }

  /**
   * The datasets and jobs reached from a node, one way only: downstream
   * (readers of a dataset, then what they write) or upstream (writers of a
   * dataset, then what they read), up to `depth` job hops. Cycles end.
   */
  async walk(
    nodeId: string,
    direction: 'downstream' | 'upstream',
    depth: number,
  ): Promise<{ datasets: DatasetRecord[]; jobs: JobRecord[] }> {
    const parsed = parseNodeId(nodeId, await this.store.namespaceNames());
    if (!parsed || (parsed.type !== 'dataset' && parsed.type !== 'job')) {
      throw new NotFoundError(`Node '${nodeId}' not found`);
    }
    const start =
      parsed.type === 'job'
        ? await this.store.getJob(parsed.id)
        : await this.store.getDataset(parsed.id);
    if (!start) {
      throw new NotFoundError(`Node '${nodeId}' not found`);
    }
    const into = direction === 'downstream' ? 'in' : 'out';
    const from = direction === 'downstream' ? 'out' : 'in';
    const datasets = new Set<string>();
    const jobs = new Set<string>();
    let frontierJobs: string[] = [];
    if (parsed.type === 'job') {
      frontierJobs = [start.uuid];
      jobs.add(start.uuid);
    } else {
      datasets.add(start.uuid);
      const edges = await this.store.jobIo({ datasetUuids: [start.uuid] });
      frontierJobs = [
        ...new Set(edges.filter(e => e.direction === into).map(e => e.jobUuid)),
      ];
      frontierJobs.forEach(j => jobs.add(j));
    }
    for (let hop = 0; hop <= depth && frontierJobs.length > 0; hop++) {
      const edges = await this.store.jobIo({ jobUuids: frontierJobs });
      const next = edges
        .filter(e => e.direction === from && !datasets.has(e.datasetUuid))
        .map(e => e.datasetUuid);
      next.forEach(d => datasets.add(d));
      if (hop === depth || next.length === 0) {
        break;
      }
      const readers = await this.store.jobIo({ datasetUuids: next });
      frontierJobs = [
        ...new Set(
          readers
            .filter(e => e.direction === into && !jobs.has(e.jobUuid))
            .map(e => e.jobUuid),
        ),
      ];
      frontierJobs.forEach(j => jobs.add(j));
    }
    return {
      datasets: await this.store.getDatasetsByUuid([...datasets]),
      jobs: await this.store.getJobsByUuid([...jobs]),
    };
  }

  /** A dataset's versions, newest first (Loopline's shape for the Dataset page). */
  async datasetVersionsByUuid(
    dataset: DatasetRecord,
    limit: number,
  ): Promise<LineageDatasetVersion[]> {
    return (await this.listDatasetVersions(dataset, { limit, offset: 0 }))
      .versions;
  }

  /**
   * The version of the model dataset recorded for a registered version
   * (its `loopline_modelVersion` facet), and the dataset versions its run
   * read.
   */
  async trainingInputsOf(
    model: DatasetId,
    version: number,
  ): Promise<{
    runId: string | null;
    inputs: Array<{ nodeId: string; version: DatasetVersionRecord }>;
  }> {
    const dataset = await this.store.getDataset(model);
    if (!dataset) {
      return { runId: null, inputs: [] };
    }
    const { versions } = await this.store.listDatasetVersions(dataset.uuid, {
      limit: 1000,
      offset: 0,
    });
    const match = versions.find(
      v =>
        Number((v.facets as any)?.loopline_modelVersion?.version) === version,
    );
    if (!match?.runUuid) {
      return { runId: null, inputs: [] };
    }
    const io = (await this.store.runIo([match.runUuid])).filter(
      r => r.direction === 'in',
    );
    const read = await this.store.getDatasetVersions(
      io.map(r => r.datasetVersionUuid),
    );
    const datasets = await this.store.getDatasetsByUuid(
      io.map(r => r.datasetUuid),
    );
    const byUuid = new Map(datasets.map(d => [d.uuid, d]));
    return {
      runId: match.runUuid,
      inputs: read.map(v => ({
        nodeId: nodeIds.dataset(byUuid.get(v.datasetUuid)!),
        version: v,
      })),
    };
  }

  // ---- shaping -----------------------------------------------------------

  /**
   * Runs in Marquez's shape. `jobs`: the runs' jobs when the caller has
   * them; `versionFacets: false` leaves the dataset versions' facets out
   * (the lineage graph, where reading them for every job's latest run
   * would cost more than the rest of the graph).
   */
  private async toRuns(
    runs: RunRecord[],
    jobs?: Map<string, JobRecord>,
    versionFacets = true,
    /** For the lineage graph: the datasets already read, and a memoised `iso`. */
    graph?: { datasets: Map<string, DatasetRecord>; iso: Iso },
  ): Promise<LineageRun[]> {
    if (runs.length === 0) {
      return [];
    }
    const isoOf = graph?.iso ?? iso;
    const runUuids = runs.map(r => r.uuid);
    const refsByRun =
      graph && !versionFacets
        ? await this.runRefsNamed(runUuids, graph.datasets)
        : runRefs(await this.store.runIoDetails(runUuids, versionFacets));
    const jobById =
      jobs ??
      new Map(
        (await this.store.getJobsByUuid(runs.map(r => r.jobUuid))).map(j => [
          j.uuid,
          j,
        ]),
      );
    const none: LineageDatasetVersionRef[] = [];
    const refs = (run: RunRecord, direction: 'in' | 'out') => {
      const list = refsByRun.get(run.uuid)?.[direction];
      return list ? sortRefs(list) : none.slice();
    };
    return runs.map(run => {
      const job = jobById.get(run.jobUuid);
      return {
        id: run.uuid,
        createdAt: isoOf(run.createdAt)!,
        updatedAt: isoOf(run.updatedAt)!,
        nominalStartTime: isoOf(run.nominalStartTime),
        nominalEndTime: isoOf(run.nominalEndTime),
        state: run.state,
        startedAt: isoOf(run.startedAt),
        endedAt: isoOf(run.endedAt),
        durationMs:
          run.startedAt !== null && run.endedAt !== null
            ? run.endedAt - run.startedAt
            : null,
        args: NO_ARGS,
        jobVersion:
          job && run.jobVersionUuid
            ? {
                namespace: job.namespace,
                name: job.name,
                version: run.jobVersionUuid,
              }
            : null,
        inputDatasetVersions: refs(run, 'in'),
        outputDatasetVersions: refs(run, 'out'),
        parentRunId: run.parentRunUuid,
        facets: run.facets,
      };
    });
  }

  /**
   * The dataset version refs of these runs' I/O, named from `datasets`
   * (read for the graph already; only the others are read), without
   * version facets (`{}`), as `runIoDetails(..., false)` gives.
   */
  private async runRefsNamed(
    runUuids: string[],
    datasets: Map<string, DatasetRecord>,
  ): Promise<Map<string, Sides<LineageDatasetVersionRef>>> {
    const io = await this.store.runIo(runUuids, true);
    const missing = new Set<string>();
    for (const r of io) {
      if (!datasets.has(r.datasetUuid)) missing.add(r.datasetUuid);
    }
    const more = new Map(
      (await this.store.getDatasetsByUuid([...missing])).map(d => [d.uuid, d]),
    );
    const out = new Map<string, Sides<LineageDatasetVersionRef>>();
    for (const r of io) {
      const d = datasets.get(r.datasetUuid) ?? more.get(r.datasetUuid);
      if (!d) continue;
      side(out, r.runUuid)[r.direction].push({
        datasetVersionId: {
          namespace: d.namespace,
          name: d.name,
          version: r.datasetVersionUuid,
        },
        facets: NO_FACETS,
      });
    }
    return out;
  }

  /**
   * Jobs in Marquez's shape. Their inputs and outputs are the current
   * version's, which are also the graph's edges (job I/O): `graph` passes
   * the edges and datasets already read, so nothing is read twice.
   */
  private async toJobs(
    jobs: JobRecord[],
    graph?: {
      edges: JobIoRecord[];
      datasets: Map<string, DatasetRecord>;
      /** Filled with the dataset ids made here, for the caller to share. */
      ids: Map<string, DatasetId>;
    },
    isoOf: Iso = iso,
  ): Promise<LineageJob[]> {
    const jobById = new Map(jobs.map(j => [j.uuid, j]));
    const runs = await this.toRuns(
      await this.store.getRuns(
        jobs.map(j => j.currentRunUuid).filter((u): u is string => !!u),
        !!graph,
      ),
      jobById,
      !graph,
      graph && { datasets: graph.datasets, iso: isoOf },
    );
    const runById = new Map(runs.map(r => [r.id, r]));
    const parentUuids = jobs
      .map(j => j.parentJobUuid)
      .filter((u): u is string => !!u && !jobById.has(u));
    const parentById = new Map(jobById);
    for (const parent of await this.store.getJobsByUuid(parentUuids)) {
      parentById.set(parent.uuid, parent);
    }
    const edges =
      graph?.edges ??
      (await this.store.jobIo({ jobUuids: jobs.map(j => j.uuid) }));
    const datasets =
      graph?.datasets ??
      new Map(
        (await this.store.getDatasetsByUuid(edges.map(e => e.datasetUuid))).map(
          d => [d.uuid, d],
        ),
      );
    const ioByJob = bySide(edges, e => e.jobUuid);
    // One id object per dataset, shared by the jobs that name it.
    const idOf = graph?.ids ?? new Map<string, DatasetId>();
    const io = (job: JobRecord, direction: 'in' | 'out') => {
      const ids: DatasetId[] = [];
      for (const e of ioByJob.get(job.uuid)?.[direction] ?? []) {
        let id = idOf.get(e.datasetUuid);
        if (!id) {
          const d = datasets.get(e.datasetUuid);
          if (!d) continue;
          id = { namespace: d.namespace, name: d.name };
          idOf.set(e.datasetUuid, id);
        }
        ids.push(id);
      }
      return sortByName(ids);
    };
    return jobs.map(job => {
      return {
        id: { namespace: job.namespace, name: job.name },
        type: job.type,
        name: job.name,
        simpleName: job.simpleName,
        parentJobName: job.parentJobUuid
          ? parentById.get(job.parentJobUuid)?.name ?? null
          : null,
        parentJobUuid: job.parentJobUuid,
        createdAt: isoOf(job.createdAt)!,
        updatedAt: isoOf(job.updatedAt)!,
        namespace: job.namespace,
        inputs: io(job, 'in'),
        outputs: io(job, 'out'),
        location: job.location,
        description: job.description,
        latestRun: job.currentRunUuid
          ? runById.get(job.currentRunUuid) ?? null
          : null,
        facets: job.facets,
        currentVersion: job.currentVersionUuid,
      };
    });
  }
}

/**
 * One frozen empty object for the many empty `facets` and `args` of a
 * large graph's runs (each would be an allocation the collector copies).
 */
const NO_FACETS: Facets = Object.freeze({});
const NO_ARGS: Record<string, string> = Object.freeze({});

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

type Sides<T> = { in: T[]; out: T[] };

function side<T>(map: Map<string, Sides<T>>, key: string): Sides<T> {
  let group = map.get(key);
  if (!group) {
    group = { in: [], out: [] };
    map.set(key, group);
  }
  return group;
}

/** Run I/O rows with names and facets as Marquez's refs, by run and direction. */
function runRefs(
  io: Array<{
    runUuid: string;
    direction: 'in' | 'out';
    namespace: string;
    name: string;
    datasetVersionUuid: string;
    facets: Facets;
  }>,
): Map<string, Sides<LineageDatasetVersionRef>> {
  const out = new Map<string, Sides<LineageDatasetVersionRef>>();
  for (const r of io) {
    side(out, r.runUuid)[r.direction].push({
      datasetVersionId: {
        namespace: r.namespace,
        name: r.name,
        version: r.datasetVersionUuid,
      },
      facets: r.facets,
    });
  }
  return out;
}

/** Refs by namespace, then name (Marquez's order of I/O). */
function sortRefs(
  refs: LineageDatasetVersionRef[],
): LineageDatasetVersionRef[] {
  return refs.length < 2
    ? refs
    : refs.sort(
        (a, b) =>
          compare(a.datasetVersionId.namespace, b.datasetVersionId.namespace) ||
          compare(a.datasetVersionId.name, b.datasetVersionId.name),
      );
}

/** Items grouped by owner (a run or a job), then by direction. */
function bySide<T extends { direction: 'in' | 'out' }>(
  items: T[],
  owner: (item: T) => string,
): Map<string, { in: T[]; out: T[] }> {
  const groups = new Map<string, { in: T[]; out: T[] }>();
  for (const item of items) {
    const k = owner(item);
    let group = groups.get(k);
    if (!group) {
      group = { in: [], out: [] };
      groups.set(k, group);
    }
    group[item.direction].push(item);
  }
  return groups;
}

/** By namespace, then name (Marquez's order of I/O). */
function sortByName<T extends { namespace: string; name: string }>(
  items: T[],
): T[] {
  return items.length < 2
    ? items
    : items.sort(
        (a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name),
      );
}

function toNamespace(n: {
  name: string;
  ownerName: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}): LineageNamespace {
  return {
    name: n.name,
    createdAt: iso(n.createdAt)!,
    updatedAt: iso(n.updatedAt)!,
    ownerName: n.ownerName,
    description: n.description,
    isHidden: false,
  };
}

function toDataset(
  d: DatasetRecord,
  isoOf: Iso = iso,
  id: DatasetId = { namespace: d.namespace, name: d.name },
): LineageDataset {
  return {
    id,
    type: d.type,
    name: d.name,
    physicalName: d.name,
    createdAt: isoOf(d.createdAt)!,
    updatedAt: isoOf(d.updatedAt)!,
    namespace: d.namespace,
    sourceName: d.sourceName,
    fields: d.fields,
    tags: [],
    lastModifiedAt: isoOf(d.lastModifiedAt),
    lastLifecycleState: d.lifecycleState,
    description: d.description,
    facets: d.facets,
    currentVersion: d.currentVersionUuid,
    deleted: false,
  };
}

function toDatasetVersion(
  d: DatasetRecord,
  v: DatasetVersionRecord,
  runById: Map<string, LineageRun>,
): LineageDatasetVersion {
  return {
    id: { namespace: d.namespace, name: d.name, version: v.uuid },
    type: d.type,
    name: d.name,
    physicalName: d.name,
    createdAt: iso(v.createdAt)!,
    version: v.uuid,
    namespace: d.namespace,
    sourceName: d.sourceName,
    fields: v.fields,
    tags: [],
    lifecycleState: v.lifecycleState,
    description: d.description,
    createdByRunUuid: v.runUuid,
    createdByRun: v.runUuid ? runById.get(v.runUuid) ?? null : null,
    facets: v.facets,
    contentHash: v.contentHash,
    rowCount: v.rowCount,
    byteSize: v.byteSize,
  };
}

function toJobVersion(
  job: JobRecord,
  v: JobVersionRecord,
  runById: Map<string, LineageRun>,
): LineageJobVersion {
  return {
    id: { namespace: job.namespace, name: job.name, version: v.uuid },
    name: job.name,
    version: v.uuid,
    createdAt: iso(v.createdAt)!,
    namespace: job.namespace,
    inputs: v.inputs,
    outputs: v.outputs,
    location: v.location,
    latestRun: v.latestRunUuid ? runById.get(v.latestRunUuid) ?? null : null,
  };
}
