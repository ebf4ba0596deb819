/**
 * Writes the demo's derived Parquet files (examples/data/wine-features.parquet
 * and wine-holdout.parquet) from winequality.csv: `npm run demo:data`.
 */
import { findDemoDataDir } from '../src/demo/datasets';
import { writeWineFeatureFiles } from '../src/demo/featureSets';

for (const path of writeWineFeatureFiles(findDemoDataDir())) {
  process.stdout.write(`wrote ${path}\n`);
}
