import { InputError } from '@backstage/errors';
import {
  writeLinearRegressor,
  writeLogisticRegressor,
} from '../registry/onnx/OnnxWriter';
import { CsvTable } from './csv';
import {
  DEMO_DATA_FILES,
  DemoFeature,
  DemoTarget,
  featureMatrix,
  requireColumns,
  targetVector,
  WINE_PHYSICOCHEMICAL_FEATURES,
} from './datasets';
import {
  accuracy,
  f1,
  logLoss,
  mae,
  precision,
  precisionAtFraction,
  r2,
  recall,
  rmse,
  rocAuc,
  threshold,
} from './metrics';
import {
  fitStandardScaler,
  Matrix,
  StandardScaler,
  standardize,
} from './preprocessing';
import { pick, trainTestSplit } from './random';
import {
  predictLinear,
  predictProbability,
  trainLogisticRegression,
  trainRidgeRegression,
} from './trainers';

export type DemoTask = 'regression' | 'binary-classification';

export type DemoHyperParameters =
  | { algorithm: 'ridge'; lambda: number }
  | {
      algorithm: 'logistic_regression';
      learningRate: number;
      epochs: number;
      l2: number;
    };

/** One training configuration; each gives one model version. */
export interface DemoTrainingSetting {
  /** Short label, e.g. 'v1-strong-penalty'; used as the run name. */
  label: string;
  description: string;
  hyperParameters: DemoHyperParameters;
}

/** How a demo catalog model is trained. */
export interface DemoModelRecipe {
  /** Registered model name, the same as the catalog Model entity's name. */
  modelName: string;
  /** The catalog Model entity, e.g. 'model:default/wine-quality'. */
  entityRef: string;
  /** MLflow-style experiment the training runs go to. */
  experimentName: string;
  task: DemoTask;
  dataset: {
    /** The catalog Dataset entity the data stands for. */
    entityRef: string;
    /** File name in examples/data. */
    file: string;
  };
  /** Model inputs, in ONNX input column order (all standardised inside the model). */
  features: DemoFeature[];
  target: DemoTarget;
  /** [class 0, class 1] names for classifiers. */
  classLabels?: [string, string];
  split: { testFraction: number; seed: number; stratify: boolean };
  /** The metric keys a run logs (the test-set values). */
  metrics: string[];
  /** Two settings, giving versions 1 and 2. */
  settings: [DemoTrainingSetting, DemoTrainingSetting];
}

const physicochemical: DemoFeature[] = WINE_PHYSICOCHEMICAL_FEATURES.map(c => ({
  name: c,
  column: c,
}));

/** Points of a ridge run's learning curve. */
const LEARNING_CURVE_STEPS = 10;

const REGRESSION_METRICS = ['rmse', 'mae', 'r2', 'train_rmse', 'train_r2'];
const CLASSIFICATION_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'roc_auc',
  'log_loss',
  'precision_at_10pct',
  'train_accuracy',
];

