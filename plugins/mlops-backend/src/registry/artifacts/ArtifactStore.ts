import { CustomErrorBase } from '@backstage/errors';

/** What the store recorded about a file it wrote: compare on every read. */
export interface ArtifactChecksum {
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
  sizeBytes: number;
}

/** One entry of a folder listing (MLflow's `{path, is_dir, file_size}`). */
export interface ArtifactListEntry {
  /** Full path from the store's root, `/`-separated, e.g. `wine/3/model.onnx`. */
  path: string;
  isDir: boolean;
  /** Files only. */
  sizeBytes?: number;
}

/**
 * Where model files live. Paths are relative, `/`-separated names
 * (`wine-quality/3/model.onnx`); an implementation must refuse any name that
 * could leave its storage area (InputError) and must verify what it reads
 * against the checksum recorded when it was written.
 */
export interface ArtifactStore {
  /** Largest file `put` accepts, in bytes (`ArtifactTooLargeError` above it). */
  readonly maxBytes: number;

  /** Writes (or replaces) a file atomically; readers see the old or the new bytes, never a mix. */
  put(path: string, bytes: Buffer): Promise<ArtifactChecksum>;

  /**
   * Reads a file and checks it against what was recorded when it was written.
   * NotFoundError when absent; ArtifactIntegrityError when size or sha256 differ.
   */
  get(path: string, expected: ArtifactChecksum): Promise<Buffer>;

  /**
   * Reads a file that has no recorded checksum (e.g. a run artifact an MLflow
   * client uploaded). NotFoundError when absent; ArtifactTooLargeError when the
   * file on disk is larger than `maxBytes`. Prefer `get` when a checksum exists.
   */
  read(path: string): Promise<Buffer>;

  /** True when a file or folder exists at `path`. */
  exists(path: string): Promise<boolean>;

  /** The direct children of the folder `prefix` (`''` is the root), sorted by path; `[]` if there is no such folder. */
  list(prefix: string): Promise<ArtifactListEntry[]>;

  /** Removes a file, or a folder with everything in it; nothing happens if it does not exist. */
  delete(path: string): Promise<void>;
}

/**
 * A file is larger than the store accepts. Its `name` and `statusCode` make
 * Backstage's error handler answer 413 Payload Too Large.
 */
export class ArtifactTooLargeError extends CustomErrorBase {
  name = 'PayloadTooLargeError' as const;
  readonly statusCode = 413;

  constructor(
    readonly path: string,
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `Artifact "${path}" is ${sizeBytes} bytes, more than the limit of ${maxBytes} bytes`,
    );
  }
}

/**
 * A stored file no longer matches the checksum recorded when it was written
 * (changed or truncated on disk). A server-side fault: answered as 500.
 */
export class ArtifactIntegrityError extends CustomErrorBase {
  name = 'ArtifactIntegrityError' as const;
}
