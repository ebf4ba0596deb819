import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import express from 'express';
import { LocalGitRepositories } from './LocalGitRepositories';
import { LocalGitUrlReader } from './LocalGitUrlReader';
import { createLocalGitRouter } from './router';

describe('the local git server', () => {
  let root: string;
  let source: string;
  let server: http.Server;
  let baseUrl: string;
  let repositories: LocalGitRepositories;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-git-test-'));
    source = path.join(root, 'workspace');
    fs.mkdirSync(path.join(source, 'docs'), { recursive: true });
    fs.writeFileSync(
      path.join(source, 'catalog-info.yaml'),
      'kind: Component\n',
    );
    fs.writeFileSync(path.join(source, 'docs', 'index.md'), '# Hello\n');

    const app = express();
    server = await new Promise(resolve => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${
      (server.address() as AddressInfo).port
    }/api/scaffolder/git`;
    repositories = new LocalGitRepositories({
      directory: path.join(root, 'repos'),
      baseUrl,
    });
    const middleware = MiddlewareFactory.create({
      config: mockServices.rootConfig(),
      logger: mockServices.logger.mock(),
    });
    app.use(
      '/api/scaffolder',
      createLocalGitRouter({
        // A request without a token is an anonymous one (the mock's default is a user).
        httpAuth: mockServices.httpAuth({
          defaultCredentials: mockCredentials.none(),
        }),
        repositories,
      }),
    );
    app.use(middleware.error());
  });
  afterEach(async () => {
    await new Promise(resolve => server.close(resolve));
    fs.rmSync(root, { recursive: true, force: true });
  });

  const publish = () =>
    repositories.create({
      name: 'wine-new',
      sourceDir: source,
      branch: 'main',
      description: 'A new wine model',
      message: 'Initial commit',
      author: { name: 'Alice', email: 'alice@acme.example' },
    });

  // Asynchronous: the server answering git runs in this very process.
  async function clone(token?: string) {
    const target = path.join(
      root,
      `clone-${Math.random().toString(36).slice(2)}`,
    );
    await promisify(execFile)(
      'git',
      [
        ...(token
          ? ['-c', `http.extraHeader=Authorization: Bearer ${token}`]
          : []),
        'clone',
        '--quiet',
        `${baseUrl}/wine-new.git`,
        target,
      ],
      { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
    );
    return target;
  }

  it('publishes a commit that git clones over HTTP with a token', async () => {
    const { commitHash } = await publish();
    expect(commitHash).toMatch(/^[0-9a-f]{40}$/);
    const target = await clone(mockCredentials.user.token());
    expect(fs.readFileSync(path.join(target, 'docs', 'index.md'), 'utf8')).toBe(
      '# Hello\n',
    );
    const log = execFileSync('git', ['log', '--format=%H %an %s'], {
      cwd: target,
    }).toString();
    expect(log.trim()).toBe(`${commitHash} Alice Initial commit`);
    expect(
      execFileSync('git', ['branch', '--show-current'], { cwd: target })
        .toString()
        .trim(),
    ).toBe('main');
  });

  it('refuses a clone without a token', async () => {
    await publish();
    await expect(clone()).rejects.toThrow(
      /401|Authentication failed|could not read Username/i,
    );
  });

  it('refuses a second repository of the same name, and leaves the first alone', async () => {
    const { commitHash } = await publish();
    await expect(publish()).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining("'wine-new' already exists"),
    });
    const target = await clone(mockCredentials.user.token());
    expect(
      execFileSync('git', ['rev-parse', 'HEAD'], { cwd: target })
        .toString()
        .trim(),
    ).toBe(commitHash);
  });

  it('refuses names that are no plain repository names', () => {
    for (const name of ['../etc', 'a/b', '', '.hidden..x']) {
      expect(() => repositories.directoryOf(name)).toThrow(
        /is not a repository name/,
      );
    }
  });

  it('lets the catalog read files at the branch, with the commit as etag', async () => {
    const { commitHash } = await publish();
    const reader = new LocalGitUrlReader(repositories);
    const url = repositories.urlsOf('wine-new', 'main').catalogInfoUrl;
    expect(reader.handles(new URL(url))).toBe(true);
    expect(
      reader.handles(new URL('https://github.com/acme/x/blob/main/a')),
    ).toBe(false);

    const response = await reader.readUrl(url);
    expect((await response.buffer()).toString()).toBe('kind: Component\n');
    expect(response.etag).toBe(commitHash);
    await expect(
      reader.readUrl(url, { etag: commitHash }),
    ).rejects.toMatchObject({
      name: 'NotModifiedError',
    });
    await expect(
      reader.readUrl(`${baseUrl}/wine-new.git/blob/main/missing.yaml`),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(
      reader.readUrl(`${baseUrl}/nope.git/blob/main/catalog-info.yaml`),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('serves only the files of the dumb protocol', async () => {
    await publish();
    const res = await fetch(`${baseUrl}/wine-new.git/config`, {
      headers: { Authorization: mockCredentials.user.header() },
    });
    expect(res.status).toBe(404);
    const refs = await fetch(`${baseUrl}/wine-new.git/info/refs`, {
      headers: { Authorization: mockCredentials.user.header() },
    });
    expect(refs.status).toBe(200);
    expect(await refs.text()).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main$/m);
  });
});
