export { createMonitoring } from './createMonitoring';
export { MonitoringService } from './MonitoringService';
export type {
  ModelDirectory,
  MonitoredDataset,
  MonitoredModel,
  InferenceWindowReader,
} from './MonitoringService';
export { MonitoringStore } from './MonitoringStore';
export { readMonitoringConfig } from './config';
