import {
  formatBytes,
  formatDuration,
  formatNumber,
  formatShape,
  formatTensor,
  orderMetricKeys,
} from './format';

describe('format', () => {
  it('formats metric values with 4 significant digits', () => {
    expect(formatNumber(0.641234)).toBe('0.6412');
    expect(formatNumber(12345.6)).toBe('12,350');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(0.00001234)).toBe('1.23e-5');
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(-Infinity)).toBe('−∞');
  });

  it('formats durations in their two largest units', () => {
    expect(formatDuration(800)).toBe('800 ms');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(95_000)).toBe('1 min 35 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(3_725_000)).toBe('1 h 2 min');
    expect(formatDuration(26 * 3_600_000)).toBe('1 d 2 h');
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(2048)).toBe('2 KiB');
    expect(formatBytes(5.5 * 1024 * 1024)).toBe('5.5 MiB');
  });

  it('shows free dimensions as ?', () => {
    expect(formatShape([-1, 11])).toBe('[?, 11]');
    expect(
      formatTensor({ name: 'features', datatype: 'FP32', shape: [-1, 11] }),
    ).toBe('features FP32[?, 11]');
  });

  it("puts the model card's metrics first", () => {
    expect(
      orderMetricKeys(['r2', 'mae', 'rmse', 'loss'], ['rmse', 'mae', 'f1']),
    ).toEqual(['rmse', 'mae', 'loss', 'r2']);
    expect(orderMetricKeys(['b', 'a'])).toEqual(['a', 'b']);
  });
});
