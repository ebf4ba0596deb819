/** JSON Schema fragments shared by the three kinds' schemas. */

export const entityRef = {
  type: 'string',
  minLength: 1,
  description:
    'An entity reference, `[kind:][namespace/]name`; the kind defaults as the field says.',
};

export const entityRefList = {
  type: 'array',
  items: entityRef,
  uniqueItems: true,
};

/** A five- or six-field cron expression (the shape Backstage's scheduler takes). */
export const cronExpression = {
  type: 'string',
  pattern: '^\\S+(\\s+\\S+){4,5}$',
  description: 'A cron expression, e.g. `0 3 * * *`.',
};

export const specBaseProperties = {
  owner: {
    ...entityRef,
    description: 'Entity reference of the owner (a Group or a User).',
  },
  lifecycle: {
    type: 'string',
    minLength: 1,
    examples: ['experimental', 'production', 'deprecated'],
  },
  system: {
    ...entityRef,
    description: 'Entity reference of the System this belongs to.',
  },
};

export function kindSchema(options: {
  id: string;
  kind: string;
  description: string;
  specRequired: string[];
  specProperties: Record<string, unknown>;
}) {
  return {
    $schema: 'http://json-schema.org/draft-07/schema',
    $id: options.id,
    description: options.description,
    allOf: [
      { $ref: 'Entity' },
      {
        type: 'object',
        required: ['spec'],
        properties: {
          apiVersion: { enum: ['loopline.dev/v1alpha1'] },
          kind: { enum: [options.kind] },
          spec: {
            type: 'object',
            required: ['type', 'owner', 'lifecycle', ...options.specRequired],
            additionalProperties: false,
            properties: { ...specBaseProperties, ...options.specProperties },
          },
        },
      },
    ],
  };
}
