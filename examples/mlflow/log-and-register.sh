#!/usr/bin/env bash
# Logs a training run and registers its ONNX model using nothing but MLflow's
# REST API 2.0, the way an MLflow client with
#   MLFLOW_TRACKING_URI=http://localhost:7007/api/mlops/mlflow
#   MLFLOW_TRACKING_TOKEN=loopline-demo-token-change-me
# does. Usage: examples/mlflow/log-and-register.sh [model.onnx] [registered-model-name]
# Without a file it registers a version with no artifact (MLflow allows that).
set -euo pipefail
URI="${MLFLOW_TRACKING_URI:-http://localhost:7007/api/mlops/mlflow}"
TOKEN="${MLFLOW_TRACKING_TOKEN:-loopline-demo-token-change-me}"
ONNX="${1:-}"
MODEL="${2:-wine-quality}"

call() { # METHOD PATH [JSON]
  curl -sS --fail-with-body -X "$1" "$URI/api/2.0/mlflow/$2" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v[k];console.log(v)})' "$1"; }

now=$(date +%s%3N)
exp=$( { call GET "experiments/get-by-name?experiment_name=$MODEL" | json experiment.experiment_id; } 2>/dev/null) \
  || exp=$(call POST experiments/create "{\"name\":\"$MODEL\"}" | json experiment_id)
run=$(call POST runs/create "{\"experiment_id\":\"$exp\",\"run_name\":\"rest-script\",\"start_time\":$now}" | json run.info.run_id)
echo "run $run in experiment $exp"

call POST runs/log-batch "{\"run_id\":\"$run\",
  \"params\":[{\"key\":\"alpha\",\"value\":\"0.3\"},{\"key\":\"l1_ratio\",\"value\":\"0.5\"}],
  \"metrics\":[{\"key\":\"rmse\",\"value\":0.80,\"timestamp\":$now,\"step\":0},
               {\"key\":\"rmse\",\"value\":0.74,\"timestamp\":$((now+1)),\"step\":1},
               {\"key\":\"rmse\",\"value\":0.71,\"timestamp\":$((now+2)),\"step\":2},
               {\"key\":\"r2\",\"value\":0.33,\"timestamp\":$((now+2)),\"step\":2}]}" >/dev/null

source="runs:/$run/model"
if [[ -n $ONNX ]]; then
  curl -sS --fail-with-body -X PUT "$URI/api/2.0/mlflow-artifacts/artifacts/$exp/$run/artifacts/model/model.onnx" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' --data-binary "@$ONNX" >/dev/null
fi
call POST runs/update "{\"run_id\":\"$run\",\"status\":\"FINISHED\",\"end_time\":$(date +%s%3N)}" >/dev/null

# mlflow.register_model: the registered model may exist already. Any other
# refusal stops here, e.g. INVALID_PARAMETER_VALUE when the catalog has no
# Model entity named $MODEL (nor one named by a loopline.dev/entity-ref tag).
if ! created=$(call POST registered-models/create "{\"name\":\"$MODEL\"}" 2>&1); then
  case $created in
    *RESOURCE_ALREADY_EXISTS*) ;;
    *) echo "$created" >&2; exit 1 ;;
  esac
fi
version=$(call POST model-versions/create "{\"name\":\"$MODEL\",\"source\":\"$source\",\"run_id\":\"$run\"}" | json model_version.version)
echo "registered $MODEL version $version"
call GET "model-versions/get?name=$MODEL&version=$version"; echo
