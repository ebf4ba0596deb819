"""Train, log and register a model with MLflow 3, logging to Loopline unchanged.

    pip install "mlflow>=3" scikit-learn skl2onnx onnx
    export MLFLOW_TRACKING_URI=http://localhost:7007/api/mlops/mlflow
    export MLFLOW_TRACKING_TOKEN=loopline-demo-token-change-me   # an external-access token
    python examples/mlflow/mlflow3_log_model.py

`log_model` in MLflow 3 creates a logged model (POST logged-models), uploads its
files to the proxied artifact store, finalizes it (PATCH logged-models/<id>) and,
with `registered_model_name`, registers it (model-versions/create with its
model_id and the source models:/<model_id>). The ONNX flavour writes model.onnx,
which Loopline checks in onnxruntime and serves; the scikit-learn flavour is
registered too, as a version without a servable artifact. The registered model
belongs to the catalog Model of the same name (or to the one named by the
loopline.dev/entity-ref tag); with neither, Loopline refuses it with
INVALID_PARAMETER_VALUE, so NAME is a Model of examples/models.yaml. Versions
come back READY (the ONNX check runs before the answer), so the client does not
wait. plugins/mlops-backend/src/mlflow/loggedModels.test.ts makes the same REST
calls, in the same order.
"""

import mlflow
import mlflow.onnx
import mlflow.sklearn
from mlflow.models import infer_signature
from skl2onnx import to_onnx
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

NAME = "wine-quality"

X, y = load_wine(return_X_y=True, as_frame=True)
X = X.astype("float32")
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=42)

mlflow.set_experiment(NAME)
with mlflow.start_run(run_name="elasticnet"):
    params = {"alpha": 0.3, "l1_ratio": 0.5}
    model = ElasticNet(**params).fit(X_train, y_train)
    rmse = mean_squared_error(y_test, model.predict(X_test)) ** 0.5
    mlflow.log_params(params)
    mlflow.log_metric("rmse", rmse)

    signature = infer_signature(X_train, model.predict(X_train))
    # What an MLflow 3 user writes: a logged model, registered in one call.
    mlflow.sklearn.log_model(
        model, name="sklearn-model", signature=signature,
        registered_model_name=NAME,
    )
    # The same model as ONNX: the version Loopline can check and serve.
    info = mlflow.onnx.log_model(
        to_onnx(model, X_train[:1].to_numpy()), name="model",
        signature=signature, registered_model_name=NAME,
    )
    print(f"logged model {info.model_id}, registered as {NAME} "
          f"version {info.registered_model_version}")

client = mlflow.MlflowClient()
client.set_registered_model_alias(NAME, "champion", info.registered_model_version)
print(client.get_model_version_by_alias(NAME, "champion"))
