import { RELATION_DEPENDS_ON } from '@backstage/catalog-model';
import {
  EntityRelationCard,
  entityDataTableColumns,
} from '@backstage/plugin-catalog-react/alpha';
import { MODEL_KIND } from '@loopline/mlops-common';

/** Props of {@link EntityDependsOnModelsCard}. */
export interface EntityDependsOnModelsCardProps {
  /** Defaults to "Depends on models". */
  title?: string;
}

const columns = [
  entityDataTableColumns.createEntityRefColumn({ defaultKind: MODEL_KIND }),
  entityDataTableColumns.createOwnerColumn(),
  entityDataTableColumns.createSpecTypeColumn(),
  entityDataTableColumns.createSpecLifecycleColumn(),
  entityDataTableColumns.createMetadataDescriptionColumn(),
];

/**
 * The Models the current entity depends on, as the catalog's "Depends on
 * components" and "Depends on resources" cards list theirs (those two leave
 * other kinds out).
 */
export function EntityDependsOnModelsCard(
  props: EntityDependsOnModelsCardProps,
) {
  return (
    <EntityRelationCard
      title={props.title ?? 'Depends on models'}
      entityKind={MODEL_KIND}
      relationType={RELATION_DEPENDS_ON}
      columnConfig={columns}
      emptyState={{ message: 'No model is a dependency of this entity.' }}
    />
  );
}
