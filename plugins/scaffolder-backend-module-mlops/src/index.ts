/**
 * Loopline's scaffolder module: the `mlops:*` template actions.
 *
 * @packageDocumentation
 */
export { scaffolderModuleMlops as default } from './module';
export * from './actions';
export {
  LocalGitRepositories,
  LocalGitUrlReader,
  localGitUrlReaderFactory,
  readLocalGitConfig,
} from './localGit';
export type { LocalGitConfig } from './localGit';
