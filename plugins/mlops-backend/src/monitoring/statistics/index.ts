export * from './compare';
export * from './ks';
export * from './methods';
export * from './adwin';
export * from './reservoir';
export { kolmogornSf, smirnovSf } from './kolmogorov';
