/*
 * Test helper: runs ONNX bytes in onnxruntime-node in a plain node process.
 * Inside Jest's sandbox, tensors the native binding returns are typed arrays
 * of another realm and onnxruntime-common rejects them, so inference is run
 * outside it. Only tests import this file.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

export interface OnnxRunOutput {
  dims: number[];
  type: string;
  data: number[];
}

const SCRIPT = `
const fs = require('fs');
const ort = require(process.argv[1]);
(async () => {
  const session = await ort.InferenceSession.create(process.argv[2], {
    intraOpNumThreads: 1, interOpNumThreads: 1,
  });
  const feeds = {};
  for (const [name, f] of Object.entries(JSON.parse(fs.readFileSync(process.argv[3], 'utf8')))) {
    feeds[name] = new ort.Tensor('float32', Float32Array.from(f.data), f.dims);
  }
  const results = await session.run(feeds);
  const out = {};
  for (const [name, t] of Object.entries(results)) {
    out[name] = { dims: t.dims.map(Number), type: t.type, data: Array.from(t.data, Number) };
  }
  process.stdout.write(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
`;

/** Runs the model on FP32 feeds ({ input: { data, dims } }) and returns every output. */
export function runOnnx(
  model: Uint8Array,
  feeds: Record<string, { data: number[]; dims: number[] }>,
): Record<string, OnnxRunOutput> {
  const dir = mkdtempSync(join(tmpdir(), 'loopline-onnx-run-'));
  try {
    const modelFile = join(dir, 'model.onnx');
    const feedsFile = join(dir, 'feeds.json');
    writeFileSync(modelFile, model);
    writeFileSync(feedsFile, JSON.stringify(feeds));
    const output = execFileSync(
      process.execPath,
      ['-e', SCRIPT, require.resolve('onnxruntime-node'), modelFile, feedsFile],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    return JSON.parse(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
