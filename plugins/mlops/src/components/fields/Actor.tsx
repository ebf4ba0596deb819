import { parseEntityRef } from '@backstage/catalog-model';
import { EntityRefLink } from '@backstage/plugin-catalog-react';

/**
 * Who acted: a link when it is a user or group entity ref; a service subject
 * (`external:demo-ci`) or a plain name is shown as it is.
 */
export function Actor(props: { actor: string }) {
  let ref;
  try {
    ref = parseEntityRef(props.actor);
  } catch {
    return <>{props.actor}</>;
  }
  return ['user', 'group'].includes(ref.kind.toLocaleLowerCase('en-US')) ? (
    <EntityRefLink entityRef={ref} defaultKind="User" />
  ) : (
    <>{props.actor}</>
  );
}
