import type { ColumnLineageRow, DatasetId, RunState } from './model';
import { datasetVersionUuid, entityUuid, parentOf } from './model';
import type {
  BatchRows,
  DatasetRecord,
  DatasetVersionRecord,
  JobRecord,
  JobVersionRecord,
  LineageStore,
  RawEventRecord,
  RunIoRecord,
  RunRecord,
} from './LineageStore';
import type { EventDataset, LineageEvent } from './types';

/**
 * The state a batch of events touches, read in a few multi-key queries
 * before the events are applied in memory (in order), and written back
 * table by table with multi-row upserts: a batch costs a constant number
 * of statements, not some thirty per event. A key that was not preloaded
 * is read when first asked for, so the result never depends on the
 * preload guessing right.
 */
export class LineageBatch {
  private readonly jobs = new Map<string, JobRecord | undefined>();
  private readonly runs = new Map<string, RunRecord | undefined>();
  private readonly datasets = new Map<string, DatasetRecord | undefined>();
  private readonly datasetVersions = new Map<
    string,
    DatasetVersionRecord | undefined
  >();
  private readonly jobVersions = new Map<
    string,
    JobVersionRecord | undefined
  >();
  /** run uuid → `direction dataset` → I/O, for the runs loaded */
  private readonly io = new Map<string, Map<string, RunIoRecord>>();
  /** Datasets whose run-less versions are all loaded. */
  private readonly staticLoaded = new Set<string>();
  /** Jobs whose versions are all loaded. */
  private readonly jobVersionsLoaded = new Set<string>();

  private readonly dirty = {
    jobs: new Set<string>(),
    runs: new Set<string>(),
    datasets: new Set<string>(),
    datasetVersions: new Set<string>(),
    jobVersions: new Set<string>(),
    io: new Map<string, RunIoRecord>(),
  };
  private readonly created = new Set<string>();
  private readonly namespaces = new Set<string>();
  /**
   * Namespaces of jobs and datasets read from the store: their rows exist
   * (written with the job or dataset, never deleted), so the flush does
   * not write them again.
   */
  private readonly storedNamespaces = new Set<string>();
  private readonly events: RawEventRecord[] = [];
  private readonly states = new Map<
    string,
    { runUuid: string; state: RunState; transitionedAt: number }
  >();
  private readonly jobIo = new Map<
    string,
    { inputs: string[]; outputs: string[] }
  >();
  private readonly columnLineage = new Map<
    string,
    { datasetUuid: string; rows: ColumnLineageRow[] }
  >();

  private constructor(private readonly store: LineageStore) {}

  /** Reads what `events` will touch, in one query per table. */
  static async load(
    store: LineageStore,
    events: LineageEvent[],
  ): Promise<LineageBatch> {
    const batch = new LineageBatch(store);
    const jobUuids = new Set<string>();
    const runUuids = new Set<string>();
    const datasetUuids = new Set<string>();
    const outputVersions = new Set<string>();
    const addDataset = (d: EventDataset) =>
      datasetUuids.add(entityUuid('dataset', d));
    for (const event of events) {
      const e = event as any;
      if (e.job) jobUuids.add(entityUuid('job', e.job));
      if (e.dataset) addDataset(e.dataset);
      const runId: string | undefined = e.run?.runId?.toLowerCase();
      if (runId) runUuids.add(runId);
      const parent = parentOf(e.run?.facets);
      if (parent) jobUuids.add(entityUuid('job', parent.job));
      (e.inputs ?? []).forEach(addDataset);
      for (const output of e.outputs ?? []) {
        addDataset(output);
        if (runId) outputVersions.add(datasetVersionUuid(output, runId));
      }
    }
    const together = await store.batchRows({
      jobUuids: [...jobUuids],
      runUuids: [...runUuids],
      datasetUuids: [...datasetUuids],
      versionUuids: [...outputVersions],
    });
    if (together) {
      batch.fillTogether(together, {
        jobUuids,
        runUuids,
        datasetUuids,
        outputVersions,
      });
      return batch;
    }
    const jobs = await store.getJobsByUuid([...jobUuids]);
    batch.fill(batch.jobs, jobUuids, jobs);
    // The jobs' latest runs decide which run becomes current.
    for (const job of jobs) {
      if (job.currentRunUuid) runUuids.add(job.currentRunUuid);
    }
    batch.fill(batch.runs, runUuids, await store.getRuns([...runUuids]));
    for (const runUuid of runUuids) batch.io.set(runUuid, new Map());
    for (const r of await store.runIo([...runUuids])) {
      batch.io.get(r.runUuid)!.set(`${r.direction} ${r.datasetUuid}`, r);
      datasetUuids.add(r.datasetUuid);
    }
    batch.fill(
      batch.datasets,
      datasetUuids,
      await store.getDatasetsByUuid([...datasetUuids]),
    );
    batch.fill(
      batch.datasetVersions,
      outputVersions,
      await store.getDatasetVersions([...outputVersions]),
    );
    for (const v of await store.staticVersionsOf([...datasetUuids])) {
      batch.datasetVersions.set(v.uuid, v);
    }
    datasetUuids.forEach(d => batch.staticLoaded.add(d));
    for (const v of await store.jobVersionsOf([...jobUuids])) {
      batch.jobVersions.set(v.uuid, v);
    }
    jobUuids.forEach(j => batch.jobVersionsLoaded.add(j));
    return batch;
  }

