import { InputError, NotFoundError } from '@backstage/errors';
import { ArtifactStore } from '../registry';
import { LoggedModelService, TrackingService } from '../tracking';

const MLFLOW_ARTIFACTS = 'mlflow-artifacts:';

/**
 * Run artifacts behind MLflow's `mlflow-artifacts:/` URIs (what clients
 * upload with `log_artifact` and `log_model`), kept in their own artifact
 * store, and the lookup of an ONNX model at a version's `source`.
 */
export class MlflowArtifacts {
  constructor(
    private readonly store: ArtifactStore,
    private readonly tracking: TrackingService,
    private readonly loggedModels?: LoggedModelService,
  ) {}

  async put(path: string, bytes: Buffer): Promise<void> {
    await this.store.put(path, bytes);
  }

  async get(path: string): Promise<Buffer> {
    if (!(await this.store.exists(path))) {
      throw new NotFoundError(`No artifact at ${path}`);
    }
    return this.store.read(path);
  }

  /**
   * The proxied store's listing of one folder, as MLflow's server answers it:
   * each entry's `path` is its name within the listed folder (the client's
   * HttpArtifactRepository joins it to the folder it asked for).
   */
  async list(dir: string) {
    const entries = await this.store.list(dir);
    return entries.map(e =>
      toFileInfo(e, e.path.slice(e.path.lastIndexOf('/') + 1)),
    );
  }

  /**
   * A run's artifacts under `path` (MLflow's `artifacts/list`): each entry's
   * `path` is relative to the run's artifact root, as MLflow's run listing
   * gives it. `root_uri` is the run's artifact URI.
   */
  async listRun(runId: string, path: string | undefined) {
    const run = await this.tracking.getRun(runId);
    return this.listUnder(run.artifactUri, path);
  }

  /**
   * The bytes of the ONNX model at `source`, if `source` names this server's
   * artifacts: a `.onnx` file, or a folder (e.g. what `log_model` wrote)
   * holding one. Undefined for sources elsewhere (s3://, ...), which the
   * registry records without an artifact.
   */
  async findOnnxModel(
    source: string,
    runId?: string,
  ): Promise<Buffer | undefined> {
    const path = await this.storePathOf(source, runId);
    if (path === undefined) {
      return undefined;
    }
    if (path.endsWith('.onnx')) {
      if (!(await this.store.exists(path))) {
        throw new InputError(`source ${source}: no such artifact`);
      }
      return this.store.read(path);
    }
    const files = (await this.store.list(path)).filter(
      f => !f.isDir && f.path.endsWith('.onnx'),
    );
    if (files.length === 0) {
      return undefined;
    }
    const preferred =
      files.find(f => f.path.endsWith('/model.onnx')) ?? files[0];
    return this.store.read(preferred.path);
  }

  /**
   * A logged model's artifacts under `path` (MLflow's
   * `logged-models/<id>/artifacts/directories`): paths relative to the
   * model's artifact root, as for a run.
   */
  async listLoggedModel(modelId: string, path: string | undefined) {
    const model = await this.requireLoggedModels().get(modelId);
    return this.listUnder(model.artifactLocation, path);
  }

  private requireLoggedModels(): LoggedModelService {
    if (!this.loggedModels) {
      throw new NotFoundError('Logged models are not enabled here');
    }
    return this.loggedModels;
  }

  private async listUnder(rootUri: string, path: string | undefined) {
    if (!rootUri.startsWith(MLFLOW_ARTIFACTS)) {
      return { root_uri: rootUri, files: [] };
    }
    const root = trimSlashes(rootUri.slice(MLFLOW_ARTIFACTS.length));
    const relative = path === undefined ? '' : trimTrailingSlash(path);
    const entries = await this.store.list(
      relative === '' ? root : `${root}/${relative}`,
    );
    return {
      root_uri: rootUri,
      files: entries.map(e => toFileInfo(e, e.path.slice(root.length + 1))),
    };
  }

  /** The store path `source` points at, or undefined when it is not ours. */
  private async storePathOf(
    source: string,
    runId?: string,
  ): Promise<string | undefined> {
    if (source.startsWith(MLFLOW_ARTIFACTS)) {
      return trimSlashes(source.slice(MLFLOW_ARTIFACTS.length));
    }
    // MLflow 3: `models:/<model_id>` names a logged model's artifacts.
    const loggedModel = /^models:\/(m-[0-9a-f]{32})(?:\/(.*))?$/.exec(source);
    if (loggedModel) {
      const model = await this.requireLoggedModels().get(loggedModel[1]);
      return this.storePathOf(
        `${model.artifactLocation}/${loggedModel[2] ?? ''}`,
      );
    }
    const runsUri = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(source);
    if (runsUri) {
      const run = await this.tracking.getRun(runsUri[1] || runId || '');
      if (!run.artifactUri.startsWith(MLFLOW_ARTIFACTS)) {
        return undefined;
      }
      const base = trimSlashes(run.artifactUri.slice(MLFLOW_ARTIFACTS.length));
      return trimSlashes(`${base}/${runsUri[2] ?? ''}`);
    }
    return undefined;
  }
}

function trimSlashes(path: string) {
  return path.replace(/^\/+|\/+$/g, '');
}

function trimTrailingSlash(path: string) {
  return path.replace(/\/+$/, '');
}

/** MLflow's FileInfo of a store entry, named `path`. */
function toFileInfo(
  entry: { isDir: boolean; sizeBytes?: number },
  path: string,
) {
  return {
    path,
    is_dir: entry.isDir,
    ...(entry.isDir ? {} : { file_size: entry.sizeBytes }),
  };
}
