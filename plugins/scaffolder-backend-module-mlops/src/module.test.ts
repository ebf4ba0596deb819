import { startTestBackend } from '@backstage/backend-test-utils';
import {
  scaffolderActionsExtensionPoint,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { scaffolderModuleMlops } from './module';

describe('scaffolderModuleMlops', () => {
  it('adds the mlops:* actions, each with a described schema, examples and dry-run support', async () => {
    const actions: TemplateAction<any, any, any>[] = [];
    await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          {
            addActions: (...added: TemplateAction<any, any, any>[]) =>
              actions.push(...added),
          },
        ],
      ],
      features: [scaffolderModuleMlops],
    });
    expect(actions.map(a => a.id).sort()).toEqual([
      'mlops:entity:validate',
      'mlops:registry:create-model',
      'mlops:serving:render-manifests',
      'mlops:token:describe',
      'mlops:tracking:create-experiment',
    ]);
    for (const action of actions) {
      expect(action.supportsDryRun).toBe(true);
      expect(action.examples?.length).toBeGreaterThan(0);
      const input = action.schema?.input as any;
      expect(input?.type).toBe('object');
      for (const [key, property] of Object.entries<any>(input.properties)) {
        expect([action.id, key, typeof property.description]).toEqual([
          action.id,
          key,
          'string',
        ]);
      }
    }
  });
});
