export type {
  ArtifactChecksum,
  ArtifactListEntry,
  ArtifactStore,
} from './artifacts/ArtifactStore';
export {
  ArtifactIntegrityError,
  ArtifactTooLargeError,
} from './artifacts/ArtifactStore';
export { FileSystemArtifactStore } from './artifacts/FileSystemArtifactStore';
export type { FileSystemArtifactStoreOptions } from './artifacts/FileSystemArtifactStore';
export { OnnxInspector } from './onnx/OnnxInspector';
export type { ModelInspector } from './onnx/OnnxInspector';
export { RegistryStore } from './RegistryStore';
export { RegistryService, REGISTRY_SEARCH_LIMITS } from './RegistryService';
export type {
  RegistryServiceOptions,
  RunData,
  RunLookup,
} from './RegistryService';
export {
  ENTITY_REF_TAG,
  REGISTRY_LIMITS,
  validateAliasName,
  validateModelName,
} from './names';
export { catalogModelEntityLookup, requireModelEntity } from './modelEntity';
export type { ModelEntityLookup } from './modelEntity';
