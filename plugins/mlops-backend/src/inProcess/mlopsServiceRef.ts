import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import type { MlopsService } from './MlopsService';

/**
 * Where the mlops plugin leaves its {@link MlopsService} for the other
 * plugins of the same backend. Root-scoped, so there is one per backend: the
 * plugin's own instance, over its own database (the demo's is SQLite in
 * memory, which a second connection would not see).
 */
export class MlopsServiceHolder {
  private service?: MlopsService;
  private failure?: Error;
  private readonly waiting: Array<{
    resolve: (service: MlopsService) => void;
    reject: (error: Error) => void;
  }> = [];

  /** Called once by the mlops plugin during its init. */
  provide(service: MlopsService): void {
    this.service = service;
    for (const { resolve } of this.waiting.splice(0)) resolve(service);
  }

  /** Called once the backend has started: nobody will provide it any more. */
  startupFinished(): void {
    if (this.service) return;
    this.failure = new Error(
      'The Loopline mlops plugin (@loopline/plugin-mlops-backend) is not installed in this backend; ' +
        'the mlops scaffolder actions need it in the same backend',
    );
    for (const { reject } of this.waiting.splice(0)) reject(this.failure);
  }

  get(): Promise<MlopsService> {
    if (this.service) return Promise.resolve(this.service);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) =>
      this.waiting.push({ resolve, reject }),
    );
  }
}

/** @internal The holder; only the mlops plugin provides into it. */
export const mlopsServiceHolderRef = createServiceRef<MlopsServiceHolder>({
  id: 'loopline.mlops.service-holder',
  scope: 'root',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: { lifecycle: coreServices.rootLifecycle },
      factory({ lifecycle }) {
        const holder = new MlopsServiceHolder();
        lifecycle.addStartupHook(() => holder.startupFinished());
        return holder;
      },
    }),
});

/**
 * Loopline's registry and tracking, in process, for modules of other plugins
 * in the same backend (e.g. the scaffolder's `mlops:*` actions). Calls wait
 * for the mlops plugin's init and fail if it is not installed.
 *
 * @public
 */
export const mlopsServiceRef = createServiceRef<MlopsService>({
  id: 'loopline.mlops',
  scope: 'plugin',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: { holder: mlopsServiceHolderRef },
      factory({ holder }): MlopsService {
        return {
          createRegisteredModel: async (...args) =>
            (await holder.get()).createRegisteredModel(...args),
          findRegisteredModel: async (...args) =>
            (await holder.get()).findRegisteredModel(...args),
          createExperiment: async (...args) =>
            (await holder.get()).createExperiment(...args),
          findExperiment: async (...args) =>
            (await holder.get()).findExperiment(...args),
        };
      },
    }),
});
