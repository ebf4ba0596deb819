/*
 * The benchmark's load generator, run as its own process (child_process.fork)
 * so that it does not share an event loop with what it measures. It keeps
 * `concurrency` requests in flight over keep-alive connections and reports
 * throughput and latency percentiles over IPC.
 *
 * Message in:  { url, body, headers, concurrency, durationMs?, requests?, warmupMs? }
 * Message out: { requests, errors, firstError?, seconds, throughput, p50, p99,
 *   total (requests sent, warm-up included), cpuMicros (this process's CPU) }
 */
const http = require('node:http');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, index)];
}

function send(agent, url, body, headers) {
  return new Promise(resolve => {
    const start = process.hrtime.bigint();
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          ...headers,
        },
      },
      res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          const ok = res.statusCode === 200;
          resolve({
            ms,
            ok,
            error: ok
              ? undefined
              : `${res.statusCode} ${Buffer.concat(chunks)
                  .toString()
                  .slice(0, 200)}`,
          });
        });
      },
    );
    req.on('error', e => resolve({ ms: 0, ok: false, error: e.message }));
    req.end(body);
  });
}

async function run({
  url,
  body,
  headers = {},
  concurrency,
  durationMs,
  requests,
  warmupMs = 1000,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const payload = Buffer.from(body);
  const latencies = [];
  let errors = 0;
  let firstError;
  let sent = 0;
  let total = 0;
  const cpuStart = process.cpuUsage();
  let measuring = false;
  const warmupEnd = Date.now() + warmupMs;
  let deadline = Infinity;
  let started = 0n;

  async function worker() {
    for (;;) {
      const now = Date.now();
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        started = process.hrtime.bigint();
        if (durationMs) deadline = now + durationMs;
      }
      if (
        measuring &&
        (now >= deadline || (requests !== undefined && sent >= requests))
      )
        return;
      if (measuring) sent++;
      const countIt = measuring;
      const r = await send(agent, url, payload, headers);
      total++;
      if (!countIt) continue;
      if (r.ok) latencies.push(r.ms);
      else {
        errors++;
        firstError ??= r.error;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
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
