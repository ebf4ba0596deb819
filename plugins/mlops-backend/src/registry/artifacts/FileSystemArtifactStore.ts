import { InputError, NotFoundError } from '@backstage/errors';
import { createHash, randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'path';
import {
  ArtifactChecksum,
  ArtifactIntegrityError,
  ArtifactListEntry,
  ArtifactStore,
  ArtifactTooLargeError,
} from './ArtifactStore';

/** Files being written carry this prefix until they are renamed into place. */
const TEMP_PREFIX = '.loopline-upload-';
const MAX_PATH_LENGTH = 1024;

export interface FileSystemArtifactStoreOptions {
  /** Largest file accepted by `put`, in bytes. */
  maxBytes: number;
}

function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isNodeError(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return (
    rel === '' ||
    (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
  );
}

/**
 * The default ArtifactStore: files under one folder on the local disk.
 * Names are checked before any file system call (no `..`, no absolute paths,
 * no NUL or backslash, no empty segments), and a symbolic link met on the way
 * must resolve inside the folder, so no name can reach a file outside it.
 * Writes go to a temporary file in the target folder, are flushed, then
 * renamed over the target, so a reader never sees a partial file.
 */
export class FileSystemArtifactStore implements ArtifactStore {
  readonly maxBytes: number;
  private readonly rootDir: string;
  private realRoot?: Promise<string>;

  constructor(rootDir: string, options: FileSystemArtifactStoreOptions) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
      throw new TypeError(
        `FileSystemArtifactStore: maxBytes must be a positive integer, got ${options.maxBytes}`,
      );
    }
    this.rootDir = resolve(rootDir);
    this.maxBytes = options.maxBytes;
  }

  async put(path: string, bytes: Buffer): Promise<ArtifactChecksum> {
    const segments = parsePath(path, { allowRoot: false });
    if (bytes.length > this.maxBytes) {
      throw new ArtifactTooLargeError(path, bytes.length, this.maxBytes);
    }
    const root = await this.root({ create: true });
    await this.checkSymlinks(root, segments, path);
    const target = join(root, ...segments);
    const folder = dirname(target);
    try {
      await fs.mkdir(folder, { recursive: true });
    } catch (error) {
      if (isNodeError(error, 'EEXIST') || isNodeError(error, 'ENOTDIR')) {
        throw new InputError(
          `Artifact path "${path}" is not allowed: a part of it is an existing file`,
        );
      }
      throw error;
    }
    // mkdir may have raced with someone placing a link; check again before writing.
    await this.checkSymlinks(root, segments, path);
    const existing = await fs.lstat(target).catch(error => {
      if (isNodeError(error, 'ENOENT')) return undefined;
      throw error;
    });
    if (existing?.isDirectory()) {
      throw new InputError(
        `Artifact path "${path}" is not allowed: it is an existing folder`,
      );
    }

    const temp = join(
      folder,
      `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`,
    );
    try {
      const handle = await fs.open(temp, 'wx', 0o644);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    return { sha256: sha256Of(bytes), sizeBytes: bytes.length };
  }

  async get(path: string, expected: ArtifactChecksum): Promise<Buffer> {
    const { file, size } = await this.existingFile(path);
    if (size !== expected.sizeBytes) {
      throw new ArtifactIntegrityError(
        `Artifact "${path}" is corrupted: it is ${size} bytes on disk, ${expected.sizeBytes} were recorded`,
      );
    }
    const bytes = await fs.readFile(file);
    const sha256 = sha256Of(bytes);
    if (bytes.length !== expected.sizeBytes || sha256 !== expected.sha256) {
      throw new ArtifactIntegrityError(
        `Artifact "${path}" is corrupted: its sha256 is ${sha256}, ${expected.sha256} was recorded`,
      );
    }
    return bytes;
  }

  async read(path: string): Promise<Buffer> {
    const target = await this.existingFile(path);
    if (target.size > this.maxBytes) {
      throw new ArtifactTooLargeError(path, target.size, this.maxBytes);
    }
    return fs.readFile(target.file);
  }

  async exists(path: string): Promise<boolean> {
    const segments = parsePath(path, { allowRoot: false });
    const root = await this.root({ create: false });
    await this.checkSymlinks(root, segments, path);
    try {
      await fs.stat(join(root, ...segments));
      return true;
    } catch (error) {
      if (isNodeError(error, 'ENOENT') || isNodeError(error, 'ENOTDIR')) {
        return false;
      }
      throw error;
    }
  }

  async list(prefix: string): Promise<ArtifactListEntry[]> {
    const segments = parsePath(prefix, { allowRoot: true });
    const root = await this.root({ create: false });
    await this.checkSymlinks(root, segments, prefix);
    const folder = join(root, ...segments);
    let entries;
    try {
      entries = await fs.readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isNodeError(error, 'ENOENT') || isNodeError(error, 'ENOTDIR')) {
        return [];
      }
      throw error;
    }
    const result: ArtifactListEntry[] = [];
    for (const entry of entries) {
      // Links are never written by the store, and half-written files are not artifacts.
      if (entry.name.startsWith(TEMP_PREFIX) || entry.isSymbolicLink()) {
        continue;
      }
      const path = [...segments, entry.name].join('/');
      if (entry.isDirectory()) {
        result.push({ path, isDir: true });
      } else if (entry.isFile()) {
        const stat = await fs.stat(join(folder, entry.name));
        result.push({ path, isDir: false, sizeBytes: stat.size });
      }
    }
    return result.sort((a, b) => {
      if (a.path === b.path) return 0;
      return a.path < b.path ? -1 : 1;
    });
  }

  async delete(path: string): Promise<void> {
    const segments = parsePath(path, { allowRoot: false });
    const root = await this.root({ create: false });
    await this.checkSymlinks(root, segments, path);
    await fs.rm(join(root, ...segments), { recursive: true, force: true });
  }

  /** The file at `path` and its size; NotFoundError unless it is a regular file. */
  private async existingFile(
    path: string,
  ): Promise<{ file: string; size: number }> {
    const segments = parsePath(path, { allowRoot: false });
    const root = await this.root({ create: false });
    await this.checkSymlinks(root, segments, path);
    const file = join(root, ...segments);
    const stat = await fs.stat(file).catch(error => {
      if (isNodeError(error, 'ENOENT') || isNodeError(error, 'ENOTDIR')) {
        return undefined;
      }
      throw error;
    });
    if (!stat || !stat.isFile()) {
      throw new NotFoundError(`Artifact "${path}" not found`);
    }
    return { file, size: stat.size };
  }

  /** The real path of the root folder (links resolved), created when asked. */
  private async root(options: { create: boolean }): Promise<string> {
    if (!this.realRoot) {
      if (!options.create) {
        const exists = await fs.stat(this.rootDir).then(
          () => true,
          () => false,
        );
        if (!exists) {
          // Nothing was ever written: resolve without creating, try again later.
          return this.rootDir;
        }
      }
      this.realRoot = fs
        .mkdir(this.rootDir, { recursive: true })
        .then(() => fs.realpath(this.rootDir));
      this.realRoot.catch(() => {
        this.realRoot = undefined;
      });
    }
    return this.realRoot;
  }

  /**
   * Walks the path from the root; any symbolic link on the way must point
   * inside the root (a dangling link is refused too: writing through it could
   * create a file anywhere).
   */
  private async checkSymlinks(
    root: string,
    segments: string[],
    path: string,
  ): Promise<void> {
    let current = root;
    for (const segment of segments) {
      current = join(current, segment);
      let stat;
      try {
        stat = await fs.lstat(current);
      } catch (error) {
        if (isNodeError(error, 'ENOENT') || isNodeError(error, 'ENOTDIR')) {
          return;
        }
        throw error;
      }
      if (stat.isSymbolicLink()) {
        const target = await fs.realpath(current).catch(() => undefined);
        if (target === undefined || !isInside(root, target)) {
          throw new InputError(
            `Artifact path "${path}" is not allowed: it leads outside the artifact store through a symbolic link`,
          );
        }
      }
    }
  }
}

