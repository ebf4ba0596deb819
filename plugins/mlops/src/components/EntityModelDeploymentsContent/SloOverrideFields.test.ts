import { NO_SLO_OVERRIDES, readSloOverrides } from './SloOverrideFields';

describe('readSloOverrides', () => {
  it('sends nothing for empty fields, so the configured SLO holds', () => {
    expect(readSloOverrides(NO_SLO_OVERRIDES)).toEqual({
      problems: {},
      overrides: {},
    });
  });

  it('sends the fields filled in, the error rate as a share', () => {
    expect(
      readSloOverrides({
        ...NO_SLO_OVERRIDES,
        minRequests: '40',
        maxErrorRate: '2',
        maxLatencyP99Ms: '120.5',
      }),
    ).toEqual({
      problems: {},
      overrides: {
        minRequests: 40,
        maxErrorRate: 0.02,
        maxLatencyP99Ms: 120.5,
      },
    });
  });

  it('says why a field is refused, and then sends nothing', () => {
    expect(
      readSloOverrides({
        minRequests: '1.5',
        maxErrorRate: '101',
        maxLatencyP95Ms: '-1',
        maxLatencyP99Ms: 'fast',
      }),
    ).toEqual({
      problems: {
        minRequests: 'A whole number',
        maxErrorRate: 'From 0 to 100',
        maxLatencyP95Ms: 'At least 0',
        maxLatencyP99Ms: 'A number',
      },
    });
  });
});
