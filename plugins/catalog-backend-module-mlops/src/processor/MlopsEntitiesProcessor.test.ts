import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Entity } from '@backstage/catalog-model';
import { LocationSpec } from '@backstage/plugin-catalog-common';
import {
  RELATION_CONSUMES_DATASET,
  RELATION_DATASET_CONSUMED_BY,
  RELATION_PRODUCED_BY,
  RELATION_PRODUCES,
  RELATION_TRAINED_ON,
  RELATION_USED_TO_TRAIN,
} from '@loopline/mlops-common';
import { MlopsEntitiesProcessor } from './MlopsEntitiesProcessor';
import { invalidEntityCases } from '../__fixtures__/invalidEntities';

const examplesDir = path.resolve(__dirname, '../../../../examples');

function loadExamples(): Entity[] {
  return fs
    .readdirSync(examplesDir)
    .filter(file => file.endsWith('.yaml'))
    .flatMap(file =>
      parseAllDocuments(
        fs.readFileSync(path.join(examplesDir, file), 'utf8'),
      ).map(doc => doc.toJSON() as Entity),
    );
}

const location: LocationSpec = { type: 'file', target: 'test.yaml' };

describe('MlopsEntitiesProcessor', () => {
  const processor = new MlopsEntitiesProcessor();

  describe('validateEntityKind', () => {
    const examples = loadExamples();
    const ours = examples.filter(e => e.apiVersion === 'loopline.dev/v1alpha1');

    it('accepts every Model, Dataset and Pipeline of the demo catalog', async () => {
      expect(ours.map(e => e.kind).sort()).toEqual(
        expect.arrayContaining(['Dataset', 'Model', 'Pipeline']),
      );
      expect(ours.length).toBeGreaterThanOrEqual(10);
      for (const entity of ours) {
        await expect(processor.validateEntityKind(entity)).resolves.toBe(true);
      }
    });

    it('leaves other kinds to other processors', async () => {
      const others = examples.filter(
        e => e.apiVersion !== 'loopline.dev/v1alpha1',
      );
      expect(others.length).toBeGreaterThan(0);
      for (const entity of others) {
        await expect(processor.validateEntityKind(entity)).resolves.toBe(false);
      }
      await expect(
        processor.validateEntityKind({
          apiVersion: 'example.com/v1',
          kind: 'Model',
          metadata: { name: 'someone-elses-model' },
        }),
      ).resolves.toBe(false);
    });

    it.each(invalidEntityCases.map(c => [c.defect, c] as const))(
      'rejects %s, naming the entity and the field',
      async (_defect, { entity, field }) => {
        const ref = `${entity.kind.toLocaleLowerCase()}:default/${
          entity.metadata.name
        }`;
        const error = await processor.validateEntityKind(entity).then(
          () => undefined,
          e => e as Error,
        );
        expect(error?.name).toBe('InputError');
        expect(error?.message).toContain(
          `${entity.kind} "${ref}" is invalid: `,
        );
        expect(error?.message).toContain(`${field} `);
      },
    );
  });

  describe('postProcessEntity', () => {
    async function relationsOf(entity: Entity) {
      const emit = jest.fn();
      await processor.postProcessEntity(entity, location, emit);
      return emit.mock.calls.map(([result]) => {
        const { source, type, target } = result.relation;
        const ref = (r: typeof source) => `${r.kind}:${r.namespace}/${r.name}`;
        return `${ref(source)} ${type} ${ref(target)}`;
      });
    }

    it('emits every reference of a Model in both directions', async () => {
      const relations = await relationsOf({
        apiVersion: 'loopline.dev/v1alpha1',
        kind: 'Model',
        metadata: { name: 'wine-quality', namespace: 'ml' },
        spec: {
          type: 'regression',
          owner: 'wine-science',
          lifecycle: 'production',
          system: 'wine-quality',
          trainedOn: ['wine-features', 'dataset:shared/wine-labels'],
          producedBy: 'wine-quality-training',
        },
      });
      expect(relations.sort()).toEqual(
        [
          'Model:ml/wine-quality ownedBy Group:ml/wine-science',
          'Group:ml/wine-science ownerOf Model:ml/wine-quality',
          'Model:ml/wine-quality partOf System:ml/wine-quality',
          'System:ml/wine-quality hasPart Model:ml/wine-quality',
          `Model:ml/wine-quality ${RELATION_TRAINED_ON} Dataset:ml/wine-features`,
          `Dataset:ml/wine-features ${RELATION_USED_TO_TRAIN} Model:ml/wine-quality`,
          `Model:ml/wine-quality ${RELATION_TRAINED_ON} Dataset:shared/wine-labels`,
          `Dataset:shared/wine-labels ${RELATION_USED_TO_TRAIN} Model:ml/wine-quality`,
          `Model:ml/wine-quality ${RELATION_PRODUCED_BY} Pipeline:ml/wine-quality-training`,
          `Pipeline:ml/wine-quality-training ${RELATION_PRODUCES} Model:ml/wine-quality`,
        ].sort(),
      );
    });

    it('emits what a Pipeline consumes and produces, models and datasets alike', async () => {
      const relations = await relationsOf({
        apiVersion: 'loopline.dev/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'prep' },
        spec: {
          type: 'data',
          owner: 'user:alice',
          lifecycle: 'production',
          consumes: ['raw'],
          produces: ['dataset:features', 'model:baseline'],
        },
      });
      expect(relations).toEqual(
        expect.arrayContaining([
          'Pipeline:default/prep ownedBy User:default/alice',
          `Pipeline:default/prep ${RELATION_CONSUMES_DATASET} Dataset:default/raw`,
          `Dataset:default/raw ${RELATION_DATASET_CONSUMED_BY} Pipeline:default/prep`,
          `Pipeline:default/prep ${RELATION_PRODUCES} Dataset:default/features`,
          `Dataset:default/features ${RELATION_PRODUCED_BY} Pipeline:default/prep`,
          `Pipeline:default/prep ${RELATION_PRODUCES} Model:default/baseline`,
          `Model:default/baseline ${RELATION_PRODUCED_BY} Pipeline:default/prep`,
        ]),
      );
      expect(relations).toHaveLength(8);
    });

    it('emits nothing for other kinds', async () => {
      const relations = await relationsOf({
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'api' },
        spec: { owner: 'x', type: 'service', lifecycle: 'production' },
      });
      expect(relations).toEqual([]);
    });
  });
});
