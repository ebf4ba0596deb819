import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { LocalGitRepositories } from '../localGit';
import { createPublishLocalAction } from './publishLocal';

const BASE_URL = 'http://portal.example.com/api/scaffolder/git';

describe('mlops:publish:local', () => {
  let root: string;
  let repositories: LocalGitRepositories;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-publish-test-'));
    fs.mkdirSync(path.join(root, 'workspace'));
    fs.writeFileSync(
      path.join(root, 'workspace', 'catalog-info.yaml'),
      'kind: Component\n',
    );
    repositories = new LocalGitRepositories({
      directory: path.join(root, 'repos'),
      baseUrl: BASE_URL,
    });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function context(dryRun: boolean) {
    return {
      ...createMockActionContext({
        input: { repoName: 'wine-new', description: 'A new wine model' },
        workspacePath: path.join(root, 'workspace'),
      }),
      isDryRun: dryRun,
    };
  }
  const outputs = (ctx: { output: unknown }) =>
    Object.fromEntries((ctx.output as jest.Mock).mock.calls);
  const action = () => createPublishLocalAction({ repositories });

  it('creates nothing in a dry run, but gives the URLs', async () => {
    const ctx = context(true);
    await action().handler(ctx as any);
    expect(outputs(ctx)).toEqual({
      remoteUrl: `${BASE_URL}/wine-new.git`,
      cloneUrl: `${BASE_URL}/wine-new.git`,
      repoContentsUrl: `${BASE_URL}/wine-new.git/blob/main/`,
      catalogInfoUrl: `${BASE_URL}/wine-new.git/blob/main/catalog-info.yaml`,
      commitHash: '',
    });
    await expect(repositories.exists('wine-new')).resolves.toBe(false);
  });

  it('publishes the workspace; a re-run is a conflict, in a dry run too', async () => {
    const ctx = context(false);
    await action().handler(ctx as any);
    const { commitHash } = outputs(ctx);
    expect(commitHash).toMatch(/^[0-9a-f]{40}$/);
    const bare = path.join(root, 'repos', 'wine-new.git');
    expect(
      execFileSync('git', ['show', 'main:catalog-info.yaml'], {
        cwd: bare,
      }).toString(),
    ).toBe('kind: Component\n');

    await expect(action().handler(context(false) as any)).rejects.toMatchObject(
      { name: 'ConflictError' },
    );
    await expect(action().handler(context(true) as any)).rejects.toMatchObject({
      name: 'ConflictError',
      message: "The repository 'wine-new' already exists; choose another name",
    });
    expect(
      execFileSync('git', ['rev-parse', 'main'], { cwd: bare })
        .toString()
        .trim(),
    ).toBe(commitHash);
  });
});
