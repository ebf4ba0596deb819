export { MlopsPage } from './MlopsPage';
