import { InputError } from '@backstage/errors';
import { z } from 'zod';

/**
 * A model version from a path, a query or a body: a positive integer, or its
 * digits as a string (MLflow sends versions as strings). InputError otherwise.
 */
export function parseVersion(version: unknown): number {
  const number =
    typeof version === 'string' && /^\d{1,15}$/.test(version.trim())
      ? Number(version)
      : version;
  if (
    typeof number !== 'number' ||
    !Number.isSafeInteger(number) ||
    number < 1
  ) {
    throw new InputError(
      `Invalid model version ${describe(
        version,
      )}: it must be a positive integer`,
    );
  }
  return number;
}

/** The version, or undefined when `version` is not one. */
export function tryParseVersion(version: unknown): number | undefined {
  if (version === undefined) return undefined;
  try {
    return parseVersion(version);
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** `parseVersion` as a zod field, for request schemas. */
export const versionSchema = z.unknown().transform((value, ctx) => {
  const version = tryParseVersion(value);
  if (version === undefined) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `must be a positive integer, got ${describe(value)}`,
    });
    return z.NEVER;
  }
  return version;
});
