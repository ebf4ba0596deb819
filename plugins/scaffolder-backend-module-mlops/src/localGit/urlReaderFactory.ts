import { createServiceFactory } from '@backstage/backend-plugin-api';
import { urlReaderFactoriesServiceRef } from '@backstage/backend-defaults/urlReader';
import {
  LocalGitRepositories,
  readLocalGitConfig,
} from './LocalGitRepositories';
import { LocalGitUrlReader } from './LocalGitUrlReader';

/**
 * Lets every plugin's UrlReader (the catalog's above all) read the files of
 * the local repositories, when `loopline.localGit.enabled` is set. Add it
 * to the backend: `backend.add(localGitUrlReaderFactory)`.
 *
 * @public
 */
export const localGitUrlReaderFactory = createServiceFactory({
  service: urlReaderFactoriesServiceRef,
  deps: {},
  async factory() {
    return ({ config }) => {
      const localGit = readLocalGitConfig(config);
      if (!localGit) {
        return [];
      }
      const reader = new LocalGitUrlReader(new LocalGitRepositories(localGit));
      return [{ reader, predicate: (url: URL) => reader.handles(url) }];
    };
  },
});
