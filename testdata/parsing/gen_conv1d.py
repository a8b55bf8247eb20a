"""Write conv1d_cases.json: channels_first (NCW) Conv1D models computed by PyTorch.

Weights are stored in the Keras/TF.js layout (kernel [width, in, out]); the
expected outputs come from torch.nn.functional.conv1d on NCW input, so the
TF.js input model (after its channelsFirst Conv1D fix) and the parsed NWC
model are both checked against PyTorch.

- "stack": Conv1D(3→6, k3, same, relu) → Conv1D(6→4, k3, dilation 2, valid,
  relu) → Flatten(data_format=channels_first: Keras flattens as NWC) → Dense(5).
- "softmax": Conv1D(2→3, k2, stride 2, valid, softmax): Keras applies the
  activation on the last axis of the NCW output (the width).

Also writes conv1d_keras_cf.h5: the "stack" model as a tf.keras 2 HDF5 full
model (model_config + model_weights, written with h5py as Keras 2.4 lays it
out), Conv1D and Flatten with data_format=channels_first, same weights.

Run: /usr/bin/python3 testdata/parsing/gen_conv1d.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _gen_common import kernel_and_bias, nd, write_keras_h5  # noqa: E402

rng = np.random.RandomState(42)


def arr(*shape):
    return rng.randn(*shape).astype(np.float32) * 0.5


def keras_kernel(w):
    """torch [out, in, k] → keras [k, in, out]."""
    return np.transpose(w, (2, 1, 0))


def stack():
    x = arr(2, 3, 12)
    w1, b1 = arr(6, 3, 3), arr(6)
    w2, b2 = arr(4, 6, 3), arr(4)
    wd, bd = arr(5, 4 * 8), arr(5)  # torch Linear [out, in], in = NWC flatten of (4, 8)
    t = torch.from_numpy
    y = F.relu(F.conv1d(t(x), t(w1), t(b1), padding=1))
    y = F.relu(F.conv1d(y, t(w2), t(b2), dilation=2))
    y = y.permute(0, 2, 1).reshape(2, -1)
    y = F.linear(y, t(wd), t(bd))
    weights = [keras_kernel(w1), b1, keras_kernel(w2), b2, wd.T.copy(), bd]
    return x, weights, y.numpy()


def softmax():
    x = arr(2, 2, 8)
    w, b = arr(3, 2, 2), arr(3)
    t = torch.from_numpy
    y = torch.softmax(F.conv1d(t(x), t(w), t(b), stride=2), dim=-1)
    return x, [keras_kernel(w), b], y.numpy()


def entry(x, weights, y):
    return {"x": nd(x), "weights": [nd(w) for w in weights], "y": nd(y)}


def keras_h5(path, weights):
    """tf.keras 2 Sequential: Conv1D(6, same, relu) -> Conv1D(4, dilation 2, relu) -> Flatten -> Dense(5)."""
    def conv(name, filters, dilation):
        return {"class_name": "Conv1D", "config": {
            "name": name, "trainable": True, "dtype": "float32", "filters": filters, "kernel_size": [3],
            "strides": [1], "padding": "same" if dilation == 1 else "valid", "data_format": "channels_first",
            "dilation_rate": [dilation], "groups": 1, "activation": "relu", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}}
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3, 12], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_1"}},
        conv("c1", 6, 1),
        conv("c2", 4, 2),
        {"class_name": "Flatten", "config": {"name": "flat", "trainable": True, "dtype": "float32",
                                             "data_format": "channels_first"}},
        {"class_name": "Dense", "config": {
            "name": "fc", "trainable": True, "dtype": "float32", "units": 5, "activation": "linear",
            "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}},
    ]
    config = {"class_name": "Sequential", "config": {"name": "conv1d_cf", "layers": layers}}
    named = {"c1": weights[0:2], "c2": weights[2:4], "flat": [], "fc": weights[4:6]}
    write_keras_h5(path, config, {name: kernel_and_bias(ws) for name, ws in named.items()})


x, weights, y = stack()
keras_h5(os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv1d_keras_cf.h5"), weights)
out = {"torch": torch.__version__, "stack": entry(x, weights, y), "softmax": entry(*softmax())}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv1d_cases.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
