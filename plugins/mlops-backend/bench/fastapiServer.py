"""
The FastAPI peer of `npm run bench:dataplane`: seed 002's Python stack
(FastAPI + uvicorn + scikit-learn, Debian's python3-fastapi, python3-uvicorn,
python3-sklearn) serving the same linear model as an OIP v2 JSON infer route,
one uvicorn worker (the same CPU budget as the data plane's one worker).

The model is a scikit-learn LinearRegression carrying the weights and bias of
the served ONNX file (the bench reads them off the ONNX session: the model is
linear, and the bench checks that the two agree on real rows).

argv: <model.json: {"weights": [...], "bias": b}> <port>; prints "ready" when listening.
"""
import json
import sys
from typing import Any, List, Optional

import numpy as np
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sklearn.linear_model import LinearRegression

spec = json.load(open(sys.argv[1]))
port = int(sys.argv[2])
model = LinearRegression()
model.coef_ = np.asarray(spec["weights"], dtype=np.float64)
model.intercept_ = float(spec["bias"])
model.n_features_in_ = len(spec["weights"])


class Tensor(BaseModel):
    name: str
    datatype: str
    shape: List[int]
    data: List[Any]


class InferRequest(BaseModel):
    id: Optional[str] = None
    inputs: List[Tensor]


app = FastAPI()


@app.post("/v2/models/{name}/infer")
def infer(name: str, body: InferRequest):
    tensor = body.inputs[0]
    try:
        x = np.asarray(tensor.data, dtype=np.float32).reshape(tensor.shape)
    except ValueError as error:
        raise HTTPException(status_code=400, detail=str(error))
    y = model.predict(x)
    return {
        "model_name": name,
        "id": body.id,
        "outputs": [
            {
                "name": "variable",
                "datatype": "FP32",
                "shape": [len(y), 1],
                "data": y.astype(np.float32).tolist(),
            }
        ],
    }


@app.on_event("startup")
def ready():
    print("ready", flush=True)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, access_log=False, log_level="warning")
