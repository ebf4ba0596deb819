export { EntityMlopsAuditCard } from './EntityMlopsAuditCard';
export type { EntityMlopsAuditCardProps } from './EntityMlopsAuditCard';
