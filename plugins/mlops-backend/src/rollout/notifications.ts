import { LoggerService } from '@backstage/backend-plugin-api';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import { parseEntityRef } from '@backstage/catalog-model';
import type { RolloutListener } from './RolloutService';

const TITLES: Record<string, string> = {
  start: 'rollout started',
  step: 'rollout advanced',
  switch: 'traffic switched to the candidate',
  promote: 'candidate promoted',
  rollback: 'rollout rolled back',
  pause: 'rollout paused',
  resume: 'rollout resumed',
};

const SEVERITIES: Partial<Record<string, 'high' | 'normal'>> = {
  rollback: 'high',
  promote: 'normal',
};

/**
 * Tells a model's owners of every rollout action and automatic decision,
 * through Backstage notifications (the entity's owners are its recipients).
 * A failure to notify is logged, never fails the action.
 */
export function rolloutNotifier(options: {
  notifications: NotificationService;
  logger: LoggerService;
}): RolloutListener {
  return {
    async onAction({ deployment, action, actor, automatic, comment }) {
      const rollout = deployment.rollout;
      const version = rollout?.candidateVersion;
      const { namespace, name } = parseEntityRef(deployment.entityRef);
      const weights = `stable ${deployment.weights.stable}% / candidate ${deployment.weights.candidate}%`;
      try {
        await options.notifications.send({
          recipients: { type: 'entity', entityRef: deployment.entityRef },
          payload: {
            title: `${deployment.modelName} v${version} in ${
              deployment.environment
            }: ${TITLES[action] ?? action}`,
            description: [
              `${automatic ? 'By the analysis' : `By ${actor}`}${
                rollout ? ` (${rollout.strategy})` : ''
              }; ${weights}.`,
              comment,
            ]
              .filter(Boolean)
              .join(' '),
            link: `/catalog/${namespace}/model/${name}/deployments`,
            severity: SEVERITIES[action] ?? 'low',
            topic: `loopline-rollout:${deployment.modelName}:${deployment.environment}`,
          },
        });
      } catch (error) {
        options.logger.warn(
          `Could not notify the owners of ${deployment.entityRef}: ${
            (error as Error)?.message
          }`,
        );
      }
    },
  };
}
