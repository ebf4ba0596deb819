export { modelEntitySchema } from './model';
export { datasetEntitySchema } from './dataset';
export { pipelineEntitySchema } from './pipeline';
