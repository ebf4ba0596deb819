import fs from 'node:fs';
import path from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { LineageEvent } from './types';

/** One reason an event is invalid: where (a JSON path such as `$.run.runId`) and what. */
export interface EventProblem {
  path: string;
  message: string;
}

export type ValidationResult =
  | { valid: true; event: LineageEvent }
  | { valid: false; problems: EventProblem[] };

const CORE_ID = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';

/** Where a facet can appear, named after the core spec's facet base types. */
type FacetKind =
  | 'RunFacet'
  | 'JobFacet'
  | 'DatasetFacet'
  | 'InputDatasetFacet'
  | 'OutputDatasetFacet';
const FACET_KINDS: FacetKind[] = [
  'RunFacet',
  'JobFacet',
  'DatasetFacet',
  'InputDatasetFacet',
  'OutputDatasetFacet',
];

/** The vendored published spec (see `openlineage/README.md`). */
export function defaultSpecDirectory(): string {
  return resolvePackagePath('@loopline/plugin-mlops-backend', 'openlineage');
}

/**
 * Validates OpenLineage events against the core spec (2-0-x) and, for every
 * standard facet present, against that facet's own schema. The core spec
 * (since 2-0-2) only checks the base facet fields (`_producer`,
 * `_schemaURL`); facets it does not know (custom ones, in a producer's own
 * namespace) are kept after that base check.
 */
export class OpenLineageValidator {
  private readonly ajv: Ajv2020;
  private readonly events: Record<
    'RunEvent' | 'DatasetEvent' | 'JobEvent' | 'any',
    ValidateFunction
  >;
  /** facet kind → facet name → a validator of `{ [name]: facet }` */
  private readonly facets = new Map<FacetKind, Map<string, ValidateFunction>>();

  constructor(specDirectory: string = defaultSpecDirectory()) {
    this.ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(this.ajv);
    // The spec's own examples carry URI fields such as `"uri": "string"`,
    // and its reference validator (Python jsonschema) does not enforce the
    // `uri` format: a URI reference is accepted, as there.
    this.ajv.addFormat('uri', addFormats.get('uri-reference') as any);
    const core = readJson(path.join(specDirectory, 'OpenLineage.json'));
    this.ajv.addSchema(core);
    const facetDir = path.join(specDirectory, 'facets');
    for (const file of fs.readdirSync(facetDir).sort()) {
      if (!file.endsWith('.json')) {
        continue;
      }
      const schema = readJson(path.join(facetDir, file));
      this.ajv.addSchema(schema);
      const validate = this.ajv.getSchema(schema.$id)!;
      const kinds = facetKindsOf(schema);
      for (const name of Object.keys(schema.properties ?? {})) {
        for (const kind of kinds) {
          let byName = this.facets.get(kind);
          if (!byName) {
            byName = new Map();
            this.facets.set(kind, byName);
          }
          byName.set(name, validate);
        }
      }
    }
    const def = (name: string) =>
      this.ajv.getSchema(`${CORE_ID}#/$defs/${name}`)!;
    this.events = {
      RunEvent: def('RunEvent'),
      DatasetEvent: def('DatasetEvent'),
      JobEvent: def('JobEvent'),
      any: this.ajv.getSchema(CORE_ID)!,
    };
  }

  /** The standard facet names known for each place a facet can appear. */
  knownFacets(): Record<FacetKind, string[]> {
    return Object.fromEntries(
      FACET_KINDS.map(kind => [
        kind,
        [...(this.facets.get(kind)?.keys() ?? [])].sort(),
      ]),
    ) as Record<FacetKind, string[]>;
  }

  validate(value: unknown): ValidationResult {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return {
        valid: false,
        problems: [
          { path: '$', message: 'must be an OpenLineage event object' },
        ],
      };
    }
    const event = value as Record<string, any>;
    const type = eventTypeOf(event);
    // Checking the one event type it claims to be gives the precise errors;
    // the top-level oneOf then rules out an event matching two types.
    const typed = this.events[type];
    const problems: EventProblem[] = [];
    if (!typed(event)) {
      problems.push(...toProblems(typed.errors, '$'));
    } else if (!this.events.any(event)) {
      problems.push({
        path: '$',
        message: `must be exactly one of RunEvent, DatasetEvent, JobEvent (read as a ${type})`,
      });
    }
    for (const [kind, facets, at] of facetLocations(event)) {
      problems.push(...this.checkFacets(kind, facets, at));
    }
    if (problems.length > 0) {
      return { valid: false, problems };
    }
    return { valid: true, event: event as LineageEvent };
  }

  private checkFacets(
    kind: FacetKind,
    facets: unknown,
    at: string,
  ): EventProblem[] {
    if (typeof facets !== 'object' || facets === null) {
      return []; // the core schema has already said so
    }
    const byName = this.facets.get(kind);
    const problems: EventProblem[] = [];
    for (const [name, facet] of Object.entries(facets)) {
      const validate = byName?.get(name);
      // A deletion marker (`{"_deleted": true}`, spec 2-0-1) carries no body.
      if (!validate || (facet as any)?._deleted === true) {
        continue;
      }
      if (!validate({ [name]: facet })) {
        problems.push(...toProblems(validate.errors, at));
      }
    }
    return problems;
  }
}

