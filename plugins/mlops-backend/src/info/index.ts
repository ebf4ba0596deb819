export { InfoService } from './InfoService';
export { createInfoRouter } from './router';
