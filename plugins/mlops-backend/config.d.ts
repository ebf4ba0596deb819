import { HumanDuration } from '@backstage/types';

export interface Config {
  /** Loopline's backend plugin (`@loopline/plugin-mlops-backend`). */
  mlops?: {
    api?: {
      /**
       * Largest JSON request body the native API and the MLflow routes
       * accept, in the notation of the `bytes` package (e.g. `1mb`). Larger
       * bodies get a 413. Defaults to `1mb`.
       */
      jsonBodyLimit?: string;
    };
    artifacts?: {
      /**
       * Folder of the default artifact store (model files and MLflow run
       * artifacts). Defaults to `loopline/artifacts` under the OS's temporary
       * folder, which suits the demo only: set it in production.
       */
      directory?: string;
      /**
       * Largest artifact accepted, in bytes (an upload over it gets a 413).
       * Defaults to 104857600 (100 MiB).
       */
      maxSizeBytes?: number;
    };
    /** The embedded inference server (Open Inference Protocol v2 over onnxruntime-node). */
    serving?: {
      /** Largest inference request body; a larger one gets a 413. Defaults to `mlops.api.jsonBodyLimit`, else `1mb`. */
      jsonBodyLimit?: string;
      /** onnxruntime threads per inference session. Defaults to 1 (the server runs requests side by side). */
      intraOpNumThreads?: number;
      /** onnxruntime inter-op threads per session. Defaults to 1. */
      interOpNumThreads?: number;
      /** Sessions kept in memory; the least recently used is unloaded beyond it. Defaults to 16. */
      maxLoadedModels?: number;
      /** How long the routing (the version in Production) and registry lookups are cached, in ms. Defaults to 2000. */
      routingCacheTtlMs?: number;
      /**
       * How long a caller's verified token and invoke decision are reused by
       * the inference routes, in ms (never past the token's expiry); 0
       * verifies and asks the policy on every request. Defaults to 5000.
       */
      permissionCacheTtlMs?: number;
      /** Load the served versions at startup instead of on their first request. Defaults to false. */
      preload?: boolean;
      /**
       * The data plane: the OIP and predict routes on a port of their own,
       * served by worker processes with their own event loops (node:http, no
       * Express), routing by tables the backend pushes; same tokens,
       * permission, inference log and metrics. Unset: only under /api/mlops.
       * See the README's "Serving data plane".
       */
      dataPlane?: {
        port: number;
        /** Defaults to 0.0.0.0. */
        host?: string;
        /** OIP over gRPC (inference.GRPCInferenceService) on this port too, served by the same workers. Unset: HTTP only. */
        grpcPort?: number;
        /** Worker processes sharing the port, each with its own onnxruntime sessions; a dead one is started again. Defaults to 1. */
        workers?: number;
        /** How often the backend rebuilds the routing table, in ms; it is pushed to the workers only when it changed (and at once after a deployment changes). Defaults to 2000. */
        routingRefreshMs?: number;
        /** Inference log events a worker holds for the backend; beyond it the oldest lose their log record, counted in loopline_dataplane_log_dropped_total (the request metrics still count them). Defaults to 10000. */
        logBufferSize?: number;
        /** How long a worker reuses a verified token, in ms, never past the token's expiry. Defaults to 60000. */
        credentialsCacheTtlMs?: number;
        /**
         * Rate limits per principal on the data plane's inference routes (HTTP and gRPC): a token
         * bucket per principal, shared by every worker; past it, 429 with Retry-After (gRPC:
         * RESOURCE_EXHAUSTED), counted in loopline_dataplane_rate_limited_total{tier}. Absent: no limits.
         */
        rateLimits?: {
          /** Tiers by name. Defaults to basic (60 a minute, burst 10), standard (600, 50), premium (6000, 200). */
          tiers?: {
            [name: string]: {
              /** Requests a minute. */
              perMinute: number;
              /** Requests a principal may make at once. Defaults to perMinute. */
              burst?: number;
            };
          };
          /** The tier of principals not listed under `principals`; unset: they are not limited. */
          defaultTier?: string;
          /** Principal → tier name; principals are `user:<entity ref>` or `service:<subject>` (e.g. `service:external:ci`). */
          principals?: { [principal: string]: string };
        };
      };
      log?: {
        /** Share of successful requests written to the inference log, 0..1 (errors are always written). Defaults to 1. */
        sampleRate?: number;
        /** How often the buffered log is written, in ms. Defaults to 1000. */
        flushIntervalMs?: number;
        /** Largest number of rows per write. Defaults to 500. */
        maxBatchSize?: number;
        /** Largest number of events held while the database is slow; the oldest are dropped (and counted) beyond it. Defaults to 10000. */
        maxBufferSize?: number;
        /** Days the log and ground truth are kept. Defaults to 30. */
        retentionDays?: number;
        /** Longest request or response payload stored, in characters; a longer one is stored as a marker. Defaults to 262144. */
        maxPayloadChars?: number;
        /** How often old rows are purged (a Backstage HumanDuration). Defaults to `{ hours: 1 }`. */
        purgeFrequency?: { [unit: string]: number };
      };
      kserveLogger?: {
        /**
         * Shared secret KServe's request logger sends as `?token=` in its URL
         * (it cannot send an Authorization header). Unset: the route needs a
         * Backstage token.
         * @visibility secret
         */
        token?: string;
        /** Largest CloudEvent body accepted. Defaults to `10mb`. */
        bodyLimit?: string;
      };
      metrics?: {
        /** Also export Node's default process metrics. Defaults to false. */
        collectDefaultMetrics?: boolean;
        /** Most distinct model labels before the rest are counted as `__other__`. Defaults to 1000. */
        maxModels?: number;
      };
      stats?: {
        /** Longest window the stats route accepts, in seconds. Defaults to 86400. */
        maxWindowSeconds?: number;
      };
    };
    /**
     * Model monitoring: drift of each Model's recent requests against its
     * reference Dataset, quality against ground truth, ADWIN, alerts. Each
     * Model's schedule and rules are in its `spec.monitoring`.
     */
    monitoring?: {
      /** How often the global tick looks for due drift checks, in seconds. Defaults to 30. */
      tickIntervalSeconds?: number;
      /** The current window when a Model names none (`spec.monitoring.drift.windowMinutes`). Defaults to 60. */
      windowMinutes?: number;
      /** A window with fewer decoded rows is reported as `insufficient_data`. Defaults to 30. */
      minRows?: number;
      /** A feature with fewer values on either side is `insufficient_data`. Defaults to 5. */
      minFeatureValues?: number;
      /** Larger reference Datasets are reservoir-sampled (seeded) to this many rows. Defaults to 100000. */
      maxReferenceRows?: number;
      /** Larger windows are reservoir-sampled (seeded) to this many rows. Defaults to 100000. */
      maxCurrentRows?: number;
      /** At most this many inference-log rows are read for one window. Defaults to 200000. */
      maxLogRows?: number;
      /** One alert per Model and kind per this many minutes, unless the Model says otherwise. Defaults to 60. */
      alertCooldownMinutes?: number;
      /** Columns one `POST /monitoring/drift/compare` (or an uploaded reference) may send. Defaults to 500. */
      maxCompareColumns?: number;
      /**
       * The largest body of `POST /monitoring/drift/compare` and of
       * `PUT /monitoring/models/:name/reference` (an uploaded reference set),
       * in express's size syntax; larger bodies get 413. Defaults to `16mb`
       * (the other routes keep `mlops.api.jsonBodyLimit`).
       */
      compareBodyLimit?: string;
      /** Ground truth younger than this (ms) waits for the next tick before ADWIN reads it. Defaults to 5000. */
      groundTruthSettleMs?: number;
      /** Optional: Alertmanager, to which each alert is also posted (`POST <url>/api/v2/alerts`). */
      alertmanager?: {
        /** Alertmanager's base URL, e.g. `http://alertmanager:9093`. */
        url: string;
      };
    };
    /** Progressive delivery: deployments per model and environment, rollouts and their analysis. */
    rollout?: {
      /**
       * Where models are deployed. Defaults to `production` (stage
       * Production) and `staging` (stage Staging), both `embedded`.
       */
      environments?: Array<{
        /** Lower-case letters, digits and dashes, at most 32. */
        name: string;
        /** `embedded` (this backend serves it) or `kserve`. Defaults to `embedded`. */
        target?: 'embedded' | 'kserve';
        /** The registry stage a promotion moves the candidate to. */
        stage?: 'None' | 'Staging' | 'Production' | 'Archived';
      }>;
      /** The environment whose deployment routes the embedded server's requests. Defaults to `production`. */
      servingEnvironment?: string;
      /** How often running rollouts are analysed, e.g. `{ seconds: 30 }` (the default). */
      analysisInterval?: HumanDuration | string;
      /** The SLO a candidate must meet at each step unless the rollout overrides it. */
      slo?: {
        /** Requests the candidate must serve in the window before it is judged. Defaults to 50. */
        minRequests?: number;
        /** Highest share of failed requests, 0..1. Defaults to 0.01. */
        maxErrorRate?: number;
        maxLatencyP95Ms?: number;
        /** Defaults to 250. */
        maxLatencyP99Ms?: number;
        /** Shadow: lowest share of copies whose answer agrees with stable's, 0..1. */
        minAgreement?: number;
      };
      /** Default candidate weights per strategy, in percent. */
      steps?: {
        /** Defaults to [10, 25, 50, 100]. */
        canary?: number[];
        /** Share of traffic copied. Defaults to [100]. */
        shadow?: number[];
        /** The candidate's share. Defaults to [50]. */
        ab?: number[];
        /** Defaults to [100]. */
        'blue-green'?: number[];
      };
      /** Only versions in Staging may be rolled out. Defaults to false. */
      requireStaging?: boolean;
      /** Promotion archives the version that was in the stage. Defaults to true. */
      archivePrevious?: boolean;
      /** The header an A/B rollout reads its sticky key from. Defaults to `x-loopline-ab-key`. */
      abKeyHeader?: string;
      /** The KServe target, for environments with `target: kserve`. */
      kserve?: {
        /** The namespace every InferenceService is written to (lower-case letters, digits, dashes; at most 63). */
        namespace: string;
        /**
         * A version's storageUri, with `{model}` (URI-encoded), `{version}` and `{sha256}`,
         * e.g. `s3://models/{model}/{version}/model.onnx`. Must contain `{version}` or `{sha256}`.
         */
        storageUriTemplate: string;
        /**
         * Our KServe logger route as the cluster reaches it, e.g.
         * `http://loopline.loopline.svc:7007/api/mlops/serving/kserve/logger`.
         * The token sent is `mlops.serving.kserveLogger.token`.
         */
        loggerUrl: string;
        /**
         * The name of a cluster in the Backstage Kubernetes plugin's configuration
         * (`kubernetes.clusterLocatorMethods`, type `config`): its url,
         * serviceAccountToken, skipTLSVerify and caData are used.
         */
        kubernetesCluster?: string;
        /** A kubeconfig file (its current context is used). Without this, `kubernetesCluster` and `cluster`: KUBECONFIG, ~/.kube/config or in-cluster. */
        kubeconfig?: string;
        /** An API server given inline instead of `kubeconfig`. */
        cluster?: {
          /** e.g. `https://10.0.0.1:6443` (plain http needs `skipTLSVerify: true`). */
          url: string;
          /** @visibility secret */
          token?: string;
          skipTLSVerify?: boolean;
          /** The API server's CA certificate, base64-encoded PEM. */
          caData?: string;
        };
      };
    };
    /** Pipeline runs (`/api/mlops/pipelines`). */
    pipelines?: {
      /** Folder of the runs' workspaces (one per run). Defaults to `loopline/pipelines` under the OS's temporary folder. */
      workspaceDirectory?: string;
      local?: {
        /** Steps without `timeoutSeconds` are killed (their process group) after this. Defaults to 3600. */
        defaultTimeoutSeconds?: number;
        /** Variables of the backend's environment passed on to steps besides PATH, HOME, LANG, LC_ALL, TZ and TMPDIR (e.g. PYTHONPATH). No others leak. */
        passEnv?: string[];
      };
      logs?: {
        /** Days the log lines of finished runs are kept. Defaults to 30. */
        retentionDays?: number;
        /** Lines kept per step attempt; later ones are dropped with a note. Defaults to 100000. */
        maxLinesPerStep?: number;
      };
      schedule?: {
        /** A schedule slot missed (all backends down) by more than this is not run; only the latest missed slot runs. Defaults to 60. */
        maxLatenessMinutes?: number;
      };
      /** How often a backend marks its running runs alive. Defaults to 5. */
      heartbeatIntervalSeconds?: number;
      /** A running run whose backend has not beaten for this long is failed (and its steps stopped). Defaults to 60. */
      staleAfterSeconds?: number;
      /** OPENLINEAGE_URL of the steps and where run events are posted (`<url>/api/v1/lineage`). Defaults to this backend's `/api/mlops/openlineage`. */
      openLineageUrl?: string;
      /** MLFLOW_TRACKING_URI of the steps. Defaults to this backend's `/api/mlops/mlflow`. */
      trackingUri?: string;
      /** The Kubernetes runner (`spec.runner.type: kubernetes`): each step a `batch/v1` Job. Unset: pipelines asking for it are refused. */
      kubernetes?: {
        /** A cluster's name in the Kubernetes plugin's config (`kubernetes.clusterLocatorMethods[].clusters[]`, type `config`); a pipeline's `spec.runner.cluster` overrides it. Unset: the client's defaults (KUBECONFIG, ~/.kube/config, in-cluster service account). */
        cluster?: string;
        /** The Jobs' namespace unless a pipeline's `spec.runner.namespace` says otherwise. Defaults to `default`. */
        namespace?: string;
        /** The image of steps that name none (neither the step's `image` nor `spec.runner.image`). */
        image?: string;
        /** `activeDeadlineSeconds` of steps without `timeoutSeconds`. Defaults to 3600. */
        defaultTimeoutSeconds?: number;
        /** Finished Jobs are deleted this long after they finish (`ttlSecondsAfterFinished`, and the backend's own cleanup). Defaults to 3600. */
        ttlSecondsAfterFinished?: number;
        /** Between two reads of a running Job's status. Defaults to 2. */
        pollIntervalSeconds?: number;
      };
    };
    /** OpenLineage ingest and the Marquez-compatible lineage API. */
    lineage?: {
      /**
       * Largest OpenLineage request body (one event or a batch), in the
       * notation of the `bytes` package. Larger bodies get a 413. Defaults
       * to `5mb`.
       */
      jsonBodyLimit?: string;
      /**
       * Days kept of raw events, of runs (but each job's latest) and of
       * dataset versions that are no longer current; checked hourly.
       * Unset: everything is kept.
       */
      retentionDays?: number;
    };
    demo?: {
      /**
       * When true, at startup the plugin trains the demo models from
       * `examples/data`, logs their runs and registers two versions of each
       * (one in Production, one in Staging), unless they exist already.
       * For the embedded demo; defaults to false.
       */
      seed?: boolean;
    };
  };
}
