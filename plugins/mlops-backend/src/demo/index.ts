/*
 * The demo's training code: CSV parsing, seeded splits, standardisation,
 * closed-form ridge and gradient-descent logistic regression, metrics, and
 * the recipes that train the demo catalog's models on real data from
 * examples/data into ONNX artifacts.
 */
export * from './csv';
export * from './random';
export * from './preprocessing';
export * from './linalg';
export * from './trainers';
export * from './metrics';
export * from './datasets';
export * from './recipes';
