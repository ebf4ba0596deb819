import fs from 'node:fs';
import path from 'node:path';
import {
  describeWithSpecs,
  readSpecJson,
  specPath,
} from '../__testUtils__/specs';
import { OpenLineageValidator } from './OpenLineageValidator';

const validator = new OpenLineageValidator();

function specFiles(dir: string): string[] {
  return fs
    .readdirSync(specPath(dir))
    .filter(f => f.endsWith('.json'))
    .sort();
}

describeWithSpecs('OpenLineageValidator against the spec folder', () => {
  it('vendors the same schemas as the spec folder', () => {
    const vendored = path.resolve(__dirname, '../../openlineage');
    expect(
      JSON.parse(
        fs.readFileSync(path.join(vendored, 'OpenLineage.json'), 'utf8'),
      ),
    ).toEqual(readSpecJson('openlineage/OpenLineage.json'));
    for (const file of specFiles('openlineage/facets')) {
      expect([
        file,
        JSON.parse(
          fs.readFileSync(path.join(vendored, 'facets', file), 'utf8'),
        ),
      ]).toEqual([file, readSpecJson(`openlineage/facets/${file}`)]);
    }
  });

  it('accepts the valid example event_simple.json', () => {
    expect(
      validator.validate(readSpecJson('openlineage/events/event_simple.json')),
    ).toMatchObject({ valid: true });
  });

  it('accepts event_full.json once its dataQualityMetrics input facet is brought up to the current facet schema', () => {
    // The example predates `columnMetrics` becoming required in
    // DataQualityMetricsInputDatasetFacet (the invalid input example
    // lacks it too): that is its one problem, and with it added the
    // example is valid.
    const event = readSpecJson('openlineage/events/event_full.json');
    expect(validator.validate(event)).toEqual({
      valid: false,
      problems: [
        {
          path: '$.inputs[0].inputFacets.dataQualityMetrics.columnMetrics',
          message: "must have required property 'columnMetrics'",
        },
      ],
    });
    event.inputs[0].inputFacets.dataQualityMetrics.columnMetrics = {
      id: { nullCount: 0, distinctCount: 100 },
    };
    expect(validator.validate(event)).toMatchObject({ valid: true });
  });

  it('accepts the full example of the tests folder', () => {
    expect(
      validator.validate(
        readSpecJson('openlineage/tests/example_full_event.json'),
      ),
    ).toMatchObject({ valid: true });
  });

  const invalid: Array<[string, string]> = [
    ['event_no_run_id.json', '$.run.runId'],
    ['event_invalid_run_facet.json', '$.run.facets.parent.run.runId'],
    ['event_invalid_job_facet.json', '$.job.facets'],
    ['event_invalid_dataset_facet.json', '$.outputs[0].facets.ownership'],
    ['event_invalid_input_dataset_facet.json', '$.inputs[0].inputFacets'],
    ['event_invalid_output_dataset_facet.json', '$.outputs[0].outputFacets'],
  ];
  it.each(invalid)('rejects %s at %s', (file, where) => {
    const result = validator.validate(
      readSpecJson(`openlineage/events/${file}`),
    );
    expect(result.valid).toBe(false);
    const paths = result.valid ? [] : result.problems.map(p => p.path);
    expect(paths.some(p => p.startsWith(where))).toBe(true);
  });

  it('accepts every facet example of the tests folder in its place', () => {
    const kinds = validator.knownFacets();
    const tested: string[] = [];
    for (const dir of fs.readdirSync(specPath('openlineage/tests'))) {
      const folder = `openlineage/tests/${dir}`;
      if (!fs.statSync(specPath(folder)).isDirectory()) {
        continue;
      }
      for (const file of specFiles(folder)) {
        const facets = readSpecJson(`${folder}/${file}`);
        const name = Object.keys(facets)[0];
        const event: any = {
          eventTime: '2026-12-07T12:00:00Z',
          producer: 'https://loopline.dev/test',
          schemaURL:
            'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
          run: { runId: '0190b5c4-0000-7000-8000-000000000001' },
          job: { namespace: 'ns', name: 'job' },
          inputs: [{ namespace: 'ns', name: 'in' }],
          outputs: [{ namespace: 'ns', name: 'out' }],
        };
        if (kinds.RunFacet.includes(name)) event.run.facets = facets;
        else if (kinds.JobFacet.includes(name)) event.job.facets = facets;
        else if (kinds.InputDatasetFacet.includes(name))
          event.inputs[0].inputFacets = facets;
        else if (kinds.OutputDatasetFacet.includes(name))
          event.outputs[0].outputFacets = facets;
        else if (kinds.DatasetFacet.includes(name))
          event.outputs[0].facets = facets;
        else continue; // a test of a facet the vendored spec no longer has
        const result = validator.validate(event);
        expect([`${dir}/${file}`, result]).toEqual([
          `${dir}/${file}`,
          expect.objectContaining({ valid: true }),
        ]);
        tested.push(`${dir}/${file}`);
      }
    }
    expect(tested.length).toBeGreaterThan(20);
  });
});

describe('OpenLineageValidator', () => {
  const base = {
    eventTime: '2026-12-07T12:00:00Z',
    producer: 'https://loopline.dev/test',
    schemaURL:
      'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: '0190b5c4-0000-7000-8000-000000000001' },
    job: { namespace: 'ns', name: 'job' },
  };

  it('keeps custom facets that carry the base facet fields', () => {
    const event = {
      ...base,
      run: {
        ...base.run,
        facets: {
          acme_budget: {
            _producer: 'https://acme.example/producer',
            _schemaURL: 'https://acme.example/schemas/Budget.json',
            euros: 12,
          },
        },
      },
    };
    expect(validator.validate(event)).toMatchObject({ valid: true });
  });

  it('names a custom facet without _producer', () => {
    const result = validator.validate({
      ...base,
      job: { ...base.job, facets: { acme: { owner: 'x' } } },
    });
    expect(result.valid).toBe(false);
    expect(!result.valid && result.problems).toContainEqual(
      expect.objectContaining({ path: '$.job.facets.acme._producer' }),
    );
  });

  it('accepts DatasetEvent and JobEvent, and a facet deletion marker', () => {
    expect(
      validator.validate({
        eventTime: base.eventTime,
        producer: base.producer,
        schemaURL:
          'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
        dataset: {
          namespace: 'ns',
          name: 'd',
          facets: {
            schema: {
              _producer: base.producer,
              _schemaURL: 'https://x.example/s',
              _deleted: true,
            },
          },
        },
      }),
    ).toMatchObject({ valid: true });
    expect(
      validator.validate({
        eventTime: base.eventTime,
        producer: base.producer,
        schemaURL:
          'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent',
        job: base.job,
        inputs: [{ namespace: 'ns', name: 'a' }],
      }),
    ).toMatchObject({ valid: true });
  });

  it('rejects a non-object, a bad eventType and a bad time with their paths', () => {
    expect(validator.validate([])).toMatchObject({ valid: false });
    const result = validator.validate({
      ...base,
      eventType: 'DONE',
      eventTime: 'yesterday',
    });
    const paths = result.valid ? [] : result.problems.map(p => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['$.eventType', '$.eventTime']),
    );
  });
});
