import { ServingMetrics, OTHER_MODELS_LABEL } from './metrics';
import { InferenceEvent } from './log/types';

const event = (overrides: Partial<InferenceEvent> = {}): InferenceEvent => ({
  requestId: 'r',
  modelName: 'wine-quality',
  version: 2,
  route: 'oip',
  status: 'ok',
  httpStatus: 200,
  latencyMs: 3,
  timestamp: 0,
  ...overrides,
});

describe('ServingMetrics', () => {
  it('counts requests and observes durations in seconds', async () => {
    const metrics = new ServingMetrics();
    metrics.observe(event());
    metrics.observe(event({ latencyMs: 40 }));
    metrics.observe(
      event({
        status: 'error',
        httpStatus: 400,
        version: undefined,
        latencyMs: 0.2,
      }),
    );
    metrics.logDropped(3, 'buffer_full');

    const text = await metrics.metricsText();
    expect(text).toContain(
      'loopline_inference_requests_total{model="wine-quality",version="2",route="oip",status="ok"} 2',
    );
    expect(text).toContain(
      'loopline_inference_requests_total{model="wine-quality",version="none",route="oip",status="error"} 1',
    );
    expect(text).toContain(
      'loopline_inference_request_duration_seconds_bucket{le="0.005",model="wine-quality",version="2",route="oip"} 1',
    );
    expect(text).toContain(
      'loopline_inference_request_duration_seconds_bucket{le="0.05",model="wine-quality",version="2",route="oip"} 2',
    );
    expect(text).toContain(
      'loopline_inference_request_duration_seconds_sum{model="wine-quality",version="2",route="oip"} 0.043',
    );
    expect(text).toContain(
      'loopline_inference_log_dropped_total{reason="buffer_full"} 3',
    );
    expect(text).toContain(
      'loopline_inference_log_dropped_total{reason="write_failed"} 0',
    );
    expect(text).toContain(
      '# TYPE loopline_inference_request_duration_seconds histogram',
    );
    expect(metrics.contentType).toMatch(/^text\/plain; version=0.0.4/);
  });

  it('keeps two instances apart (no global registry)', async () => {
    const a = new ServingMetrics();
    const b = new ServingMetrics({ collectDefaultMetrics: true });
    a.observe(event());
    expect(await a.metricsText()).toContain('status="ok"} 1');
    expect(await b.metricsText()).not.toContain('status="ok"}');
    expect(await b.metricsText()).toContain('process_cpu_user_seconds_total');
    expect(await a.metricsText()).not.toContain(
      'process_cpu_user_seconds_total',
    );
  });

  it('bounds the model label of unresolved requests', async () => {
    const metrics = new ServingMetrics({ maxModels: 2 });
    for (const name of ['x1', 'x2', 'x3', 'x4']) {
      metrics.observe(
        event({
          modelName: name,
          version: undefined,
          status: 'error',
          httpStatus: 404,
        }),
      );
    }
    // A model that resolved to a version always gets its own label.
    metrics.observe(event({ modelName: 'real' }));
    const text = await metrics.metricsText();
    expect(text).toContain('model="x2"');
    expect(text).not.toContain('model="x3"');
    expect(text).toContain(
      `model="${OTHER_MODELS_LABEL}",version="none",route="oip",status="error"} 2`,
    );
    expect(text).toContain('model="real",version="2"');
  });

  it('reads the log buffer at scrape time and never throws on odd events', async () => {
    const metrics = new ServingMetrics();
    let buffered = 7;
    metrics.watchLogBuffer(() => buffered);
    expect(await metrics.metricsText()).toContain(
      'loopline_inference_log_buffered 7',
    );
    buffered = 2;
    expect(await metrics.metricsText()).toContain(
      'loopline_inference_log_buffered 2',
    );
    expect(() => metrics.observe(null as any)).not.toThrow();
    expect(() => metrics.observe(event({ latencyMs: NaN }))).not.toThrow();
  });
});
