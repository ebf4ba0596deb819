export interface Config {
  loopline?: {
    /**
     * The embedded demo's git server: `mlops:publish:local` publishes new
     * projects into bare repositories on the portal's disk, served for
     * `git clone` at `<backend.baseUrl>/api/scaffolder/git/<name>.git` and read
     * by the catalog (add `localGitUrlReaderFactory` to the backend). Not for
     * production: publish with publish:github or publish:gitlab there.
     */
    localGit?: {
      /** Turns the git server and `mlops:publish:local` on. */
      enabled?: boolean;
      /** Where the bare repositories are kept; default `<tmp>/loopline/git`. */
      directory?: string;
    };
  };
}