/**
 * The event type, read from the body's shape: a `run` makes a RunEvent, a
 * `dataset` a DatasetEvent, a `job` alone a JobEvent. (Marquez reads the
 * suffix of `schemaURL`; the shape gives the same answer for valid events
 * and clearer errors for invalid ones.)
 */
export function eventTypeOf(
  event: Record<string, unknown>,
): 'RunEvent' | 'DatasetEvent' | 'JobEvent' {
  if ('run' in event) {
    return 'RunEvent';
  }
  if ('dataset' in event) {
    return 'DatasetEvent';
  }
  if ('job' in event) {
    return 'JobEvent';
  }
  return 'RunEvent';
}

function facetLocations(
  event: Record<string, any>,
): Array<[FacetKind, unknown, string]> {
  const found: Array<[FacetKind, unknown, string]> = [];
  const add = (kind: FacetKind, facets: unknown, at: string) => {
    if (facets !== undefined) {
      found.push([kind, facets, at]);
    }
  };
  add('RunFacet', event.run?.facets, '$.run.facets');
  add('JobFacet', event.job?.facets, '$.job.facets');
  add('DatasetFacet', event.dataset?.facets, '$.dataset.facets');
  for (const side of ['inputs', 'outputs'] as const) {
    const datasets = event[side];
    if (!Array.isArray(datasets)) {
      continue;
    }
    datasets.forEach((dataset, index) => {
      const at = `$.${side}[${index}]`;
      add('DatasetFacet', dataset?.facets, `${at}.facets`);
      if (side === 'inputs') {
        add('InputDatasetFacet', dataset?.inputFacets, `${at}.inputFacets`);
      } else {
        add('OutputDatasetFacet', dataset?.outputFacets, `${at}.outputFacets`);
      }
    });
  }
  return found;
}

/** The facet base types a facet schema extends (`allOf: [{$ref: ...#/$defs/RunFacet}]`). */
function facetKindsOf(schema: any): FacetKind[] {
  const kinds = new Set<FacetKind>();
  for (const def of Object.values<any>(schema.$defs ?? {})) {
    for (const part of def?.allOf ?? []) {
      const ref: unknown = part?.$ref;
      if (typeof ref !== 'string') {
        continue;
      }
      const kind = ref.slice(ref.lastIndexOf('/') + 1) as FacetKind;
      if (FACET_KINDS.includes(kind)) {
        kinds.add(kind);
      }
    }
  }
  return [...kinds];
}

function toProblems(
  errors: ErrorObject[] | null | undefined,
  base: string,
): EventProblem[] {
  const seen = new Set<string>();
  const problems: EventProblem[] = [];
  for (const error of errors ?? []) {
    // allOf/anyOf wrappers repeat their branches' errors; keep the leaves.
    if (['anyOf', 'allOf', 'oneOf', 'if', 'not'].includes(error.keyword)) {
      if (error.keyword !== 'not') {
        continue;
      }
    }
    let at = base + pointerToPath(error.instancePath);
    if (error.keyword === 'required') {
      at += `.${(error.params as any).missingProperty}`;
    }
    const message =
      error.keyword === 'not'
        ? 'must not be present'
        : error.message ?? 'is invalid';
    const key = `${at} ${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push({ path: at, message });
    }
  }
  return problems;
}

function pointerToPath(pointer: string): string {
  if (!pointer) {
    return '';
  }
  return pointer
    .split('/')
    .slice(1)
    .map(part => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map(part =>
      /^\d+$/.test(part)
        ? `[${part}]`
        : /^[A-Za-z_$][\w$]*$/.test(part)
        ? `.${part}`
        : `[${JSON.stringify(part)}]`,
    )
    .join('');
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}