  /** `load` from the rows read in one statement: the same steps, in the same order. */
  private fillTogether(
    rows: BatchRows,
    keys: {
      jobUuids: Set<string>;
      runUuids: Set<string>;
      datasetUuids: Set<string>;
      outputVersions: Set<string>;
    },
  ) {
    const { jobUuids, runUuids, datasetUuids, outputVersions } = keys;
    this.fill(this.jobs, jobUuids, rows.jobs);
    for (const job of rows.jobs) {
      if (job.currentRunUuid) runUuids.add(job.currentRunUuid);
    }
    this.fill(this.runs, runUuids, rows.runs);
    for (const runUuid of runUuids) this.io.set(runUuid, new Map());
    for (const r of rows.runIo) {
      this.io.get(r.runUuid)!.set(`${r.direction} ${r.datasetUuid}`, r);
      datasetUuids.add(r.datasetUuid);
    }
    this.fill(this.datasets, datasetUuids, rows.datasets);
    this.fill(this.datasetVersions, outputVersions, rows.datasetVersions);
    for (const v of rows.staticVersions) {
      this.datasetVersions.set(v.uuid, v);
    }
    datasetUuids.forEach(d => this.staticLoaded.add(d));
    for (const v of rows.jobVersions) {
      this.jobVersions.set(v.uuid, v);
    }
    jobUuids.forEach(j => this.jobVersionsLoaded.add(j));
  }

  private fill<T extends { uuid: string }>(
    map: Map<string, T | undefined>,
    keys: Iterable<string>,
    rows: T[],
  ) {
    for (const key of keys) map.set(key, undefined);
    for (const row of rows) {
      map.set(row.uuid, row);
      this.stored(row);
    }
  }

  private stored(row: unknown) {
    const namespace = (row as { namespace?: unknown } | undefined)?.namespace;
    if (typeof namespace === 'string') this.storedNamespaces.add(namespace);
  }

  // ---- reads (the store's, answered from memory) -------------------------

  async getJob(id: DatasetId): Promise<JobRecord | undefined> {
    const uuid = entityUuid('job', id);
    if (!this.jobs.has(uuid)) {
      const job = await this.store.getJob(id);
      this.stored(job);
      this.jobs.set(uuid, job);
    }
    return this.jobs.get(uuid);
  }

  async getRun(uuid: string): Promise<RunRecord | undefined> {
    if (!this.runs.has(uuid)) {
      this.runs.set(uuid, await this.store.getRun(uuid));
    }
    return this.runs.get(uuid);
  }

  async getDataset(id: DatasetId): Promise<DatasetRecord | undefined> {
    const uuid = entityUuid('dataset', id);
    if (!this.datasets.has(uuid)) {
      const dataset = await this.store.getDataset(id);
      this.stored(dataset);
      this.datasets.set(uuid, dataset);
    }
    return this.datasets.get(uuid);
  }

  async getDatasetsByUuid(uuids: string[]): Promise<DatasetRecord[]> {
    const missing = uuids.filter(u => !this.datasets.has(u));
    if (missing.length > 0) {
      this.fill(
        this.datasets,
        missing,
        await this.store.getDatasetsByUuid(missing),
      );
    }
    return [...new Set(uuids)]
      .map(u => this.datasets.get(u))
      .filter((d): d is DatasetRecord => !!d);
  }

  /** `datasetUuid` names the dataset of a run-less version, whose absence is then known. */
  async getDatasetVersion(
    uuid: string,
    datasetUuid?: string,
  ): Promise<DatasetVersionRecord | undefined> {
    if (
      !this.datasetVersions.has(uuid) &&
      !(datasetUuid && this.staticLoaded.has(datasetUuid))
    ) {
      this.datasetVersions.set(uuid, await this.store.getDatasetVersion(uuid));
    }
    return this.datasetVersions.get(uuid);
  }

  async getJobVersion(
    uuid: string,
    jobUuid: string,
  ): Promise<JobVersionRecord | undefined> {
    if (!this.jobVersions.has(uuid) && !this.jobVersionsLoaded.has(jobUuid)) {
      this.jobVersions.set(uuid, await this.store.getJobVersion(uuid));
    }
    return this.jobVersions.get(uuid);
  }

