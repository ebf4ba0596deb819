import { InputError, NotFoundError } from '@backstage/errors';
import { ArtifactStore } from '../registry';
import { TrackingService } from '../tracking';

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

  /** MLflow's listing of one folder: `{ path, is_dir, file_size }`. */
  async list(dir: string) {
    const entries = await this.store.list(dir);
    return entries.map(e => ({
      path: e.path,
      is_dir: e.isDir,
      ...(e.isDir ? {} : { file_size: e.sizeBytes }),
    }));
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

  /** The store path `source` points at, or undefined when it is not ours. */
  private async storePathOf(source: string, runId?: string) {
    if (source.startsWith(MLFLOW_ARTIFACTS)) {
      return trimSlashes(source.slice(MLFLOW_ARTIFACTS.length));
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
