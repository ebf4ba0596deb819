export type { MlopsService } from './MlopsService';
export { MlopsInProcessService } from './MlopsInProcessService';
export { mlopsServiceHolderRef, mlopsServiceRef } from './mlopsServiceRef';
