/**
 * Test helpers for packages that build on this plugin's KServe code (the
 * scaffolder module renders the same InferenceService): the specs folder
 * and the InferenceService CRD's structural schema, enforced as the API
 * server does.
 *
 * @packageDocumentation
 */
// This entry point is for tests only, so it may re-export the test helpers
// that production code must not import.
/* eslint-disable no-restricted-imports */
export {
  describeWithSpecs,
  readSpecJson,
  readSpecText,
  readSpecYaml,
  specPath,
  specsDir,
  specsRequired,
} from './__testUtils__/specs';
export {
  CrdValidator,
  inferenceServiceValidator,
} from './rollout/kserve/__testUtils__/crdSchema';
export type { FieldCause } from './rollout/kserve/__testUtils__/crdSchema';
