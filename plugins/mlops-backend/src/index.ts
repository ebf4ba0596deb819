/**
 * Loopline's backend plugin: the ML lifecycle API under `/api/mlops`.
 *
 * @packageDocumentation
 */
export { mlopsPlugin as default } from './plugin';
