export { EntityDatasetMonitorsCard } from './EntityDatasetMonitorsCard';
export type { EntityDatasetMonitorsCardProps } from './EntityDatasetMonitorsCard';
