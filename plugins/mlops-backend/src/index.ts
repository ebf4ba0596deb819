/**
 * Loopline's backend plugin: the ML lifecycle API under `/api/mlops`.
 *
 * @packageDocumentation
 */
export { mlopsPlugin as default } from './plugin';
/** The standalone serving data plane, for the `loopline-serving` bin (packages/serving). */
export { runStandaloneDataPlane } from './serving/dataPlane/standalone';
