import { EntityRelation } from '@backstage/catalog-model';
import { InfoCard } from '@backstage/core-components';
import { EntityRefLinks, useEntity } from '@backstage/plugin-catalog-react';
import Typography from '@material-ui/core/Typography';
import { RELATION_TITLES } from '../../relations';
import { Field, FieldGrid } from '../fields';

/** Props of {@link EntityMlopsRelationsCard}. */
export interface EntityMlopsRelationsCardProps {
  /** Defaults to "Related entities". */
  title?: string;
}

const knownRelations = Object.keys(RELATION_TITLES);

/** Known relations first, in the order of their titles, then the others by name. */
function byRelation(a: string, b: string) {
  const position = (type: string) => {
    const index = knownRelations.indexOf(type);
    return index < 0 ? knownRelations.length : index;
  };
  return position(a) - position(b) || a.localeCompare(b);
}

/** The targets of each relation type; a set, as both ends may emit a relation. */
function groupRelations(relations: EntityRelation[]) {
  const groups = new Map<string, Set<string>>();
  for (const { type, targetRef } of relations) {
    groups.set(type, (groups.get(type) ?? new Set()).add(targetRef));
  }
  return [...groups.keys()]
    .sort(byRelation)
    .map(type => ({ type, targetRefs: [...groups.get(type)!] }));
}

/** The current entity's relations, one labelled list of links per relation. */
export function EntityMlopsRelationsCard(props: EntityMlopsRelationsCardProps) {
  const { title = 'Related entities' } = props;
  const { entity } = useEntity();
  const groups = groupRelations(entity.relations ?? []);
  return (
    <InfoCard title={title} variant="gridItem">
      {groups.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          No related entities.
        </Typography>
      ) : (
        <FieldGrid>
          {groups.map(({ type, targetRefs }) => (
            <Field
              key={type}
              label={RELATION_TITLES[type] ?? type}
              value={<EntityRefLinks entityRefs={targetRefs} />}
              fullWidth
            />
          ))}
        </FieldGrid>
      )}
    </InfoCard>
  );
}
