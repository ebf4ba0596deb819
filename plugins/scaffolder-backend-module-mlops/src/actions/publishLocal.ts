import { ConflictError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { LocalGitRepositories } from '../localGit';
import { resolveInWorkspace } from './workspace';

export const PUBLISH_LOCAL_ID = 'mlops:publish:local';

/**
 * `mlops:publish:local`: the embedded demo's publisher. Commits the
 * workspace into a new bare repository on the portal's disk, which
 * developers clone over HTTP and the catalog reads. Production templates
 * publish with `publish:github` or `publish:gitlab` instead.
 */
export function createPublishLocalAction(options: {
  repositories: LocalGitRepositories;
}) {
  const { repositories } = options;
  return createTemplateAction({
    id: PUBLISH_LOCAL_ID,
    description:
      'Publishes the workspace to a new git repository served by the portal itself (for the embedded demo: no external service); fails if the repository exists',
    supportsDryRun: true,
    examples: [
      {
        description: 'Publish the generated project to the portal’s git server',
        example: [
          'steps:',
          '  - id: publish-local',
          '    name: Publish',
          '    action: mlops:publish:local',
          '    input:',
          '      repoName: ${{ parameters.name }}',
          '      description: ${{ parameters.description }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        repoName: z =>
          z
            .string()
            .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/i)
            .describe(
              'Name of the new repository (letters, digits, ., _ and -)',
            ),
        description: z =>
          z.string().optional().describe('Description of the repository'),
        defaultBranch: z =>
          z
            .string()
            .regex(/^[A-Za-z0-9._/-]+$/)
            .optional()
            .describe('The branch to commit to (default main)'),
        sourcePath: z =>
          z
            .string()
            .optional()
            .describe('Part of the workspace to publish (default all of it)'),
        gitCommitMessage: z =>
          z
            .string()
            .optional()
            .describe('The commit message (default "Initial commit")'),
      },
      output: {
        remoteUrl: z => z.string().describe('The repository’s URL, to clone'),
        cloneUrl: z => z.string().describe('The URL for git clone'),
        repoContentsUrl: z =>
          z
            .string()
            .describe('The default branch’s files, for catalog:register'),
        catalogInfoUrl: z =>
          z
            .string()
            .describe(
              'The catalog-info.yaml at the root, for catalog:register',
            ),
        commitHash: z =>
          z.string().describe('The commit pushed (empty in a dry run)'),
      },
    },
    async handler(ctx) {
      const name = ctx.input.repoName;
      const branch = ctx.input.defaultBranch ?? 'main';
      const urls = repositories.urlsOf(name, branch);
      if (ctx.isDryRun && (await repositories.exists(name))) {
        // A taken name fails the dry run as the real run would.
        throw new ConflictError(
          `The repository '${name}' already exists; choose another name`,
        );
      }
      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would publish to ${urls.remoteUrl}`);
      } else {
        const user = ctx.user?.entity;
        const { commitHash } = await repositories.create({
          name,
          sourceDir: resolveInWorkspace(
            ctx.workspacePath,
            ctx.input.sourcePath ?? '.',
          ),
          branch,
          description: ctx.input.description,
          message: ctx.input.gitCommitMessage ?? 'Initial commit',
          author: {
            name:
              (user?.spec?.profile as { displayName?: string } | undefined)
                ?.displayName ??
              user?.metadata.name ??
              'Loopline scaffolder',
            email:
              (user?.spec?.profile as { email?: string } | undefined)?.email ??
              'scaffolder@loopline.invalid',
          },
        });
        ctx.logger.info(`Published ${commitHash} to ${urls.remoteUrl}`);
        ctx.output('commitHash', commitHash);
      }
      ctx.output('remoteUrl', urls.remoteUrl);
      ctx.output('cloneUrl', urls.remoteUrl);
      ctx.output('repoContentsUrl', urls.repoContentsUrl);
      ctx.output('catalogInfoUrl', urls.catalogInfoUrl);
      if (ctx.isDryRun) ctx.output('commitHash', '');
    },
  });
}
