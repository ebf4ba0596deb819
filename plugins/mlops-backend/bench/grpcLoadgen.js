/*
 * The gRPC load generator of `npm run bench:dataplane`, in its own process
 * like loadgen.js: `concurrency` ModelInfer calls in flight on one channel,
 * raw_input_contents, reporting throughput and latency percentiles over IPC.
 *
 * Message in:  { address, protoPath, request (raw_input_contents as base64), token, concurrency, durationMs, warmupMs? }
 * Message out: { requests, errors, firstError?, seconds, throughput, p50, p99,
 *   total (requests sent, warm-up included), cpuMicros (this process's CPU) }
 */
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, index)];
}

async function run({
  address,
  protoPath,
  request,
  token,
  concurrency,
  durationMs,
  warmupMs = 1000,
}) {
  const definition = protoLoader.loadSync(protoPath, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const proto = grpc.loadPackageDefinition(definition);
  const client = new proto.inference.GRPCInferenceService(
    address,
    grpc.credentials.createInsecure(),
  );
  const message = {
    ...request,
    raw_input_contents: request.raw_input_contents.map(b =>
      Buffer.from(b, 'base64'),
    ),
  };
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const call = () =>
    new Promise(resolve => {
      const start = process.hrtime.bigint();
      client.ModelInfer(message, metadata, error => {
        resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, error });
      });
    });
  const latencies = [];
  let errors = 0;
  let firstError;
  let total = 0;
  const cpuStart = process.cpuUsage();
  let measuring = false;
  let started = 0n;
  const warmupEnd = Date.now() + warmupMs;
  let deadline = Infinity;
  async function worker() {
    for (;;) {
      const now = Date.now();
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        started = process.hrtime.bigint();
        deadline = now + durationMs;
      }
      if (measuring && now >= deadline) return;
      const countIt = measuring;
      const r = await call();
      total++;
      if (!countIt) continue;
      if (r.error) {
        errors++;
        firstError ??= String(r.error.message ?? r.error);
      } else latencies.push(r.ms);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length + errors,
    errors,
    firstError,
    seconds,
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    total,
    cpuMicros: (({ user, system }) => user + system)(
      process.cpuUsage(cpuStart),
    ),
  };
}

process.on('message', async message => {
  const result = await run(message);
  process.send(result, () => process.exit(0));
});
