/*
 * `npm run bench:encoding`: the OIP response body for FP32 outputs, as the
 * data plane writes it (decodeTensor's plain array, then JSON.stringify)
 * against the "fast path for numeric outputs" issue 10 proposed: the body's
 * text written directly from the output's Float32Array, by concatenation or
 * by the typed array's join. Each encoder makes the same bytes (checked) and
 * is timed to a Buffer's byte length, so a rope string's flattening counts.
 * Fresh random outputs each call: V8 caches the text of numbers it has just
 * printed, which would flatter the hand-written encoders.
 *
 * Environment: BENCH_CALLS (per encoder and run, default 100000), BENCH_RUNS
 * (default 5; the table shows medians).
 */
import { decodeTensor } from '../src/serving/codec';

const CALLS = Number(process.env.BENCH_CALLS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

type Encoder = (output: Float32Array, rows: number) => string;

const head = (rows: number) =>
  `{"model_name":"wine-quality","model_version":"3","id":"bench","outputs":[{"name":"variable","datatype":"FP32","shape":[${rows},1],"data":[`;

const encoders: Record<string, Encoder> = {
  // What the data plane does.
  'decodeTensor + JSON.stringify': (output, rows) =>
    JSON.stringify({
      model_name: 'wine-quality',
      model_version: '3',
      id: 'bench',
      outputs: [
        decodeTensor('variable', {
          type: 'float32',
          dims: [rows, 1],
          data: output,
        }),
      ],
    }),
  concatenation: (output, rows) => {
    let data = '';
    for (let i = 0; i < output.length; i++) {
      const v = output[i];
      data += (i ? ',' : '') + (v - v === 0 ? v : `"${v}"`);
    }
    return `${head(rows)}${data}]}]}`;
  },
  'Float32Array.join': (output, rows) => `${head(rows)}${output.join(',')}]}]}`,
};

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main() {
  console.log(
    `${CALLS} calls per encoder and run, median of ${RUNS} runs; Node ${process.version}\n`,
  );
  console.log('| batch | encoder | µs per response | ÷ JSON.stringify |');
  console.log('| --- | --- | --- | --- |');
  for (const rows of [1, 64]) {
    const pool = Array.from({ length: 1000 }, () =>
      new Float32Array(rows).map(() => Math.random() * 10),
    );
    const expected = encoders['decodeTensor + JSON.stringify'](pool[0], rows);
    for (const [name, encode] of Object.entries(encoders)) {
      if (encode(pool[0], rows) !== expected) {
        throw new Error(`${name} writes other bytes than JSON.stringify`);
      }
    }
    const micros: Record<string, number[]> = {};
    for (let run = 0; run < RUNS; run++) {
      for (const [name, encode] of Object.entries(encoders)) {
        const start = process.hrtime.bigint();
        let bytes = 0;
        for (let k = 0; k < CALLS; k++) {
          bytes += Buffer.byteLength(encode(pool[k % pool.length], rows));
        }
        const elapsed = Number(process.hrtime.bigint() - start) / 1000;
        if (bytes === 0) throw new Error('nothing encoded');
        (micros[name] ??= []).push(elapsed / CALLS);
      }
    }
    const baseline = median(micros['decodeTensor + JSON.stringify']);
    for (const name of Object.keys(encoders)) {
      const m = median(micros[name]);
      console.log(
        `| ${rows} | ${name} | ${m.toFixed(2)} | ${(m / baseline).toFixed(
          2,
        )}x |`,
      );
    }
  }
}

main();
