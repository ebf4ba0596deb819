import { readFileSync } from 'fs';
import { join } from 'path';
import { readOnnxMetadata, readOnnxModel } from '../registry/onnx/OnnxWriter';
import { runOnnx } from './__testUtils__/runOnnx';
import {
  DEMO_DATA_FILES,
  featureMatrix,
  findDemoDataDir,
  readDemoTable,
} from './datasets';
import { pick } from './random';
import {
  demoModelRecipe,
  demoModelRecipes,
  DemoTrainingResult,
  predictDemoModel,
  trainDemoModel,
} from './recipes';

const tables = {
  [DEMO_DATA_FILES.wineQuality]: readDemoTable(DEMO_DATA_FILES.wineQuality),
  [DEMO_DATA_FILES.telcoChurn]: readDemoTable(DEMO_DATA_FILES.telcoChurn),
};

const results = new Map<string, [DemoTrainingResult, DemoTrainingResult]>();
for (const recipe of demoModelRecipes()) {
  const table = tables[recipe.dataset.file as keyof typeof tables];
  results.set(recipe.modelName, [
    trainDemoModel(recipe, 0, table),
    trainDemoModel(recipe, 1, table),
  ]);
}

describe('demo model recipes', () => {
  it('cover the demo catalog models, two settings each', () => {
    const recipes = demoModelRecipes();
    expect(recipes.map(r => r.modelName)).toEqual([
      'wine-quality',
      'wine-type-classifier',
      'customer-churn',
    ]);
    const modelsYaml = readFileSync(
      join(findDemoDataDir(), '..', 'models.yaml'),
      'utf8',
    );
    for (const recipe of recipes) {
      expect(modelsYaml).toContain(`name: ${recipe.modelName}\n`);
      expect(recipe.entityRef).toBe(`model:default/${recipe.modelName}`);
      expect(recipe.settings).toHaveLength(2);
      expect(recipe.settings[0].hyperParameters).not.toEqual(
        recipe.settings[1].hyperParameters,
      );
    }
    expect(demoModelRecipe('customer-churn').task).toBe(
      'binary-classification',
    );
    expect(() => demoModelRecipe('nope')).toThrow(
      'No demo recipe for model "nope"',
    );
  });

  it('train deterministically', () => {
    const recipe = demoModelRecipe('wine-type-classifier');
    const again = trainDemoModel(
      recipe,
      0,
      tables[DEMO_DATA_FILES.wineQuality],
    );
    const first = results.get('wine-type-classifier')![0];
    expect(again.metrics).toEqual(first.metrics);
    expect(again.model).toEqual(first.model);
    expect(again.onnx.equals(first.onnx)).toBe(true);
  });

  it('log the params and metrics each recipe lists', () => {
    for (const recipe of demoModelRecipes()) {
      for (const result of results.get(recipe.modelName)!) {
        expect(Object.keys(result.metrics).sort()).toEqual(
          [...recipe.metrics].sort(),
        );
        Object.values(result.metrics).forEach(v =>
          expect(Number.isFinite(v)).toBe(true),
        );
        Object.values(result.params).forEach(v =>
          expect(typeof v).toBe('string'),
        );
        expect(result.params.dataset).toBe(recipe.dataset.entityRef);
        expect(
          Number(result.params.n_train) + Number(result.params.n_test),
        ).toBe(tables[recipe.dataset.file as keyof typeof tables].rows.length);
      }
    }
  });

  it('reach sensible quality on the real data', () => {
    const [wq1, wq2] = results.get('wine-quality')!;
    for (const r of [wq1, wq2]) {
      expect(r.metrics.r2).toBeGreaterThan(0.25);
      expect(r.metrics.rmse).toBeLessThan(0.8);
      expect(r.metrics.mae).toBeLessThan(0.6);
    }
    expect(wq2.metrics.rmse).toBeLessThan(wq1.metrics.rmse);

    for (const r of results.get('wine-type-classifier')!) {
      expect(r.metrics.accuracy).toBeGreaterThan(0.95);
      expect(r.metrics.roc_auc).toBeGreaterThan(0.99);
    }
    for (const r of results.get('customer-churn')!) {
      expect(r.metrics.roc_auc).toBeGreaterThan(0.75);
      expect(r.metrics.accuracy).toBeGreaterThan(0.74); // 74% never churn
    }
    const [churn1, churn2] = results.get('customer-churn')!;
    expect(churn2.metrics.f1).toBeGreaterThan(churn1.metrics.f1);
  });

  it('record per-epoch train and validation loss for gradient descent', () => {
    const [short, long] = results.get('wine-type-classifier')!;
    for (const r of [short, long]) {
      const epochs = Number(r.params.epochs);
      const train = r.metricHistory.filter(m => m.key === 'train_loss');
      const val = r.metricHistory.filter(m => m.key === 'val_loss');
      expect(train.map(m => m.step)).toEqual(
        Array.from({ length: epochs }, (_, i) => i + 1),
      );
      expect(val).toHaveLength(epochs);
      expect(train[epochs - 1].value).toBeLessThan(train[0].value);
      expect(val[epochs - 1].value).toBeCloseTo(r.metrics.log_loss, 10);
    }
    expect(long.metrics.log_loss).toBeLessThan(short.metrics.log_loss);
  });

  it('record a learning curve for the closed-form ridge fits', () => {
    for (const r of results.get('wine-quality')!) {
      const val = r.metricHistory.filter(m => m.key === 'val_rmse');
      const train = r.metricHistory.filter(m => m.key === 'train_rmse');
      expect(val.map(m => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(train).toHaveLength(10);
      // The last point is the fit on all training rows: the run's own figures.
      expect(val[9].value).toBeCloseTo(r.metrics.rmse, 10);
      expect(train[9].value).toBeCloseTo(r.metrics.train_rmse, 10);
    }
  });

  function onnxRun(modelName: string, settingIndex: 0 | 1) {
    const recipe = demoModelRecipe(modelName);
    const result = results.get(modelName)![settingIndex];
    const table = tables[recipe.dataset.file as keyof typeof tables];
    const xTest = featureMatrix(
      pick(table.rows, result.split.test),
      recipe.features,
    );
    const out = runOnnx(result.onnx, {
      input: {
        data: xTest.flat(),
        dims: [xTest.length, recipe.features.length],
      },
    });
    return {
      recipe,
      result,
      out,
      expected: predictDemoModel(result.model, xTest),
    };
  }

  it.each([0, 1] as const)(
    'write an ONNX regressor (setting %i) that predicts what the JS model predicts on raw features',
    settingIndex => {
      const { out, expected } = onnxRun('wine-quality', settingIndex);
      expect(out.variable.dims).toEqual([expected.length, 1]);
      const worst = Math.max(
        ...out.variable.data.map((v, i) => Math.abs(v - expected[i])),
      );
      expect(worst).toBeLessThan(1e-5);
    },
  );

  it.each([
    ['wine-type-classifier', 0],
    ['wine-type-classifier', 1],
    ['customer-churn', 0],
    ['customer-churn', 1],
  ] as const)(
    'write an ONNX classifier (%s, setting %i) that predicts what the JS model predicts',
    (modelName, settingIndex) => {
      const { out, expected } = onnxRun(modelName, settingIndex);
      expect(out.probabilities.dims).toEqual([expected.length, 2]);
      const worst = Math.max(
        ...expected.map((p, i) =>
          Math.abs(out.probabilities.data[2 * i + 1] - p),
        ),
      );
      expect(worst).toBeLessThan(1e-5);
      expect(out.label.data).toEqual(expected.map(p => (p > 0.5 ? 1 : 0)));
    },
  );

  it('describe the model in the ONNX metadata and input shape', () => {
    for (const recipe of demoModelRecipes()) {
      for (const result of results.get(recipe.modelName)!) {
        const metadata = readOnnxMetadata(result.onnx);
        expect(metadata['loopline.model']).toBe(recipe.modelName);
        expect(JSON.parse(metadata['loopline.feature_names'])).toEqual(
          recipe.features.map(f => f.name),
        );
        expect(metadata['loopline.training_setting']).toBe(
          result.setting.label,
        );
        expect(metadata['loopline.dataset']).toBe(recipe.dataset.entityRef);
        expect(
          readOnnxModel(result.onnx).graph.input[0].type?.tensor_type?.shape
            ?.dim,
        ).toEqual([
          { dim_param: 'batch' },
          { dim_value: recipe.features.length },
        ]);
      }
    }
  });

  it('reject a table without the recipe columns', () => {
    const recipe = demoModelRecipe('wine-quality');
    expect(() =>
      trainDemoModel(recipe, 0, tables[DEMO_DATA_FILES.telcoChurn]),
    ).toThrow('lacks the column(s) fixed_acidity');
  });
});
