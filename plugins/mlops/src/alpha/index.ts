/**
 * Loopline's frontend plugin for Backstage's new frontend system: the ML page
 * (with its nav item), the mlops API, and the cards and tabs of the ML
 * entity pages.
 *
 * @packageDocumentation
 */
export { mlopsPlugin as default } from './plugin';
export { mlopsEntityCards } from './entityCards';
export { mlopsEntityContents } from './entityContents';