const RECIPES: DemoModelRecipe[] = [
  {
    modelName: 'wine-quality',
    entityRef: 'model:default/wine-quality',
    experimentName: 'wine-quality',
    task: 'regression',
    dataset: {
      entityRef: 'dataset:default/wine-quality-raw',
      file: DEMO_DATA_FILES.wineQuality,
    },
    features: [
      ...physicochemical,
      { name: 'is_red', column: 'color', oneHotOf: 'red' },
    ],
    target: { column: 'quality' },
    split: { testFraction: 0.2, seed: 7, stratify: false },
    metrics: REGRESSION_METRICS,
    settings: [
      {
        label: 'ridge-lambda-100',
        description: 'Ridge regression with a strong penalty (lambda 100)',
        hyperParameters: { algorithm: 'ridge', lambda: 100 },
      },
      {
        label: 'ridge-lambda-10',
        description: 'Ridge regression with a lighter penalty (lambda 10)',
        hyperParameters: { algorithm: 'ridge', lambda: 10 },
      },
    ],
  },
  {
    modelName: 'wine-type-classifier',
    entityRef: 'model:default/wine-type-classifier',
    experimentName: 'wine-type-classifier',
    task: 'binary-classification',
    dataset: {
      entityRef: 'dataset:default/wine-quality-raw',
      file: DEMO_DATA_FILES.wineQuality,
    },
    features: physicochemical,
    target: { column: 'color', positive: 'red' },
    classLabels: ['white', 'red'],
    split: { testFraction: 0.2, seed: 7, stratify: true },
    metrics: CLASSIFICATION_METRICS,
    settings: [
      {
        label: 'logreg-short',
        description:
          'Logistic regression, 20 epochs of gradient descent at step 0.05, L2 0.1',
        hyperParameters: {
          algorithm: 'logistic_regression',
          learningRate: 0.05,
          epochs: 20,
          l2: 0.1,
        },
      },
      {
        label: 'logreg-long',
        description:
          'Logistic regression, 300 epochs of gradient descent at step 0.5, L2 0.001',
        hyperParameters: {
          algorithm: 'logistic_regression',
          learningRate: 0.5,
          epochs: 300,
          l2: 0.001,
        },
      },
    ],
  },
  {
    modelName: 'customer-churn',
    entityRef: 'model:default/customer-churn',
    experimentName: 'customer-churn',
    task: 'binary-classification',
    dataset: {
      entityRef: 'dataset:default/churn-features',
      file: DEMO_DATA_FILES.telcoChurn,
    },
    features: [
      { name: 'tenure_months', column: 'tenure_months' },
      { name: 'monthly_charges', column: 'monthly_charges' },
      { name: 'senior_citizen', column: 'senior_citizen' },
      { name: 'contract_one_year', column: 'contract', oneHotOf: 'One year' },
      { name: 'contract_two_year', column: 'contract', oneHotOf: 'Two year' },
      {
        name: 'internet_fiber_optic',
        column: 'internet_service',
        oneHotOf: 'Fiber optic',
      },
      { name: 'internet_none', column: 'internet_service', oneHotOf: 'No' },
      { name: 'tech_support', column: 'tech_support', oneHotOf: 'Yes' },
      { name: 'online_security', column: 'online_security', oneHotOf: 'Yes' },
      {
        name: 'paperless_billing',
        column: 'paperless_billing',
        oneHotOf: 'Yes',
      },
      {
        name: 'pays_by_electronic_check',
        column: 'payment_method',
        oneHotOf: 'Electronic check',
      },
    ],
    target: { column: 'churned', positive: 'true' },
    classLabels: ['stays', 'churns'],
    split: { testFraction: 0.25, seed: 7, stratify: true },
    metrics: CLASSIFICATION_METRICS,
    settings: [
      {
        label: 'logreg-strong-l2',
        description:
          'Logistic regression, 50 epochs at step 0.1, strong L2 (0.5)',
        hyperParameters: {
          algorithm: 'logistic_regression',
          learningRate: 0.1,
          epochs: 50,
          l2: 0.5,
        },
      },
      {
        label: 'logreg-weak-l2',
        description:
          'Logistic regression, 400 epochs at step 0.3, weak L2 (0.01)',
        hyperParameters: {
          algorithm: 'logistic_regression',
          learningRate: 0.3,
          epochs: 400,
          l2: 0.01,
        },
      },
    ],
  },
];

/** The training recipes of the demo catalog's three models. */
export function demoModelRecipes(): DemoModelRecipe[] {
  return structuredClone(RECIPES);
}

/** One recipe by model name. */
export function demoModelRecipe(modelName: string): DemoModelRecipe {
  const recipe = RECIPES.find(r => r.modelName === modelName);
  if (!recipe) {
    throw new InputError(
      `No demo recipe for model "${modelName}"; there are ${RECIPES.map(
        r => r.modelName,
      ).join(', ')}`,
    );
  }
  return structuredClone(recipe);
}

