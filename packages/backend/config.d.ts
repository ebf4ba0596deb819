export interface Config {
  /** Settings of the Loopline demo backend. */
  loopline?: {
    permission?: {
      /**
       * Refs of the groups whose members may do everything (e.g.
       * `group:default/ml-platform`); everyone else reads, and changes only
       * what they own.
       */
      platformGroups?: string[];
    };
  };
  auth?: {
    providers?: {
      /**
       * Enables the demo sign-in, which acts as any catalog User named in the
       * `x-loopline-demo-user` header. For the embedded demo only: it trusts
       * the header, so never configure it in production.
       */
      demo?: {};
    };
  };
}
