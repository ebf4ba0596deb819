import { InputError } from '@backstage/errors';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  PipelineEntityV1alpha1,
  PipelineStepKind,
} from '@loopline/mlops-common';
import type { StepDefinition } from './PipelineStore';

/** Where pipelines are declared: the catalog in the backend, a list in tests. */
export interface PipelineSource {
  get(name: string): Promise<PipelineEntityV1alpha1 | undefined>;
  list(): Promise<PipelineEntityV1alpha1[]>;
}

export const DEFAULT_CONCURRENCY = 1;

export function entityRefOfPipeline(entity: PipelineEntityV1alpha1): string {
  return stringifyEntityRef(entity).toLocaleLowerCase('en-US');
}

/**
 * The steps of a pipeline in the order they are declared, each with its kind
 * resolved. Throws an InputError naming the problem for a dependency on an
 * unknown step, a duplicate name, a cycle, or a command step with nothing to
 * run.
 */
export function stepsOf(entity: PipelineEntityV1alpha1): StepDefinition[] {
  const steps = entity.spec.steps ?? [];
  if (steps.length === 0) {
    throw new InputError(
      `Pipeline ${entity.metadata.name} has no steps to run`,
    );
  }
  const names = new Set<string>();
  for (const step of steps) {
    if (names.has(step.name)) {
      throw new InputError(
        `Pipeline ${entity.metadata.name} has two steps named ${step.name}`,
      );
    }
    names.add(step.name);
  }
  const definitions = steps.map((step, index): StepDefinition => {
    const kind: PipelineStepKind = step.kind ?? 'command';
    for (const dependency of step.dependsOn ?? []) {
      if (!names.has(dependency)) {
        throw new InputError(
          `spec.steps[${index}].dependsOn: unknown step ${dependency}`,
        );
      }
    }
    if (
      kind === 'command' &&
      !step.run &&
      !(step.command && step.command.length > 0)
    ) {
      throw new InputError(
        `spec.steps[${index}] (${step.name}): give it run, command or a built-in kind`,
      );
    }
    return {
      name: step.name,
      kind,
      dependsOn: step.dependsOn ?? [],
      ...(step.command ? { command: step.command } : {}),
      ...(step.run ? { run: step.run } : {}),
      ...(step.image ? { image: step.image } : {}),
      ...(step.with ? { with: step.with } : {}),
      ...(step.timeoutSeconds ? { timeoutSeconds: step.timeoutSeconds } : {}),
    };
  });
  topologicalOrder(definitions); // throws on a cycle
  return definitions;
}

/** Step names so that each comes after its dependencies. */
export function topologicalOrder(steps: StepDefinition[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byName = new Map(steps.map(s => [s.name, s]));
  const visit = (name: string, path: string[]) => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      throw new InputError(
        `The steps depend on each other in a cycle: ${[...path, name].join(
          ' → ',
        )}`,
      );
    }
    state.set(name, 'visiting');
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      visit(dependency, [...path, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const step of steps) visit(step.name, []);
  return order;
}

/**
 * The run's parameters: the declared defaults, overridden by the given
 * values. Names must be identifiers (they become environment variables);
 * for manual runs only declared names are accepted.
 */
export function resolveParameters(
  entity: PipelineEntityV1alpha1,
  given: Record<string, string>,
  options: { onlyDeclared: boolean },
): Record<string, string> {
  const declared = entity.spec.parameters ?? [];
  const result: Record<string, string> = {};
  for (const parameter of declared) {
    if (parameter.default !== undefined) {
      result[parameter.name] = parameter.default;
    }
  }
  for (const [name, value] of Object.entries(given)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InputError(
        `parameters.${name}: a parameter name is a letter or _ followed by letters, digits or _`,
      );
    }
    if (options.onlyDeclared && !declared.some(p => p.name === name)) {
      throw new InputError(
        `parameters.${name}: pipeline ${entity.metadata.name} declares no such parameter` +
          (declared.length > 0
            ? ` (it declares ${declared.map(p => p.name).join(', ')})`
            : ''),
      );
    }
    result[name] = value;
  }
  return result;
}

/** The schedules of a pipeline: `spec.schedule` and its schedule triggers, without duplicates. */
export function schedulesOf(entity: PipelineEntityV1alpha1): string[] {
  const crons = new Set<string>();
  if (entity.spec.schedule) crons.add(entity.spec.schedule);
  for (const trigger of entity.spec.triggers ?? []) {
    if (trigger.type === 'schedule') crons.add(trigger.cron);
  }
  return [...crons];
}