/** A trained demo model: standardise with the scaler, then the linear part (and a sigmoid for classifiers). */
export interface DemoTrainedModel {
  task: DemoTask;
  featureNames: string[];
  scaler: StandardScaler;
  /** On the standardised scale. */
  weights: number[];
  bias: number;
}

export interface DemoMetricPoint {
  key: string;
  value: number;
  step: number;
}

/** Everything a training run logs and registers. */
export interface DemoTrainingResult {
  modelName: string;
  setting: DemoTrainingSetting;
  /** Run parameters (strings, as MLflow logs them). */
  params: Record<string, string>;
  /** Final metrics (test set unless prefixed train_). */
  metrics: Record<string, number>;
  /** Per-epoch train_loss and val_loss for gradient descent; the learning curve (train_rmse, val_rmse by tenth of the training rows) for ridge. */
  metricHistory: DemoMetricPoint[];
  model: DemoTrainedModel;
  /** The model as ONNX: FP32 input [batch, nFeatures] of raw feature values. */
  onnx: Buffer;
  /** Row indices of the table used for training and testing. */
  split: { train: number[]; test: number[] };
}

/** Predictions of a trained demo model on raw feature rows: values (regression) or P(class 1). */
export function predictDemoModel(model: DemoTrainedModel, x: Matrix): number[] {
  const z = standardize(x, model.scaler);
  return model.task === 'regression'
    ? predictLinear(model, z)
    : predictProbability(model, z);
}

/**
 * Trains one version of a demo model on a table (the parsed CSV of
 * recipe.dataset.file): split, standardise on the training rows, fit,
 * evaluate on the test rows and write the ONNX model. Pure: no I/O, same
 * input, same result.
 */
