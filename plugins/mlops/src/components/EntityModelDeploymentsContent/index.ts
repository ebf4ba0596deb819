export { EntityModelDeploymentsContent } from './EntityModelDeploymentsContent';
export type { EntityModelDeploymentsContentProps } from './EntityModelDeploymentsContent';
