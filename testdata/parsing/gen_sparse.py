"""Write sparse_keras.h5 and sparse_cases.json: a Keras 2 HDF5 model with the
pruned layers the Python toolbox parses (keras_rewiring's Sparse,
SparseConv2D, SparseDepthwiseConv2D), saved as Keras saves them: each layer's
config with its `connectivity_level`, its weights `kernel`, `bias` (when
`use_bias`) and `mask` in that order (the order the toolbox's SpiNNaker
backend unpacks `weights, biases, masks = layer.get_weights()`), and a Dense
layer that states the toolbox's per-layer fixed point format
(`"Qm.f": [2, 5]`, `"quantize_bias": true`).

    input (6, 6, 2)
    → SparseConv2D(3, 3x3, same, relu)            mask ~50 % ones
    → SparseDepthwiseConv2D(3x3, valid, no bias)  mask ~70 % ones
    → BatchNormalization
    → Flatten
    → Sparse(5, relu)                              mask ~30 % ones
    → Dense(3, softmax, Qm.f = Q2.5, quantize_bias)

The expected outputs come from PyTorch (kernel × mask in every pruned layer,
inference batch norm), on NCHW copies of the NHWC input.

Run: /usr/bin/python3 testdata/parsing/gen_sparse.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _gen_common import nd, write_keras_h5  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(11)


def arr(*shape, scale=0.5):
    return (rng.randn(*shape) * scale).astype(np.float32)


def mask(shape, level):
    return (rng.rand(*shape) < level).astype(np.float32)


x = arr(2, 6, 6, 2, scale=1.0)  # NHWC
k1, b1, m1 = arr(3, 3, 2, 3), arr(3), mask((3, 3, 2, 3), 0.5)
k2, m2 = arr(3, 3, 3, 1), mask((3, 3, 3, 1), 0.7)
gamma, beta = (rng.rand(3) + 0.5).astype(np.float32), arr(3)
mean, var = arr(3), (rng.rand(3) + 0.5).astype(np.float32)
k3, b3, m3 = arr(48, 5), arr(5), mask((48, 5), 0.3)
k4, b4 = arr(5, 3), arr(3)
EPS = 1e-3

t = torch.from_numpy
y = t(x).permute(0, 3, 1, 2)  # NCHW
y = F.relu(F.conv2d(y, t(k1 * m1).permute(3, 2, 0, 1), t(b1), padding=1))
y = F.conv2d(y, t(k2 * m2).permute(2, 3, 0, 1), None, groups=3)  # depthwise: [C, 1, kh, kw]
y = F.batch_norm(y, t(mean), t(var), t(gamma), t(beta), False, 0.0, EPS)
y = y.permute(0, 2, 3, 1).reshape(2, -1)  # Keras Flatten of NHWC
y = F.relu(y @ t(k3 * m3) + t(b3))
y = torch.softmax(y @ t(k4) + t(b4), dim=-1)


def initializer(name):
    return {"class_name": name, "config": {"seed": None} if name == "GlorotUniform" else {}}


def common(name):
    return {"name": name, "trainable": True, "dtype": "float32", "kernel_initializer": initializer("GlorotUniform"),
            "bias_initializer": initializer("Zeros"), "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}


def node(*names):
    return [[[n, 0, 0, {}] for n in names]]


layers = [
    {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
     "config": {"batch_input_shape": [None, 6, 6, 2], "dtype": "float32", "sparse": False, "name": "input_1"}},
    {"class_name": "SparseConv2D", "name": "sparse_conv", "inbound_nodes": node("input_1"),
     "config": {**common("sparse_conv"), "filters": 3, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
                "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu", "use_bias": True,
                "connectivity_level": 0.5}},
    {"class_name": "SparseDepthwiseConv2D", "name": "sparse_dw", "inbound_nodes": node("sparse_conv"),
     "config": {**common("sparse_dw"), "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                "data_format": "channels_last", "dilation_rate": [1, 1], "depth_multiplier": 1,
                "activation": "linear", "use_bias": False, "connectivity_level": 0.7}},
    {"class_name": "BatchNormalization", "name": "bn", "inbound_nodes": node("sparse_dw"),
     "config": {"name": "bn", "trainable": True, "dtype": "float32", "axis": -1, "momentum": 0.99, "epsilon": EPS,
                "center": True, "scale": True}},
    {"class_name": "Flatten", "name": "flatten", "inbound_nodes": node("bn"),
     "config": {"name": "flatten", "trainable": True, "dtype": "float32", "data_format": "channels_last"}},
    {"class_name": "Sparse", "name": "sparse_fc", "inbound_nodes": node("flatten"),
     "config": {**common("sparse_fc"), "units": 5, "activation": "relu", "use_bias": True,
                "connectivity_level": 0.3}},
    {"class_name": "Dense", "name": "fc", "inbound_nodes": node("sparse_fc"),
     "config": {**common("fc"), "units": 3, "activation": "softmax", "use_bias": True, "Qm.f": [2, 5],
                "quantize_bias": True}},
]
config = {"class_name": "Functional", "config": {
    "name": "pruned", "layers": layers, "input_layers": [["input_1", 0, 0]], "output_layers": [["fc", 0, 0]]}}
weights = {
    "input_1": [], "sparse_conv": [("kernel", k1), ("bias", b1), ("mask", m1)],
    "sparse_dw": [("kernel", k2), ("mask", m2)],
    "bn": [("gamma", gamma), ("beta", beta), ("moving_mean", mean), ("moving_variance", var)],
    "flatten": [], "sparse_fc": [("kernel", k3), ("bias", b3), ("mask", m3)], "fc": [("kernel", k4), ("bias", b4)],
}

write_keras_h5(os.path.join(HERE, "sparse_keras.h5"), config, weights)


with open(os.path.join(HERE, "sparse_cases.json"), "w") as f:
    json.dump({"torch": torch.__version__, "x": nd(x), "y": nd(y.numpy()),
               "dense_kernel": nd(k4), "dense_bias": nd(b4)}, f)
print("wrote sparse_keras.h5 and sparse_cases.json")