export function trainDemoModel(
  recipe: DemoModelRecipe,
  settingIndex: 0 | 1,
  table: CsvTable,
): DemoTrainingResult {
  const setting = recipe.settings[settingIndex];
  if (!setting) {
    throw new InputError(
      `Demo recipes have settings 0 and 1, got ${settingIndex}`,
    );
  }
  requireColumns(table, [
    ...new Set([...recipe.features.map(f => f.column), recipe.target.column]),
  ]);
  const x = featureMatrix(table.rows, recipe.features);
  const y = targetVector(table.rows, recipe.target);
  const split = trainTestSplit(x.length, {
    testFraction: recipe.split.testFraction,
    seed: recipe.split.seed,
    stratify: recipe.split.stratify ? y : undefined,
  });
  const xTrain = pick(x, split.train);
  const yTrain = pick(y, split.train);
  const xTest = pick(x, split.test);
  const yTest = pick(y, split.test);
  const scaler = fitStandardScaler(xTrain);
  const zTrain = standardize(xTrain, scaler);
  const zTest = standardize(xTest, scaler);
  const featureNames = recipe.features.map(f => f.name);

  const params: Record<string, string> = {
    algorithm: setting.hyperParameters.algorithm,
    dataset: recipe.dataset.entityRef,
    data_file: recipe.dataset.file,
    target: recipe.target.column,
    features: featureNames.join(','),
    n_features: String(featureNames.length),
    n_train: String(split.train.length),
    n_test: String(split.test.length),
    test_fraction: String(recipe.split.testFraction),
    split_seed: String(recipe.split.seed),
    standardize: 'true',
  };
  const metrics: Record<string, number> = {};
  const metricHistory: DemoMetricPoint[] = [];
  let weights: number[];
  let bias: number;
  const hp = setting.hyperParameters;

  if (hp.algorithm === 'ridge') {
    if (recipe.task !== 'regression') {
      throw new InputError(
        `Ridge regression cannot train the classifier ${recipe.modelName}`,
      );
    }
    params.lambda = String(hp.lambda);
    ({ weights, bias } = trainRidgeRegression(zTrain, yTrain, {
      lambda: hp.lambda,
    }));
    const trainPred = predictLinear({ weights, bias }, zTrain);
    const testPred = predictLinear({ weights, bias }, zTest);
    metrics.rmse = rmse(yTest, testPred);
    metrics.mae = mae(yTest, testPred);
    metrics.r2 = r2(yTest, testPred);
    metrics.train_rmse = rmse(yTrain, trainPred);
    metrics.train_r2 = r2(yTrain, trainPred);
    // A closed-form fit has no epochs; its learning curve (the fit on the
    // first 10%, 20%, ... of the training rows) gives the run a history.
    for (let step = 1; step <= LEARNING_CURVE_STEPS; step++) {
      const n = Math.max(
        featureNames.length + 1,
        Math.round((zTrain.length * step) / LEARNING_CURVE_STEPS),
      );
      const partial = trainRidgeRegression(
        zTrain.slice(0, n),
        yTrain.slice(0, n),
        {
          lambda: hp.lambda,
        },
      );
      metricHistory.push(
        {
          key: 'val_rmse',
          value: rmse(yTest, predictLinear(partial, zTest)),
          step,
        },
        {
          key: 'train_rmse',
          value: rmse(
            yTrain.slice(0, n),
            predictLinear(partial, zTrain.slice(0, n)),
          ),
          step,
        },
      );
    }
  } else {
    if (recipe.task !== 'binary-classification') {
      throw new InputError(
        `Logistic regression cannot train the regressor ${recipe.modelName}`,
      );
    }
    params.learning_rate = String(hp.learningRate);
    params.epochs = String(hp.epochs);
    params.l2 = String(hp.l2);
    const result = trainLogisticRegression(zTrain, yTrain, {
      learningRate: hp.learningRate,
      epochs: hp.epochs,
      l2: hp.l2,
      validation: { x: zTest, y: yTest },
    });
    ({ weights, bias } = result);
    result.lossHistory.forEach((value, epoch) =>
      metricHistory.push({ key: 'train_loss', value, step: epoch + 1 }),
    );
    result.validationLossHistory!.forEach((value, epoch) =>
      metricHistory.push({ key: 'val_loss', value, step: epoch + 1 }),
    );
    const pTest = predictProbability({ weights, bias }, zTest);
    const pTrain = predictProbability({ weights, bias }, zTrain);
    const labels = threshold(pTest);
    metrics.accuracy = accuracy(yTest, labels);
    metrics.precision = precision(yTest, labels);
    metrics.recall = recall(yTest, labels);
    metrics.f1 = f1(yTest, labels);
    metrics.roc_auc = rocAuc(yTest, pTest);
    metrics.log_loss = logLoss(yTest, pTest);
    metrics.precision_at_10pct = precisionAtFraction(yTest, pTest, 0.1);
    metrics.train_accuracy = accuracy(yTrain, threshold(pTrain));
  }

  const model: DemoTrainedModel = {
    task: recipe.task,
    featureNames,
    scaler,
    weights,
    bias,
  };
  const common = {
    weights,
    bias,
    featureNames,
    scaler: { mean: scaler.mean, scale: scaler.scale },
    modelName: recipe.modelName,
    docString: `${recipe.modelName}: ${
      setting.description
    }. Input: raw values of ${featureNames.join(', ')}.`,
    metadata: {
      'loopline.dataset': recipe.dataset.entityRef,
      'loopline.target': recipe.target.column,
      'loopline.training_setting': setting.label,
    },
  };
  const onnx =
    recipe.task === 'regression'
      ? writeLinearRegressor({ ...common, outputName: 'variable' })
      : writeLogisticRegressor({ ...common, classLabels: recipe.classLabels });

  return {
    modelName: recipe.modelName,
    setting,
    params,
    metrics,
    metricHistory,
    model,
    onnx,
    split,
  };
}
