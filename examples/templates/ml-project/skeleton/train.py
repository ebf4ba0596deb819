"""Trains ${{ values.name }} (${{ values.taskType }}) on ${{ values.datasetRef }}.

Logs the parameters, the metrics and the ONNX model to Loopline's tracking
server with the MLflow client, and registers the model as a new version of
the registered model `${{ values.name }}`. The client reads MLFLOW_TRACKING_URI
and MLFLOW_TRACKING_TOKEN from the environment.
"""
import argparse
import json
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
# The Dataset as the catalog describes it: location, format, schema, target.
DATASET = json.loads((HERE / "dataset.json").read_text())
TASK = "${{ values.taskType }}"
PRIMARY_METRIC = "${{ values.primaryMetric }}"
REGISTERED_MODEL = os.environ.get("LOOPLINE_REGISTERED_MODEL", "${{ values.name }}")
EXPERIMENT = os.environ.get("MLFLOW_EXPERIMENT_NAME", "${{ values.name }}")
SEED = 42


def feature_columns(fields, target):
    """The schema's features (role `feature`, or no role), never the target."""
    return [
        field["name"]
        for field in fields
        if field["name"] != target and field.get("role", "feature") == "feature"
    ]


def load(location, data_format):
    """The Dataset's rows; `file:` locations are relative to this repository."""
    import pandas as pd

    path = location[len("file:"):] if location.startswith("file:") else location
    path = os.environ.get("DATASET_LOCATION", path)
    if data_format == "parquet":
        return pd.read_parquet(path)
    if data_format in ("json", "jsonl"):
        return pd.read_json(path, lines=data_format == "jsonl")
    return pd.read_csv(path)


def prepare(frame, fields, target):
    """Numeric features (categoricals one-hot encoded) and the target."""
    import pandas as pd

    columns = [c for c in feature_columns(fields, target) if c in frame.columns]
    features = pd.get_dummies(frame[columns], dtype="float32").astype("float32")
    return features, frame[target]


def make_model():
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if TASK == "classification":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return make_pipeline(StandardScaler(), Ridge(alpha=1.0))


def evaluate(model, features, labels):
    from sklearn import metrics

    predicted = model.predict(features)
    if TASK == "classification":
        scores = {
            "accuracy": metrics.accuracy_score(labels, predicted),
            "f1": metrics.f1_score(labels, predicted, average="macro"),
        }
        if len(set(labels)) == 2:
            scores["roc_auc"] = metrics.roc_auc_score(
                labels, model.predict_proba(features)[:, 1]
            )
        return scores
    return {
        "rmse": metrics.mean_squared_error(labels, predicted) ** 0.5,
        "mae": metrics.mean_absolute_error(labels, predicted),
        "r2": metrics.r2_score(labels, predicted),
    }


def to_onnx(model, features):
    from skl2onnx import to_onnx as convert

    options = {"zipmap": False} if TASK == "classification" else None
    return convert(
        model,
        features[:1].to_numpy(),
        target_opset=17,
        options={id(model.steps[-1][1]): options} if options else None,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-register", action="store_true", help="log the run only")
    args = parser.parse_args(argv)

    import mlflow
    from sklearn.model_selection import train_test_split

    frame = load(DATASET["location"], DATASET["format"])
    features, labels = prepare(frame, DATASET["fields"], DATASET["target"])
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=0.2, random_state=SEED
    )
    model = make_model().fit(train_x, train_y)
    scores = evaluate(model, test_x, test_y)

    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run() as run:
        mlflow.log_params({"task": TASK, "estimator": type(model.steps[-1][1]).__name__, "seed": SEED})
        mlflow.log_metrics(scores)
        mlflow.onnx.log_model(
            to_onnx(model, train_x),
            "model",
            registered_model_name=None if args.no_register else REGISTERED_MODEL,
        )
        print(f"run {run.info.run_id}: {PRIMARY_METRIC}={scores.get(PRIMARY_METRIC)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
