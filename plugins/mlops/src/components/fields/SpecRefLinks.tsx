import { Fragment } from 'react';
import { parseEntityRef } from '@backstage/catalog-model';
import { EntityRefLink, useEntity } from '@backstage/plugin-catalog-react';

/**
 * Links to the entities named in a spec field of the current entity. A ref
 * written in a spec is relative: it may leave out its kind (the field's
 * default, e.g. `Dataset` for `trainedOn`) and its namespace (the entity's
 * own), so it is resolved the way the catalog module resolves it.
 */
export function SpecRefLinks(props: {
  refs: string | ReadonlyArray<string>;
  defaultKind?: string;
}) {
  const { refs, defaultKind } = props;
  const { entity } = useEntity();
  const defaultNamespace = entity.metadata.namespace;
  return (
    <span>
      {[refs].flat().map((ref, index) => (
        <Fragment key={ref}>
          {index > 0 && ', '}
          <EntityRefLink
            entityRef={parseEntityRef(ref, { defaultKind, defaultNamespace })}
            defaultKind={defaultKind}
          />
        </Fragment>
      ))}
    </span>
  );
}
