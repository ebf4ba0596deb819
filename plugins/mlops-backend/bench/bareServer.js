/*
 * Baseline (b) of `npm run bench:serving`: the least a server can do around
 * the same onnxruntime session: a bare node:http server that parses an OIP
 * request for one FP32 input, runs the session and writes the OIP answer.
 * No auth, no validation beyond what the runtime needs, no logging.
 *
 * argv: <model.onnx> <port>; prints "ready" on stdout when listening.
 */
const fs = require('node:fs');
const http = require('node:http');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, port] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(
    fs.readFileSync(modelPath),
    {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    },
  );
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const input = body.inputs[0];
        const feeds = {
          [session.inputNames[0]]: new ort.Tensor(
            'float32',
            Float32Array.from(input.data.flat(Infinity)),
            input.shape,
          ),
        };
        const results = await session.run(feeds);
        const outputs = Object.entries(results).map(([name, t]) => ({
          name,
          datatype: t.type === 'int64' ? 'INT64' : 'FP32',
          shape: t.dims.map(Number),
          data: Array.from(t.data, Number),
        }));
        const answer = JSON.stringify({
          model_name: 'bare',
          id: body.id,
          outputs,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      } catch (e) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: String(e) }));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), '127.0.0.1', () =>
    process.stdout.write('ready\n'),
  );
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
