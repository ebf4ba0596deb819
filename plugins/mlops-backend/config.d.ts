export interface Config {
  /** Loopline's backend plugin (`@loopline/plugin-mlops-backend`). */
  mlops?: {
    api?: {
      /**
       * Largest JSON request body the native API accepts, in the notation of
       * the `bytes` package (e.g. `1mb`). Larger bodies get a 413.
       * Defaults to `1mb`.
       */
      jsonBodyLimit?: string;
    };
  };
}
