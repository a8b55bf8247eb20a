"""Write activations.json: the toolbox's custom activation functions
(snntoolbox.utils.utils: quantized_relu, ClampedReLU, NoisySoftplus,
binary_sigmoid, binary_tanh) evaluated with numpy on fixed inputs.

Run: /usr/bin/python3 testdata/parsing/gen_activations.py
"""
import json
import os

import numpy as np

rng = np.random.RandomState(99)
x = np.concatenate([rng.randn(60) * 3, [0.0, 0.05, 0.1, 0.09375, -0.03125, 6.0, 7.5, -7.5]]).astype(np.float32)


def reduce_precision(v, m, f):
    n = 2 << f - 1
    maxval = (2 << m - 1) - 1.0 / n
    return np.clip(np.true_divide(np.round(v * n), n), -maxval, maxval)


def relu(v, max_value=None):
    r = np.maximum(v, 0)
    return r if max_value is None else np.minimum(r, max_value)


def clamped_relu(v, threshold, max_value):
    r = relu(v, max_value)
    return np.where(r < threshold, 0, r)


def noisy_softplus(v, k, sigma):
    return k * sigma * np.log1p(np.exp(v.astype(np.float64) / (k * sigma)))


cases = {
    "relu_Q1.4": relu(reduce_precision(x, 1, 4)),
    "relu_Q2.3": relu(reduce_precision(x, 2, 3)),
    "clamped_relu_0.1_6.0": clamped_relu(x, 0.1, 6.0),
    "clamped_relu_0.1_None": clamped_relu(x, 0.1, None),
    "noisy_softplus_0.17_1": noisy_softplus(x, 0.17, 1),
    "binary_sigmoid": np.round(np.clip((x + 1.0) / 2.0, 0, 1)),
    "binary_tanh": np.sign(x),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "activations.json")
with open(out, "w") as f:
    json.dump({"generator": "testdata/parsing/gen_activations.py", "x": x.tolist(),
               "cases": {k: np.asarray(v, np.float32).tolist() for k, v in cases.items()}}, f)
print("wrote", out)
