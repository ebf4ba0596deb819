#!/usr/bin/env node
// A traffic generator for the rollout demo: sends the wine-quality rows of
// examples/data/winequality.csv to the model's predict route at a steady
// rate (routed by the model's deployment, so a canary gets its share), and
// reports each request's true quality as ground truth. No dependencies.
//
//   node examples/rollout/traffic.mjs [--rps 20] [--seconds 600] [--model wine-quality]
//                                     [--drift alcohol,sulphates] [--shift 1.5]
//
// Drift mode (--drift): the named features of each real row are shifted by
// --shift times their standard deviation over the file (default 1.5), as if
// the lab or the grapes changed; the ground truth stays the row's own, so
// the model's error grows too. The Drift tab then shows those features as
// drifted within the Model's schedule.
//
// Environment: LOOPLINE_URL (default http://localhost:7007),
// LOOPLINE_TOKEN (default the demo's static token).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map(pair => pair.trim().split(/\s+/)),
);
const rps = Number(args.rps ?? 20);
const seconds = Number(args.seconds ?? 600);
const model = args.model ?? 'wine-quality';
const base = (process.env.LOOPLINE_URL ?? 'http://localhost:7007') + '/api/mlops';
const headers = {
  Authorization: `Bearer ${process.env.LOOPLINE_TOKEN ?? 'loopline-demo-token-change-me'}`,
  'Content-Type': 'application/json',
};

const here = path.dirname(fileURLToPath(import.meta.url));
const [header, ...lines] = fs
  .readFileSync(path.join(here, '../data/winequality.csv'), 'utf8')
  .trim()
  .split('\n');
const columns = header.split(',');
const rows = lines.map(line => {
  const cells = line.split(',');
  return Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
});

const drifted = (args.drift ?? '').split(',').filter(Boolean);
const shift = Number(args.shift ?? 1.5);
const shiftOf = Object.fromEntries(
  drifted.map(name => {
    const values = rows.map(r => Number(r[name])).filter(Number.isFinite);
    if (values.length === 0) {
      console.error(`--drift: no numeric column ${name} in winequality.csv`);
      process.exit(1);
    }
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    return [name, shift * sd];
  }),
);

const schema = await fetch(`${base}/serving/models/${model}/schema`, { headers });
if (!schema.ok) {
  console.error(`Cannot read the schema of ${model}: ${schema.status} ${await schema.text()}`);
  process.exit(1);
}
const { features } = await schema.json();
const featuresOf = row =>
  Object.fromEntries(
    features.map(({ name }) => [
      name,
      name === 'is_red'
        ? row.color === 'red'
          ? 1
          : 0
        : Number(row[name]) + (shiftOf[name] ?? 0),
    ]),
  );

const counts = { sent: 0, ok: 0, failed: 0, byVersion: {} };
let truths = [];
async function one(i) {
  const row = rows[Math.floor(Math.random() * rows.length)];
  counts.sent += 1;
  try {
    const res = await fetch(`${base}/serving/models/${model}/predict`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ features: featuresOf(row) }),
    });
    const body = await res.json();
    if (!res.ok) {
      counts.failed += 1;
      if (counts.failed <= 3) console.error(`request ${i}: ${res.status} ${JSON.stringify(body)}`);
      return;
    }
    counts.ok += 1;
    counts.byVersion[body.version] = (counts.byVersion[body.version] ?? 0) + 1;
    truths.push({ requestId: body.requestId, groundTruth: Number(row.quality) });
  } catch (error) {
    counts.failed += 1;
    if (counts.failed <= 3) console.error(`request ${i}: ${error.message}`);
  }
}

async function flushTruths() {
  if (truths.length === 0) return;
  const batch = truths;
  truths = [];
  await fetch(`${base}/serving/ground-truth`, {
    method: 'POST',
    headers,
    body: JSON.stringify(batch),
  }).catch(() => {});
}

console.log(
  `Sending ${rps} requests/s to ${model} for ${seconds} s (Ctrl-C stops)${
    drifted.length ? `, ${drifted.join(', ')} shifted by ${shift} sd` : ''
  }`,
);
const started = Date.now();
let i = 0;
const timer = setInterval(() => {
  for (let k = 0; k < rps / 10; k++) void one((i += 1));
}, 100);
const report = setInterval(async () => {
  await flushTruths();
  const elapsed = Math.round((Date.now() - started) / 1000);
  console.log(
    `${elapsed}s sent ${counts.sent} ok ${counts.ok} failed ${counts.failed} answered by version ${JSON.stringify(counts.byVersion)}`,
  );
  counts.byVersion = {};
  if (elapsed >= seconds) {
    clearInterval(timer);
    clearInterval(report);
  }
}, 5000);
