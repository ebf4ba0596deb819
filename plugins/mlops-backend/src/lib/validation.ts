import { InputError } from '@backstage/errors';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { z } from 'zod';

/** Parses `value` with `schema`, or throws an InputError (400) naming each bad field. */
export function parseInput<T extends z.ZodTypeAny>(
  schema: T,
  value: unknown,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new InputError(`Invalid ${what}: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/** A zod error as one line: each bad field's path and problem. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map(issue =>
      issue.path.length > 0
        ? `${issue.path.join('.')}: ${issue.message}`
        : issue.message,
    )
    .join('; ');
}

/** An entity reference in full form (`kind:namespace/name`), lower-cased the way the catalog stores it. */
export const entityRefSchema = z.string().transform((value, ctx) => {
  try {
    return stringifyEntityRef(parseEntityRef(value)).toLocaleLowerCase('en-US');
  } catch {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${value}" is not an entity reference of the form kind:namespace/name`,
    });
    return z.NEVER;
  }
});