  async runIo(runUuid: string): Promise<RunIoRecord[]> {
    let io = this.io.get(runUuid);
    if (!io) {
      io = new Map(
        (await this.store.runIo([runUuid])).map(r => [
          `${r.direction} ${r.datasetUuid}`,
          r,
        ]),
      );
      this.io.set(runUuid, io);
    }
    return [...io.values()];
  }

  // ---- writes (kept until flush) -----------------------------------------

  insertEvent(event: RawEventRecord) {
    this.events.push(event);
  }

  ensureNamespace(name: string) {
    this.namespaces.add(name);
  }

  putJob(job: JobRecord) {
    this.jobs.set(job.uuid, job);
    this.dirty.jobs.add(job.uuid);
  }

  putRun(run: RunRecord) {
    this.runs.set(run.uuid, run);
    this.dirty.runs.add(run.uuid);
  }

  addRunState(runUuid: string, state: RunState, transitionedAt: number) {
    this.states.set(`${runUuid} ${state} ${transitionedAt}`, {
      runUuid,
      state,
      transitionedAt,
    });
  }

  putDataset(dataset: DatasetRecord) {
    this.datasets.set(dataset.uuid, dataset);
    this.dirty.datasets.add(dataset.uuid);
  }

  putDatasetVersion(version: DatasetVersionRecord) {
    this.datasetVersions.set(version.uuid, version);
    this.dirty.datasetVersions.add(version.uuid);
  }

  putJobVersion(version: JobVersionRecord) {
    this.jobVersions.set(version.uuid, version);
    this.dirty.jobVersions.add(version.uuid);
  }

  async putRunIo(r: RunIoRecord) {
    const key = `${r.direction} ${r.datasetUuid}`;
    await this.runIo(r.runUuid);
    this.io.get(r.runUuid)!.set(key, r);
    this.dirty.io.set(`${r.runUuid} ${key}`, r);
  }

  setJobIo(jobUuid: string, inputs: string[], outputs: string[]) {
    this.jobIo.set(jobUuid, { inputs, outputs });
  }

  replaceColumnLineage(
    versionUuid: string,
    datasetUuid: string,
    rows: ColumnLineageRow[],
  ) {
    this.columnLineage.set(versionUuid, { datasetUuid, rows });
  }

  /** Marks a dataset version as new (complete) data, for newDatasetVersions. */
  announce(versionUuid: string) {
    this.created.add(versionUuid);
  }

  /** The dataset versions announced by this batch (some written by earlier ones). */
  async newDatasetVersions(): Promise<
    Array<{ dataset: DatasetRecord; version: DatasetVersionRecord }>
  > {
    const missing = [...this.created].filter(u => !this.datasetVersions.get(u));
    for (const v of await this.store.getDatasetVersions(missing)) {
      this.datasetVersions.set(v.uuid, v);
    }
    const versions = [...this.created]
      .map(u => this.datasetVersions.get(u))
      .filter((v): v is DatasetVersionRecord => !!v);
    await this.getDatasetsByUuid(versions.map(v => v.datasetUuid));
    return versions.flatMap(version => {
      const dataset = this.datasets.get(version.datasetUuid);
      return dataset ? [{ dataset, version }] : [];
    });
  }

  /** Writes everything, one multi-row statement (or a few) per table. */
  async flush(now: number): Promise<void> {
    const { store } = this;
    const pick = <T>(map: Map<string, T | undefined>, keys: Set<string>) =>
      [...keys].map(k => map.get(k)!);
    // On PostgreSQL one statement for all the inserts (the deletes of
    // setJobIo and replaceColumnLineage run first, on their own).
    await store.writesTogether(async () => {
      await store.insertEvents(this.events);
      await store.ensureNamespaces(
        [...this.namespaces].filter(n => !this.storedNamespaces.has(n)),
        now,
      );
      await store.putJobs(pick(this.jobs, this.dirty.jobs));
      await store.putJobVersions(
        pick(this.jobVersions, this.dirty.jobVersions),
      );
      await store.putDatasets(pick(this.datasets, this.dirty.datasets));
      await store.putDatasetVersions(
        pick(this.datasetVersions, this.dirty.datasetVersions),
      );
      await store.putRuns(pick(this.runs, this.dirty.runs));
      await store.addRunStates([...this.states.values()]);
      await store.putRunIo([...this.dirty.io.values()]);
      if (this.jobIo.size > 0) await store.setJobIo(this.jobIo);
      if (this.columnLineage.size > 0) {
        await store.replaceColumnLineage(this.columnLineage);
      }
    });
  }
}
