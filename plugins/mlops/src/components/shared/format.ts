import type { TensorSpec } from '@loopline/mlops-common';

const significant = new Intl.NumberFormat('en-US', {
  maximumSignificantDigits: 4,
});

/** A metric value, short: 4 significant digits, and NaN/∞ spelled out. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '−∞';
  }
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) {
    return value.toExponential(2);
  }
  return significant.format(value);
}

/** How long something took, in the two largest units that matter. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) {
    return `${Math.max(0, Math.round(milliseconds))} ms`;
  }
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < 60) {
    return `${seconds} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** A size in bytes, in binary units (1 KiB = 1024 bytes). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0
    ? `${bytes} bytes`
    : `${significant.format(value)} ${units[unit]}`;
}

/** A tensor shape with free dimensions (-1) as `?`, e.g. `[?, 11]`. */
export function formatShape(shape: ReadonlyArray<number>): string {
  return `[${shape.map(dim => (dim < 0 ? '?' : String(dim))).join(', ')}]`;
}

/** One input or output, e.g. `features FP32[?, 11]`. */
export function formatTensor(tensor: TensorSpec): string {
  return `${tensor.name} ${tensor.datatype}${formatShape(tensor.shape)}`;
}

/**
 * Metric keys in the order to show them: the ones the model card names
 * first (in its order), then the others alphabetically.
 */
export function orderMetricKeys(
  keys: Iterable<string>,
  preferred: ReadonlyArray<string> = [],
): string[] {
  const all = new Set(keys);
  const first = preferred.filter(key => all.has(key));
  const rest = [...all].filter(key => !first.includes(key)).sort();
  return [...first, ...rest];
}
