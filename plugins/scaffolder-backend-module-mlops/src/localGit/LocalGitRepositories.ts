import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Config } from '@backstage/config';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';

const run = promisify(execFile);

/** `loopline.localGit`: the demo's git server (see config.d.ts). */
export interface LocalGitConfig {
  /** Where the bare repositories are kept. */
  directory: string;
  /** `<backend.baseUrl>/api/scaffolder/git`: repositories are `<baseUrl>/<name>.git`. */
  baseUrl: string;
}

/** Reads `loopline.localGit`; undefined unless `enabled`. */
export function readLocalGitConfig(config: Config): LocalGitConfig | undefined {
  const local = config.getOptionalConfig('loopline.localGit');
  if (!local?.getOptionalBoolean('enabled')) {
    return undefined;
  }
  const backendBaseUrl = config
    .getString('backend.baseUrl')
    .replace(/\/+$/, '');
  return {
    directory: path.resolve(
      local.getOptionalString('directory') ??
        path.join(os.tmpdir(), 'loopline', 'git'),
    ),
    baseUrl: `${backendBaseUrl}/api/scaffolder/git`,
  };
}

const REPOSITORY_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

/**
 * Bare git repositories on the portal's disk, for the embedded demo: the
 * scaffolder publishes into them (`mlops:publish:local`), developers clone
 * them over HTTP (git's "dumb" protocol, served by the scaffolder module),
 * and the catalog reads their files through {@link LocalGitUrlReader}.
 * Everything goes through the `git` command line.
 */
export class LocalGitRepositories {
  constructor(readonly config: LocalGitConfig) {}

  /** The bare repository's directory; InputError for a name that is no plain repository name. */
  directoryOf(name: string): string {
    if (!REPOSITORY_NAME.test(name) || name.includes('..')) {
      throw new InputError(
        `"${name}" is not a repository name (letters, digits, '.', '_' and '-')`,
      );
    }
    return path.join(this.config.directory, `${name}.git`);
  }

  urlsOf(name: string, branch: string) {
    const remoteUrl = `${this.config.baseUrl}/${name}.git`;
    return {
      remoteUrl,
      repoContentsUrl: `${remoteUrl}/blob/${branch}/`,
      catalogInfoUrl: `${remoteUrl}/blob/${branch}/catalog-info.yaml`,
    };
  }

  async exists(name: string): Promise<boolean> {
    return fs
      .stat(this.directoryOf(name))
      .then(() => true)
      .catch(() => false);
  }

  /**
   * Creates `<name>.git` holding one commit of `sourceDir`'s files on
   * `branch`. ConflictError when the repository exists: a re-run with the
   * same name never overwrites a project.
   */
  async create(options: {
    name: string;
    sourceDir: string;
    branch: string;
    description?: string;
    message: string;
    author: { name: string; email: string };
  }): Promise<{ commitHash: string }> {
    const bare = this.directoryOf(options.name);
    await fs.mkdir(this.config.directory, { recursive: true });
    try {
      await fs.mkdir(bare);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ConflictError(
          `The repository '${options.name}' already exists; choose another name`,
        );
      }
      throw error;
    }
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'loopline-publish-'));
    try {
      await git(['init', '--bare', '--initial-branch', options.branch, bare]);
      await fs.cp(options.sourceDir, work, { recursive: true });
      await fs.rm(path.join(work, '.git'), { recursive: true, force: true });
      await git(['init', '--initial-branch', options.branch], work);
      await git(['add', '--all'], work);
      await git(
        [
          '-c',
          `user.name=${options.author.name}`,
          '-c',
          `user.email=${options.author.email}`,
          'commit',
          '--quiet',
          '--message',
          options.message,
        ],
        work,
      );
      await git(
        ['push', '--quiet', bare, `HEAD:refs/heads/${options.branch}`],
        work,
      );
      const commitHash = (await git(['rev-parse', 'HEAD'], work)).trim();
      if (options.description) {
        await fs.writeFile(
          path.join(bare, 'description'),
          `${options.description}\n`,
        );
      }
      // The dumb HTTP protocol reads info/refs and objects/info/packs.
      await git(['update-server-info'], bare);
      return { commitHash };
    } catch (error) {
      // Nothing half-made: a failed publish leaves no repository behind.
      await fs.rm(bare, { recursive: true, force: true });
      throw error;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }

  /** A file at `ref`, with the commit it was read at. NotFoundError when either is missing. */
  async readFile(
    name: string,
    ref: string,
    filePath: string,
  ): Promise<{ content: Buffer; commitHash: string }> {
    const bare = this.directoryOf(name);
    if (!(await this.exists(name))) {
      throw new NotFoundError(`No repository '${name}'`);
    }
    if (!/^[A-Za-z0-9._/-]+$/.test(ref) || ref.startsWith('-')) {
      throw new InputError(`"${ref}" is not a branch name`);
    }
    let commitHash: string;
    try {
      commitHash = (
        await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], bare)
      ).trim();
    } catch {
      throw new NotFoundError(`No branch '${ref}' in the repository '${name}'`);
    }
    const file = filePath.replace(/^\/+/, '');
    try {
      const { stdout } = await run('git', ['show', `${commitHash}:${file}`], {
        cwd: bare,
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
      });
      return { content: stdout, commitHash };
    } catch {
      throw new NotFoundError(
        `No file '${file}' at '${ref}' in the repository '${name}'`,
      );
    }
  }
}

async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  });
  return stdout;
}
