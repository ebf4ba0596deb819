/*
 * `npm run bench:drift`: the drift report's cost against scipy's, in one run
 * on one machine. 20 numerical features, 100,000 reference rows and 100,000
 * current rows (normal samples from a seeded generator; 5 features shifted):
 *   (a) Loopline, KS named for every feature, from stored reference profiles
 *       (the reference sorted once, as the store keeps it): profiling the
 *       current window (sort) and the 20 tests with their p-values;
 *   (b) the same with Evidently's automatic choice (> 1000 reference rows:
 *       normed Wasserstein);
 *   (c) scipy's `ks_2samp` on the same 20 pairs (python3 with scipy, timed
 *       inside Python, without process start and file reading).
 * Memory: the heap and RSS growth of (a). Each is the median of BENCH_RUNS
 * (default 5) runs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ColumnProfile,
  compareProfiles,
  mulberry32,
  profileColumn,
} from '../src/monitoring/statistics';

const FEATURES = 20;
const ROWS = 100_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function normals(n: number, seed: number, mean: number): Float64Array {
  const random = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = random() || 1e-12;
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = mean + r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const reference: Float64Array[] = [];
const current: Float64Array[] = [];
for (let f = 0; f < FEATURES; f++) {
  reference.push(normals(ROWS, 1000 + f, 0));
  current.push(normals(ROWS, 2000 + f, f < 5 ? 0.05 : 0));
}

// The stored profiles: built once, outside the timed report.
const profileStart = performance.now();
const referenceProfiles: Record<string, ColumnProfile> = {};
reference.forEach((values, f) => {
  referenceProfiles[`f${f}`] = profileColumn(Array.from(values));
});
const profileMs = performance.now() - profileStart;

function report(method?: 'ks') {
  const currentProfiles: Record<string, ColumnProfile> = {};
  current.forEach((values, f) => {
    currentProfiles[`f${f}`] = profileColumn(Array.from(values));
  });
  const methods = method
    ? Object.fromEntries(Object.keys(currentProfiles).map(k => [k, method]))
    : undefined;
  return compareProfiles(referenceProfiles, currentProfiles, { methods });
}

const ks: number[] = [];
const auto: number[] = [];
let heapGrowth = 0;
let rssGrowth = 0;
let lastKs;
for (let run = 0; run < RUNS; run++) {
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  let t = performance.now();
  lastKs = report('ks');
  ks.push(performance.now() - t);
  heapGrowth = Math.max(heapGrowth, process.memoryUsage().heapUsed - heap0);
  rssGrowth = Math.max(rssGrowth, process.memoryUsage().rss - rss0);
  t = performance.now();
  report();
  auto.push(performance.now() - t);
}

// scipy on the same samples.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-bench-drift-'));
fs.writeFileSync(
  path.join(dir, 'ref.f64'),
  Buffer.concat(reference.map(a => Buffer.from(a.buffer))),
);
fs.writeFileSync(
  path.join(dir, 'cur.f64'),
  Buffer.concat(current.map(a => Buffer.from(a.buffer))),
);
const python = `
import json, sys, time, numpy as np, scipy
from scipy.stats import ks_2samp
ref = np.fromfile(sys.argv[1] + '/ref.f64', dtype='<f8').reshape(${FEATURES}, ${ROWS})
cur = np.fromfile(sys.argv[1] + '/cur.f64', dtype='<f8').reshape(${FEATURES}, ${ROWS})
times, p = [], None
for _ in range(${RUNS}):
    t = time.perf_counter()
    p = [ks_2samp(ref[f], cur[f]).pvalue for f in range(${FEATURES})]
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"scipy": scipy.__version__, "times": times, "p": [float(x) for x in p]}))
`;
const scipy = spawnSync('python3', ['-c', python, dir], { encoding: 'utf8' });
fs.rmSync(dir, { recursive: true, force: true });
let scipyMs: number | undefined;
let scipyVersion = 'not available';
let maxRelDiff: number | undefined;
if (scipy.status === 0) {
  const out = JSON.parse(scipy.stdout);
  scipyMs = median(out.times);
  scipyVersion = out.scipy;
  maxRelDiff = Math.max(
    ...lastKs!.features.map((f, i) => {
      const q = out.p[i] as number;
      return q === 0 && f.pValue === 0
        ? 0
        : Math.abs(f.pValue! - q) / Math.max(q, 1e-300);
    }),
  );
} else {
  process.stderr.write(`python3 with scipy failed: ${scipy.stderr}\n`);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
process.stdout.write(
  [
    `drift report, ${FEATURES} numerical features, ${ROWS.toLocaleString(
      'en-US',
    )} reference and ${ROWS.toLocaleString(
      'en-US',
    )} current rows, median of ${RUNS} (node ${process.version}, ${
      os.cpus()[0]?.model
    } x ${os.cpus().length}, load average ${os
      .loadavg()
      .map(l => l.toFixed(1))
      .join(' / ')} (1 / 5 / 15 min), scipy ${scipyVersion})`,
    '',
    '| what | median ms | vs scipy ks_2samp |',
    '| --- | --- | --- |',
    `| Loopline: KS on every feature, from stored reference profiles | ${median(
      ks,
    ).toFixed(0)} | ${
      scipyMs ? `${(median(ks) / scipyMs).toFixed(2)}x` : '-'
    } |`,
    `| Loopline: Evidently's automatic choice (normed Wasserstein) | ${median(
      auto,
    ).toFixed(0)} | ${
      scipyMs ? `${(median(auto) / scipyMs).toFixed(2)}x` : '-'
    } |`,
    `| scipy ks_2samp on the same 20 pairs | ${
      scipyMs?.toFixed(0) ?? '-'
    } | 1.00x |`,
    '',
    `Reference profiles (built once, stored): ${profileMs.toFixed(
      0,
    )} ms. Memory of one KS report: heap +${mb(heapGrowth)}, RSS +${mb(
      rssGrowth,
    )} (rss now ${mb(process.memoryUsage().rss)}).`,
    maxRelDiff !== undefined
      ? `Largest relative difference of the 20 p-values from scipy's: ${maxRelDiff.toExponential(
          2,
        )}.`
      : '',
    '',
  ].join('\n'),
);
