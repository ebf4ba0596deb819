import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  ModelStage,
  modelGateOverridePermission,
} from '@loopline/mlops-common';

/**
 * Whether a caller asked to promote past failing gates, and may: asked and
 * allowed, asked and not allowed, or not asked.
 */
export type GateOverride = 'none' | 'allowed' | 'denied';

/**
 * Checked by the stage routes (MLflow's and the registry's) before a version
 * moves: the Model's gates live above the registry (quality), which
 * implements this. Throws (InvalidStateError with the reasons, or
 * NotAllowedError for a refused override) to refuse the move.
 */
export interface StageGate {
  beforeTransition(request: {
    name: string;
    version: number;
    stage: ModelStage;
    credentials: BackstageCredentials;
    comment?: string;
    override: GateOverride;
  }): Promise<void>;
}

/** The caller's override request, decided by the policy (routers authorize, services do not). */
export async function gateOverrideOf(
  permissions: PermissionsService,
  credentials: BackstageCredentials,
  requested: boolean | undefined,
): Promise<GateOverride> {
  if (!requested) return 'none';
  const [decision] = await permissions.authorize(
    [{ permission: modelGateOverridePermission }],
    { credentials },
  );
  return decision.result === AuthorizeResult.ALLOW ? 'allowed' : 'denied';
}