/**
 * Splits a relative `/`-separated name into its segments, refusing anything
 * that could name a file outside the store or be read differently by another
 * platform.
 */
function parsePath(path: string, options: { allowRoot: boolean }): string[] {
  const refuse = (why: string): never => {
    throw new InputError(
      `Artifact path ${JSON.stringify(String(path))} is not allowed: ${why}`,
    );
  };
  if (typeof path !== 'string') refuse('it is not a string');
  if (path.length > MAX_PATH_LENGTH) {
    refuse(`it is longer than ${MAX_PATH_LENGTH} characters`);
  }
  if (path.includes('\0')) refuse('it contains a NUL character');
  if (path.includes('\\')) refuse('it contains a backslash');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
    refuse('it is absolute');
  }
  const trimmed = options.allowRoot ? path.replace(/\/$/, '') : path;
  if (trimmed === '') {
    if (options.allowRoot) return [];
    refuse('it is empty');
  }
  const segments = trimmed.split('/');
  for (const segment of segments) {
    if (segment === '') refuse('it has an empty segment');
    if (segment === '.' || segment === '..') {
      refuse(`it contains a "${segment}" segment`);
    }
    // Once more decoded (a proxy or client may decode again), still no way out.
    const decoded = decodeOnce(segment);
    if (
      decoded !== segment &&
      (decoded === '.' || decoded === '..' || /[/\\]/.test(decoded))
    ) {
      refuse(`it contains an encoded "${decoded}"`);
    }
    if (segment.startsWith(TEMP_PREFIX)) {
      refuse(`names starting with "${TEMP_PREFIX}" are reserved`);
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(segment)) {
      refuse('it contains a control character');
    }
  }
  return segments;
}

function decodeOnce(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
