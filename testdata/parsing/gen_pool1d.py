"""Write pool1d_cases.json and pool1d_<case>_cf.h5: channels_first (NCW)
1-D pooling models as tf.keras 2 HDF5 full models (model_config +
model_weights, written with h5py as Keras 2.4 lays them out), and their
outputs computed by PyTorch on NCW input.

tfjs-layers ignores data_format in MaxPooling1D, AveragePooling1D,
GlobalAveragePooling1D and GlobalMaxPooling1D (it pools over the channels);
the toolbox builds them as corrected layers. Both cases start with a Conv1D
so the pooled tensor has more channels than the input.

- "stack": input (3, 12) -> Conv1D(4, k3, same, relu) -> MaxPooling1D(2)
  -> AveragePooling1D(3, strides 1) -> GlobalMaxPooling1D -> Dense(5).
- "keepdims": input (3, 10) -> Conv1D(4, k3, valid, relu)
  -> AveragePooling1D(2) -> MaxPooling1D(2, strides 1)
  -> GlobalAveragePooling1D(keepdims=True) -> Flatten -> Dense(2).

Run: /usr/bin/python3 testdata/parsing/gen_pool1d.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _gen_common import kernel_and_bias, nd, write_keras_h5  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(11)
t = torch.from_numpy


def arr(*shape):
    return rng.randn(*shape).astype(np.float32) * 0.5


def keras_kernel(w):
    """torch [out, in, k] -> keras [k, in, out]."""
    return np.transpose(w, (2, 1, 0)).copy()


def base(name):
    return {"name": name, "trainable": True, "dtype": "float32"}


def conv(name, filters, padding):
    return {"class_name": "Conv1D", "config": {
        **base(name), "filters": filters, "kernel_size": [3], "strides": [1], "padding": padding,
        "data_format": "channels_first", "dilation_rate": [1], "groups": 1, "activation": "relu",
        "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}}


def pool(cls, name, size, strides):
    return {"class_name": cls, "config": {
        **base(name), "pool_size": [size], "strides": [strides], "padding": "valid",
        "data_format": "channels_first"}}


def global_pool(cls, name, keepdims):
    return {"class_name": cls, "config": {**base(name), "data_format": "channels_first", "keepdims": keepdims}}


def dense(name, units):
    return {"class_name": "Dense", "config": {
        **base(name), "units": units, "activation": "linear", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}}


def input_layer(shape):
    return {"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, *shape], "dtype": "float32", "sparse": False, "ragged": False,
        "name": "input_1"}}


def write_h5(path, layers, named):
    config = {"class_name": "Sequential", "config": {"name": "pool1d_cf", "layers": layers}}
    write_keras_h5(path, config, {name: kernel_and_bias(ws) for name, ws in named.items()})


def stack():
    x = arr(2, 3, 12)
    wc, bc = arr(4, 3, 3), arr(4)
    wd, bd = arr(5, 4), arr(5)
    y = F.relu(F.conv1d(t(x), t(wc), t(bc), padding=1))  # (2, 4, 12)
    y = F.max_pool1d(y, 2)  # (2, 4, 6)
    y = F.avg_pool1d(y, 3, stride=1)  # (2, 4, 4)
    y = torch.amax(y, dim=2)  # (2, 4)
    y = F.linear(y, t(wd), t(bd))
    layers = [input_layer((3, 12)), conv("c1", 4, "same"), pool("MaxPooling1D", "max1", 2, 2),
              pool("AveragePooling1D", "avg1", 3, 1), global_pool("GlobalMaxPooling1D", "gmax", False),
              dense("fc", 5)]
    named = {"c1": [keras_kernel(wc), bc], "max1": [], "avg1": [], "gmax": [], "fc": [wd.T.copy(), bd]}
    return x, y.numpy(), layers, named


def keepdims():
    x = arr(2, 3, 10)
    wc, bc = arr(4, 3, 3), arr(4)
    wd, bd = arr(2, 4), arr(2)
    y = F.relu(F.conv1d(t(x), t(wc), t(bc)))  # (2, 4, 8)
    y = F.avg_pool1d(y, 2)  # (2, 4, 4)
    y = F.max_pool1d(y, 2, stride=1)  # (2, 4, 3)
    y = torch.mean(y, dim=2, keepdim=True)  # (2, 4, 1)
    y = y.permute(0, 2, 1).reshape(2, -1)  # Keras channels_first Flatten: NWC order
    y = F.linear(y, t(wd), t(bd))
    layers = [input_layer((3, 10)), conv("c1", 4, "valid"), pool("AveragePooling1D", "avg1", 2, 2),
              pool("MaxPooling1D", "max1", 2, 1), global_pool("GlobalAveragePooling1D", "gavg", True),
              {"class_name": "Flatten", "config": {**base("flat"), "data_format": "channels_first"}},
              dense("fc", 2)]
    named = {"c1": [keras_kernel(wc), bc], "avg1": [], "max1": [], "gavg": [], "flat": [],
             "fc": [wd.T.copy(), bd]}
    return x, y.numpy(), layers, named


out = {"torch": torch.__version__}
for name, make in (("stack", stack), ("keepdims", keepdims)):
    x, y, layers, named = make()
    write_h5(os.path.join(HERE, f"pool1d_{name}_cf.h5"), layers, named)
    out[name] = {"x": nd(x), "y": nd(y)}
with open(os.path.join(HERE, "pool1d_cases.json"), "w") as f:
    json.dump(out, f)
print("wrote pool1d_cases.json, pool1d_stack_cf.h5, pool1d_keepdims_cf.h5")
