export interface Config {
  /** Settings of the Loopline demo app. */
  loopline?: {
    /**
     * Lets the sign-in page act as the demo catalog's users, through the
     * backend's `demo` auth provider, so that permissions can be seen at work.
     * Without it the page offers guest sign-in only.
     */
    demoSignIn?: {
      /** The users offered, in this order. */
      users: Array<{
        /**
         * The name of the catalog User to sign in as (`user:default/<name>`).
         * @visibility frontend
         */
        name: string;
        /**
         * The name shown on the page; defaults to `name`.
         * @visibility frontend
         */
        displayName?: string;
        /**
         * A line about the user, e.g. the team and what it may do.
         * @visibility frontend
         */
        description?: string;
      }>;
    };
  };
}
