import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import type { CatalogApi } from '@backstage/plugin-catalog-react';
import type { MlopsApi } from '../../api';

// A type, not an interface: rjsf's ui:options want an index signature.
/** `ui:options` of the MlopsNamePicker field. */
export type NamePickerUiOptions = {
  /**
   * The entities the template will create, as refs with `{name}` for the
   * value (default `model:default/{name}`); each must not exist yet.
   */
  entityRefs?: string[];
  /** Whether a registered model of that name must not exist yet (default false). */
  registeredModel?: boolean;
};

export const DEFAULT_ENTITY_REFS = ['model:default/{name}'];

/** Why `name` is no entity name (as Backstage's EntityNamePicker says it). */
export function nameFormatProblem(
  name: string | undefined,
): string | undefined {
  if (!name) return undefined;
  return KubernetesValidatorFunctions.isValidObjectName(name)
    ? undefined
    : 'Must start and end with an alphanumeric character, and contain only alphanumeric characters, hyphens, underscores, and periods. Maximum length is 63 characters.';
}

/**
 * What already has `name`: the entities the template would create and,
 * with `registeredModel`, the registered model. Empty when the name is free;
 * a lookup that fails otherwise is left to the template's own check.
 */
export async function takenBy(
  name: string,
  options: NamePickerUiOptions,
  apis: {
    catalogApi?: Pick<CatalogApi, 'getEntityByRef'>;
    mlopsApi?: Pick<MlopsApi, 'getRegisteredModel'>;
  },
): Promise<string[]> {
  const taken: string[] = [];
  const refs = (options.entityRefs ?? DEFAULT_ENTITY_REFS).map(ref =>
    ref.split('{name}').join(name),
  );
  if (apis.catalogApi) {
    const found = await Promise.all(
      refs.map(ref =>
        apis.catalogApi!.getEntityByRef(ref).catch(() => undefined),
      ),
    );
    refs.forEach((ref, i) => {
      if (found[i]) taken.push(ref);
    });
  }
  if (options.registeredModel && apis.mlopsApi) {
    // A 404 says it is free; other failures are left to the template's check.
    const model = await apis.mlopsApi
      .getRegisteredModel(name)
      .catch(() => undefined);
    if (model) taken.push(`the registered model ${name}`);
  }
  return taken;
}

/** The message the form shows for a taken name. */
export function takenMessage(name: string, taken: string[]): string {
  return `"${name}" is taken: ${taken.join(', ')} already exist${
    taken.length === 1 ? 's' : ''
  }. Choose another name.`;
}
