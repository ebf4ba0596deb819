import { parseKServeCloudEvent } from './kserveEvents';
import { KSERVE_REQUEST_EVENT, KSERVE_RESPONSE_EVENT } from './types';

const NOW = Date.parse('2026-11-23T10:00:00Z');
/** KServe's own sample request (shared/specs/oip-v2/examples/iris-input.json). */
const irisInput = Buffer.from(`{
  "inputs": [
    {
      "name": "input-0",
      "shape": [2, 4],
      "datatype": "FP32",
      "data": [
        [6.8, 2.8, 4.8, 1.4],
        [6.0, 3.4, 4.5, 1.6]
      ]
    }
  ]
}`);

/** Headers as KServe's logger (pkg/logger/worker.go) sends them in binary mode. */
function kserveHeaders(type: string, extra: Record<string, string> = {}) {
  return {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-type': type,
    'ce-id': '5f8c6a2e-6f4b-4ad6-8d4c-0c7f3b1a9e11',
    'ce-source': 'http://localhost:9081/',
    'ce-inferenceservicename': 'sklearn-iris',
    'ce-namespace': 'models',
    'ce-component': 'predictor',
    'ce-endpoint': 'canary',
    'ce-recordedtime': '2026-11-23T09:59:59.123456789Z',
    ...extra,
  };
}

describe('parseKServeCloudEvent', () => {
  it('reads a binary-mode OIP request: the tensors are the payload', () => {
    expect(
      parseKServeCloudEvent({
        headers: kserveHeaders(KSERVE_REQUEST_EVENT),
        body: irisInput,
        now: NOW,
      }),
    ).toEqual({
      kind: 'request',
      requestId: '5f8c6a2e-6f4b-4ad6-8d4c-0c7f3b1a9e11',
      modelName: 'sklearn-iris',
      namespace: 'models',
      component: 'predictor',
      endpoint: 'canary',
      timestamp: Date.parse('2026-11-23T09:59:59.123Z'),
      payload: JSON.parse(irisInput.toString()).inputs,
    });
  });

  it('reads a response: outputs, a numeric model_version, an error body', () => {
    const response = {
      model_name: 'sklearn-iris',
      model_version: '3',
      outputs: [
        { name: 'predict', datatype: 'INT64', shape: [2], data: [1, 2] },
      ],
    };
    expect(
      parseKServeCloudEvent({
        headers: kserveHeaders(KSERVE_RESPONSE_EVENT),
        body: Buffer.from(JSON.stringify(response)),
        now: NOW,
      }),
    ).toMatchObject({
      kind: 'response',
      version: 3,
      payload: response.outputs,
    });

    const v1 = { predictions: [1, 2] };
    const part = parseKServeCloudEvent({
      headers: kserveHeaders(KSERVE_RESPONSE_EVENT),
      body: Buffer.from(JSON.stringify({ ...v1, model_version: 'v1.0.0' })),
      now: NOW,
    });
    expect(part.payload).toEqual({ ...v1, model_version: 'v1.0.0' });
    expect(part).not.toHaveProperty('version');
    expect(part).not.toHaveProperty('error');

    expect(
      parseKServeCloudEvent({
        headers: kserveHeaders(KSERVE_RESPONSE_EVENT),
        body: Buffer.from('{"error":"Model with name x does not exist."}'),
        now: NOW,
      }),
    ).toMatchObject({ error: 'Model with name x does not exist.' });
  });

  it('keeps a V1 request whole, marks an unparsable body, and falls back to the arrival time', () => {
    expect(
      parseKServeCloudEvent({
        headers: kserveHeaders(KSERVE_REQUEST_EVENT, {
          'ce-recordedtime': 'yesterday-ish',
        }),
        body: Buffer.from('{"instances":[[1,2,3,4]]}'),
        now: NOW,
      }),
    ).toMatchObject({ payload: { instances: [[1, 2, 3, 4]] }, timestamp: NOW });
    expect(
      parseKServeCloudEvent({
        headers: kserveHeaders(KSERVE_REQUEST_EVENT, {
          'content-type': 'application/octet-stream',
          'ce-recordedtime': '1999-01-01T00:00:00Z',
        }),
        body: Buffer.from([0, 1, 2]),
        now: NOW,
      }),
    ).toMatchObject({
      payload: {
        unparsed: true,
        contentType: 'application/octet-stream',
        bytes: 3,
      },
      timestamp: NOW,
    });
    // A body an upstream JSON parser already parsed is taken as it is.
    expect(
      parseKServeCloudEvent({
        headers: kserveHeaders(KSERVE_REQUEST_EVENT),
        body: {
          inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }],
        },
        now: NOW,
      }).payload,
    ).toEqual([{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }]);
  });

  it('reads structured mode', () => {
    const envelope = {
      specversion: '1.0',
      type: KSERVE_RESPONSE_EVENT,
      id: 'abc',
      source: 'x',
      inferenceservicename: 'sklearn-iris',
      endpoint: 'default',
      time: '2026-11-23T09:59:58Z',
      datacontenttype: 'application/json',
      data_base64: Buffer.from('{"predictions":[0]}').toString('base64'),
    };
    expect(
      parseKServeCloudEvent({
        headers: {
          'content-type': 'application/cloudevents+json; charset=utf-8',
        },
        body: Buffer.from(JSON.stringify(envelope)),
        now: NOW,
      }),
    ).toEqual({
      kind: 'response',
      requestId: 'abc',
      modelName: 'sklearn-iris',
      endpoint: 'default',
      timestamp: Date.parse('2026-11-23T09:59:58Z'),
      payload: { predictions: [0] },
    });
  });

  it.each([
    [{ 'ce-type': undefined }, /Missing CloudEvent type/],
    [
      { 'ce-type': 'com.example.other' },
      /Unknown CloudEvent type "com.example.other"/,
    ],
    [{ 'ce-id': undefined }, /Missing CloudEvent id/],
    [{ 'ce-id': '   ' }, /Missing CloudEvent id/],
    [{ 'ce-id': 'x'.repeat(257) }, /longer than 256/],
    [{ 'ce-inferenceservicename': undefined }, /Missing InferenceService name/],
  ])('rejects %j with an InputError', (change, message) => {
    const headers: Record<string, string | undefined> = {
      ...kserveHeaders(KSERVE_REQUEST_EVENT),
      ...change,
    };
    expect(() =>
      parseKServeCloudEvent({ headers, body: irisInput, now: NOW }),
    ).toThrow(
      expect.objectContaining({
        name: 'InputError',
        message: expect.stringMatching(message),
      }),
    );
  });

  it('rejects a structured event that is not JSON', () => {
    expect(() =>
      parseKServeCloudEvent({
        headers: { 'content-type': 'application/cloudevents+json' },
        body: Buffer.from('{nope'),
        now: NOW,
      }),
    ).toThrow(/not valid JSON/);
  });
});
