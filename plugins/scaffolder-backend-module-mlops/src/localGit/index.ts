export {
  LocalGitRepositories,
  readLocalGitConfig,
} from './LocalGitRepositories';
export type { LocalGitConfig } from './LocalGitRepositories';
export { LocalGitUrlReader } from './LocalGitUrlReader';
export { createLocalGitRouter } from './router';
export { localGitUrlReaderFactory } from './urlReaderFactory';
