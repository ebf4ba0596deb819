"""Checks the training code on a small synthetic frame shaped like the Dataset."""
import numpy as np
import pandas as pd

import train


def synthetic_frame(rows=200):
    rng = np.random.default_rng(0)
    data = {}
    for field in train.DATASET["fields"]:
        if field["type"] in ("integer", "float"):
            data[field["name"]] = rng.normal(size=rows)
        else:
            data[field["name"]] = rng.choice(["a", "b"], size=rows)
    target = train.DATASET["target"]
    if train.TASK == "classification":
        data[target] = rng.integers(0, 2, size=rows)
    else:
        data[target] = rng.normal(size=rows)
    return pd.DataFrame(data)


def test_the_target_is_never_a_feature():
    columns = train.feature_columns(train.DATASET["fields"], train.DATASET["target"])
    assert train.DATASET["target"] not in columns
    assert columns


def test_trains_evaluates_and_converts_to_onnx():
    frame = synthetic_frame()
    features, labels = train.prepare(frame, train.DATASET["fields"], train.DATASET["target"])
    model = train.make_model().fit(features, labels)
    scores = train.evaluate(model, features, labels)
    assert train.PRIMARY_METRIC in scores or train.PRIMARY_METRIC == "roc_auc"
    onnx_model = train.to_onnx(model, features)
    assert onnx_model.graph.input
