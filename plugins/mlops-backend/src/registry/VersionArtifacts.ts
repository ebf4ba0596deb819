import { InputError } from '@backstage/errors';
import { ModelSignature } from '@loopline/mlops-common';
import { createHash } from 'crypto';
import {
  ArtifactStore,
  ArtifactTooLargeError,
} from './artifacts/ArtifactStore';
import { ModelInspector } from './onnx/OnnxInspector';
import { ArtifactRecord } from './RegistryStore';

const DEFAULT_ARTIFACT_FILE = 'model.onnx';

/**
 * The files of model versions: where a version's ONNX model lives
 * (`<model folder>/<version>/<file>.onnx`), checking bytes load as a model before
 * they are kept, writing and reading them against their recorded digest.
 * Knows nothing of the database or the audit trail: the RegistryService
 * records what this class wrote, in its own transaction.
 */
export class VersionArtifacts {
  constructor(
    private readonly files: ArtifactStore,
    private readonly inspector: ModelInspector,
  ) {}

  /** Where a version's model file goes; `fileName` must be a plain `*.onnx` name. */
  pathOf(folder: string, version: number | string, fileName?: string): string {
    const file = fileName ?? DEFAULT_ARTIFACT_FILE;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*\.onnx$/.test(file)) {
      throw new InputError(
        `Invalid artifact file name ${JSON.stringify(
          file,
        )}: a plain file name ending in .onnx`,
      );
    }
    return `${folder}/${version}/${file}`;
  }

  /**
   * The model's signature, once the bytes are within the size limit (cheap,
   * first) and load as a model; `path` names the file in messages.
   */
  async inspect(
    name: string,
    bytes: unknown,
    path: string,
  ): Promise<ModelSignature> {
    if (!Buffer.isBuffer(bytes) && !(bytes instanceof Uint8Array)) {
      throw new InputError(
        `The artifact for registered model '${name}' must be bytes`,
      );
    }
    if (bytes.length > this.files.maxBytes) {
      throw new ArtifactTooLargeError(path, bytes.length, this.files.maxBytes);
    }
    return this.inspector.inspect(bytes);
  }

  /** Writes checked bytes; the record to keep on the version. */
  async write(
    path: string,
    bytes: Buffer,
    signature: ModelSignature,
  ): Promise<ArtifactRecord> {
    const written = await this.files.put(path, bytes);
    return {
      path,
      sha256: written.sha256,
      sizeBytes: written.sizeBytes,
      format: 'onnx',
      signature: JSON.stringify(signature),
    };
  }

  /** Whether `bytes` are the recorded artifact's (so a second upload is a no-op). */
  isSame(bytes: Buffer, artifact: ArtifactRecord): boolean {
    return createHash('sha256').update(bytes).digest('hex') === artifact.sha256;
  }

  /** The file, verified against the recorded sha256 and size. */
  read(artifact: ArtifactRecord): Promise<Buffer> {
    return this.files.get(artifact.path, {
      sha256: artifact.sha256,
      sizeBytes: artifact.sizeBytes,
    });
  }

  /** Removes a file or folder (all versions of a model, one version) if it exists. */
  async remove(path: string): Promise<void> {
    if (await this.files.exists(path)) {
      await this.files.delete(path);
    }
  }

  /** Best effort, after a failed change: an unreferenced file is harmless. */
  async removeQuietly(path: string | undefined): Promise<void> {
    if (path === undefined) return;
    try {
      await this.files.delete(path);
    } catch {
      // left for an operator; nothing refers to it
    }
  }
}
