import { Readable } from 'node:stream';
import type {
  UrlReaderService,
  UrlReaderServiceReadTreeResponse,
  UrlReaderServiceReadUrlOptions,
  UrlReaderServiceReadUrlResponse,
  UrlReaderServiceSearchResponse,
} from '@backstage/backend-plugin-api';
import { NotModifiedError, NotFoundError } from '@backstage/errors';
import { LocalGitRepositories } from './LocalGitRepositories';

/**
 * Reads `<baseUrl>/<name>.git/blob/<branch>/<path>` straight from the bare
 * repository on disk, so the catalog's Location for a published project
 * refreshes from the repository itself. The etag is the branch's commit.
 */
export class LocalGitUrlReader implements UrlReaderService {
  constructor(private readonly repositories: LocalGitRepositories) {}

  /** Whether `url` is one of ours. */
  handles(url: URL): boolean {
    return url.toString().startsWith(`${this.repositories.config.baseUrl}/`);
  }

  private parse(url: string): { name: string; ref: string; filePath: string } {
    const rest = url.slice(this.repositories.config.baseUrl.length + 1);
    const match = /^([^/]+)\.git\/blob\/([^/]+)\/(.+)$/.exec(
      rest.split(/[?#]/)[0],
    );
    if (!match) {
      throw new NotFoundError(
        `${url} is not a file of a local repository (<repo>.git/blob/<branch>/<path>)`,
      );
    }
    return {
      name: match[1],
      ref: decodeURIComponent(match[2]),
      filePath: decodeURIComponent(match[3]),
    };
  }

  async readUrl(
    url: string,
    options?: UrlReaderServiceReadUrlOptions,
  ): Promise<UrlReaderServiceReadUrlResponse> {
    const { name, ref, filePath } = this.parse(url);
    const { content, commitHash } = await this.repositories.readFile(
      name,
      ref,
      filePath,
    );
    if (options?.etag && options.etag === commitHash) {
      throw new NotModifiedError();
    }
    return {
      buffer: async () => content,
      stream: () => Readable.from([content]),
      etag: commitHash,
    };
  }

  async readTree(): Promise<UrlReaderServiceReadTreeResponse> {
    throw new NotFoundError('Local repositories are read file by file');
  }

  async search(url: string): Promise<UrlReaderServiceSearchResponse> {
    // Exact paths only (what catalog:register writes).
    const response = await this.readUrl(url);
    return {
      files: [{ url, content: response.buffer }],
      etag: response.etag ?? '',
    };
  }

  toString() {
    return `localGit{baseUrl=${this.repositories.config.baseUrl}}`;
  }
}
