import { InputError, NotFoundError } from '@backstage/errors';
import { createHash } from 'crypto';
import { promises as fs, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ArtifactIntegrityError, ArtifactTooLargeError } from './ArtifactStore';
import { FileSystemArtifactStore } from './FileSystemArtifactStore';

describe('FileSystemArtifactStore', () => {
  let base: string;
  let rootDir: string;
  let outside: string;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'loopline-artifacts-'));
    rootDir = join(base, 'store');
    outside = join(base, 'outside');
  });

  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(base, { recursive: true, force: true });
  });

  const sha = (bytes: Buffer) =>
    createHash('sha256').update(bytes).digest('hex');

  it('writes, reads back verified, lists and deletes', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    const bytes = Buffer.from('onnx bytes');

    const written = await store.put('wine-quality/3/model.onnx', bytes);
    expect(written).toEqual({ sha256: sha(bytes), sizeBytes: bytes.length });
    expect(
      await fs.readFile(join(rootDir, 'wine-quality', '3', 'model.onnx')),
    ).toEqual(bytes);

    await expect(
      store.get('wine-quality/3/model.onnx', written),
    ).resolves.toEqual(bytes);
    expect(await store.exists('wine-quality/3/model.onnx')).toBe(true);
    expect(await store.exists('wine-quality/3')).toBe(true);
    expect(await store.exists('wine-quality/4/model.onnx')).toBe(false);

    await store.put('wine-quality/3/card.md', Buffer.from('# card'));
    await store.put('wine-quality/1/model.onnx', Buffer.from('v1'));
    expect(await store.list('')).toEqual([
      { path: 'wine-quality', isDir: true },
    ]);
    expect(await store.list('wine-quality/')).toEqual([
      { path: 'wine-quality/1', isDir: true },
      { path: 'wine-quality/3', isDir: true },
    ]);
    expect(await store.list('wine-quality/3')).toEqual([
      { path: 'wine-quality/3/card.md', isDir: false, sizeBytes: 6 },
      { path: 'wine-quality/3/model.onnx', isDir: false, sizeBytes: 10 },
    ]);
    expect(await store.list('nothing/here')).toEqual([]);
    expect(await store.list('wine-quality/3/model.onnx')).toEqual([]);

    await store.delete('wine-quality/3/model.onnx');
    expect(await store.exists('wine-quality/3/model.onnx')).toBe(false);
    await store.delete('wine-quality');
    expect(await store.list('')).toEqual([]);
    await expect(store.delete('wine-quality')).resolves.toBeUndefined();
  });

  it('answers reads on a store that was never written to', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    expect(await store.list('')).toEqual([]);
    expect(await store.exists('a/model.onnx')).toBe(false);
    await expect(
      store.get('a/model.onnx', { sha256: 'x', sizeBytes: 1 }),
    ).rejects.toThrow(NotFoundError);
  });

  it('replaces a file on a second put', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    await store.put('m/1/model.onnx', Buffer.from('first'));
    const second = await store.put('m/1/model.onnx', Buffer.from('second!'));
    await expect(store.get('m/1/model.onnx', second)).resolves.toEqual(
      Buffer.from('second!'),
    );
  });

  it.each([
    ['../escape.onnx', 'contains a ".." segment'],
    ['m/../../escape.onnx', 'contains a ".." segment'],
    ['%2e%2e/escape.onnx', 'contains an encoded ".."'],
    ['m/..%2Fescape.onnx', 'contains an encoded "../escape.onnx"'],
    ['m/./model.onnx', 'contains a "." segment'],
    ['/etc/passwd', 'is absolute'],
    ['C:/Windows/win.ini', 'is absolute'],
    ['m\\..\\..\\escape.onnx', 'backslash'],
    ['m/model.onnx\0.txt', 'NUL'],
    ['m//model.onnx', 'empty segment'],
    ['', 'empty'],
    ['m/.loopline-upload-abc', 'reserved'],
    ['m/\nmodel.onnx', 'control character'],
  ])('refuses the name %j (%s) on every operation', async (name, why) => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    const checksum = { sha256: 'x', sizeBytes: 1 };
    for (const attempt of [
      () => store.put(name, Buffer.from('x')),
      () => store.get(name, checksum),
      () => store.read(name),
      () => store.exists(name),
      () => store.delete(name),
    ]) {
      await expect(attempt()).rejects.toThrow(InputError);
      await expect(attempt()).rejects.toThrow(why);
    }
    // '' is the root for list, so only the other names are refused there.
    const listed = name === '' ? 'ok' : await store.list(name).catch(e => e);
    expect(name === '' || listed instanceof InputError).toBe(true);
    await expect(fs.readdir(base)).resolves.not.toContain('escape.onnx');
  });

  it('refuses names longer than 1024 characters', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    await expect(
      store.put(`m/${'a'.repeat(1100)}`, Buffer.from('x')),
    ).rejects.toThrow(/longer than 1024/);
  });

  it('never follows a symbolic link out of the store', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    await store.put('inside/model.onnx', Buffer.from('inside'));
    await fs.mkdir(outside);
    const secret = Buffer.from('secret');
    await fs.writeFile(join(outside, 'secret.txt'), secret);
    await fs.symlink(outside, join(rootDir, 'evil'));
    await fs.symlink(
      join(outside, 'secret.txt'),
      join(rootDir, 'inside', 'leak.onnx'),
    );
    await fs.symlink(join(base, 'missing'), join(rootDir, 'dangling'));
    // A link to a place inside the store is harmless.
    await fs.symlink(join(rootDir, 'inside'), join(rootDir, 'alias'));

    const checksum = { sha256: sha(secret), sizeBytes: secret.length };
    await expect(store.get('evil/secret.txt', checksum)).rejects.toThrow(
      /outside the artifact store through a symbolic link/,
    );
    await expect(store.get('inside/leak.onnx', checksum)).rejects.toThrow(
      InputError,
    );
    await expect(store.read('evil/secret.txt')).rejects.toThrow(InputError);
    await expect(store.read('inside/leak.onnx')).rejects.toThrow(InputError);
    await expect(
      store.put('evil/planted.onnx', Buffer.from('x')),
    ).rejects.toThrow(InputError);
    await expect(
      store.put('dangling/planted.onnx', Buffer.from('x')),
    ).rejects.toThrow(InputError);
    await expect(store.list('evil')).rejects.toThrow(InputError);
    await expect(store.exists('evil/secret.txt')).rejects.toThrow(InputError);
    await expect(store.delete('evil')).rejects.toThrow(InputError);
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
    expect(await fs.readdir(base)).not.toContain('missing');

    await expect(
      store.get('alias/model.onnx', {
        sha256: sha(Buffer.from('inside')),
        sizeBytes: 6,
      }),
    ).resolves.toEqual(Buffer.from('inside'));
    // Links are not listed.
    expect((await store.list('')).map(e => e.path)).toEqual(['inside']);
  });

  it('refuses a file over the size limit and writes nothing', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 16 });
    await expect(
      store.put('m/1/model.onnx', Buffer.alloc(16, 1)),
    ).resolves.toMatchObject({ sizeBytes: 16 });

    const error = await store
      .put('m/2/model.onnx', Buffer.alloc(17, 1))
      .catch(e => e);
    expect(error).toBeInstanceOf(ArtifactTooLargeError);
    expect(error.name).toBe('PayloadTooLargeError');
    expect(error.statusCode).toBe(413);
    expect(error.message).toBe(
      'Artifact "m/2/model.onnx" is 17 bytes, more than the limit of 16 bytes',
    );
    expect(await store.exists('m/2')).toBe(false);
  });

  it('detects a file changed on disk after it was written', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    const recorded = await store.put(
      'm/1/model.onnx',
      Buffer.from('original bytes'),
    );
    const file = join(rootDir, 'm', '1', 'model.onnx');

    // Same size, different content: only the sha256 can tell.
    await fs.writeFile(file, Buffer.from('tampered bytes'));
    const error = await store.get('m/1/model.onnx', recorded).catch(e => e);
    expect(error).toBeInstanceOf(ArtifactIntegrityError);
    expect(error.message).toBe(
      `Artifact "m/1/model.onnx" is corrupted: its sha256 is ${sha(
        Buffer.from('tampered bytes'),
      )}, ${recorded.sha256} was recorded`,
    );

    // Truncated: caught by the size before reading.
    await fs.writeFile(file, Buffer.from('orig'));
    await expect(store.get('m/1/model.onnx', recorded)).rejects.toThrow(
      'Artifact "m/1/model.onnx" is corrupted: it is 4 bytes on disk, 14 were recorded',
    );

    await fs.rm(file);
    await expect(store.get('m/1/model.onnx', recorded)).rejects.toThrow(
      NotFoundError,
    );
  });

  it('writes atomically: a temporary file in the same folder, renamed over the target', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    const before = await store.put('m/1/model.onnx', Buffer.from('old'));
    const target = join(rootDir, 'm', '1', 'model.onnx');

    const realRename = fs.rename.bind(fs);
    const seen: Array<{ from: string; targetBefore: string; temp: string }> =
      [];
    jest.spyOn(fs, 'rename').mockImplementation(async (from, to) => {
      seen.push({
        from: String(from),
        targetBefore: await fs.readFile(to, 'utf8'),
        temp: await fs.readFile(from, 'utf8'),
      });
      return realRename(from, to);
    });

    const after = await store.put('m/1/model.onnx', Buffer.from('new bytes'));
    expect(seen).toHaveLength(1);
    // Until the rename, readers still get the complete old file ...
    expect(seen[0].targetBefore).toBe('old');
    // ... and the new bytes were complete before they were moved in.
    expect(seen[0].temp).toBe('new bytes');
    expect(seen[0].from.startsWith(join(rootDir, 'm', '1'))).toBe(true);
    expect(await fs.readFile(target, 'utf8')).toBe('new bytes');
    expect(await fs.readdir(join(rootDir, 'm', '1'))).toEqual(['model.onnx']);
    expect(after.sha256).not.toBe(before.sha256);
  });

  it('leaves the old file and no temporary file behind when a write fails', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    const recorded = await store.put('m/1/model.onnx', Buffer.from('old'));
    jest.spyOn(fs, 'rename').mockRejectedValueOnce(
      Object.assign(new Error('ENOSPC: no space left on device'), {
        code: 'ENOSPC',
      }),
    );

    await expect(
      store.put('m/1/model.onnx', Buffer.from('new bytes')),
    ).rejects.toThrow('ENOSPC');
    expect(await fs.readdir(join(rootDir, 'm', '1'))).toEqual(['model.onnx']);
    await expect(store.get('m/1/model.onnx', recorded)).resolves.toEqual(
      Buffer.from('old'),
    );
    expect(await store.list('m/1')).toEqual([
      { path: 'm/1/model.onnx', isDir: false, sizeBytes: 3 },
    ]);
  });

  it('refuses to write over a folder or under a file', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 1024 });
    await store.put('m/1/model.onnx', Buffer.from('x'));
    await expect(store.put('m/1', Buffer.from('x'))).rejects.toThrow(
      'it is an existing folder',
    );
    await expect(
      store.put('m/1/model.onnx/inner', Buffer.from('x')),
    ).rejects.toThrow(InputError);
  });

  it('reads files without a recorded checksum, within the size limit', async () => {
    const store = new FileSystemArtifactStore(rootDir, { maxBytes: 8 });
    await store.put('runs/1/artifacts/notes.txt', Buffer.from('hello'));
    await expect(store.read('runs/1/artifacts/notes.txt')).resolves.toEqual(
      Buffer.from('hello'),
    );
    await expect(store.read('runs/1/artifacts/none.txt')).rejects.toThrow(
      NotFoundError,
    );
    await expect(store.read('runs/1/artifacts')).rejects.toThrow(NotFoundError);
    // A file that grew on disk beyond the limit is not loaded into memory.
    await fs.writeFile(
      join(rootDir, 'runs', '1', 'artifacts', 'notes.txt'),
      Buffer.alloc(9),
    );
    await expect(store.read('runs/1/artifacts/notes.txt')).rejects.toThrow(
      ArtifactTooLargeError,
    );
  });
});
