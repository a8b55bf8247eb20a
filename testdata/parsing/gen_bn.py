"""Write bn_cases.json: inputs and expected BatchNorm-folded weights, computed
the textbook way with numpy (w' = w * gamma / sqrt(var + eps) along the output
channel axis of the kernel; b' = beta + (b - mean) * gamma / sqrt(var + eps)).

Run: /usr/bin/python3 testdata/parsing/gen_bn.py
"""
import json
import os

import numpy as np

rng = np.random.RandomState(1234)
EPS = 1e-3


def case(name, kernel_shape, n_out, axis, data_format, kind, scale_shape):
    w = rng.randn(*kernel_shape).astype(np.float32)
    b = rng.randn(n_out).astype(np.float32)
    mean = rng.randn(n_out).astype(np.float32)
    var = (rng.rand(n_out) + 0.5).astype(np.float32)
    gamma = (rng.rand(n_out) + 0.5).astype(np.float32)
    beta = rng.randn(n_out).astype(np.float32)
    inv = (1.0 / np.sqrt(var.astype(np.float64) + EPS)).astype(np.float32)
    scale = gamma * inv
    w_bn = w * scale.reshape(scale_shape)
    b_bn = beta + (b - mean) * scale
    return {
        "name": name, "axis": axis, "data_format": data_format, "kind": kind,
        "w": w.ravel().tolist(), "w_shape": list(w.shape), "b": b.tolist(),
        "mean": mean.tolist(), "var_eps_sqrt_inv": inv.tolist(),
        "gamma": gamma.tolist(), "beta": beta.tolist(),
        "w_bn": w_bn.astype(np.float32).ravel().tolist(),
        "b_bn": b_bn.astype(np.float32).tolist(),
    }


cases = [
    case("dense axis -1", (6, 4), 4, -1, "channels_last", "dense", (1, 4)),
    case("dense axis 1", (5, 3), 3, 1, "channels_last", "dense", (1, 3)),
    case("conv1d axis -1", (3, 2, 5), 5, -1, "channels_last", "conv", (1, 1, 5)),
    case("conv2d channels_last axis -1", (3, 3, 2, 4), 4, -1, "channels_last", "conv", (1, 1, 1, 4)),
    case("conv2d channels_last axis 3", (2, 3, 3, 5), 5, 3, "channels_last", "conv", (1, 1, 1, 5)),
    case("conv2d channels_first axis 1", (3, 3, 2, 4), 4, 1, "channels_first", "conv", (1, 1, 1, 4)),
    case("conv2d channels_first axis -3", (3, 2, 3, 6), 6, -3, "channels_first", "conv", (1, 1, 1, 6)),
    # Depthwise kernel [kh, kw, in, multiplier]; output channel = c * multiplier + j.
    case("depthwise multiplier 1 channels_last", (3, 3, 4, 1), 4, -1, "channels_last", "depthwise", (1, 1, 4, 1)),
    case("depthwise multiplier 2 channels_last", (3, 3, 3, 2), 6, -1, "channels_last", "depthwise", (1, 1, 3, 2)),
    case("depthwise multiplier 2 channels_first", (3, 3, 3, 2), 6, 1, "channels_first", "depthwise", (1, 1, 3, 2)),
    # Conv2DTranspose kernel [kh, kw, out, in].
    case("conv2d_transpose channels_last", (3, 3, 4, 2), 4, -1, "channels_last", "transpose", (1, 1, 4, 1)),
    case("conv2d_transpose channels_first", (2, 2, 3, 5), 3, 1, "channels_first", "transpose", (1, 1, 3, 1)),
]



def reduce_precision(x, m, f):
    # The toolbox's snntoolbox.utils.utils.reduce_precision.
    n = 2 << f - 1
    maxval = (2 << m - 1) - 1.0 / n
    return np.clip(np.true_divide(np.round(x * n), n), -maxval, maxval)


def binarize(w, h=1.0):
    # The toolbox's deterministic snntoolbox.utils.utils.binarize.
    wb = np.clip((np.add(np.true_divide(w, h), 1.0)) / 2.0, 0, 1)
    wb = np.round(wb)
    wb[wb != 0] = h
    wb[wb == 0] = -h
    return np.asarray(wb, np.float32)


x = np.concatenate([rng.randn(40) * 2, [0.125, 0.375, -0.625, 0.0, 5.0, -5.0, 1.0, -1.0]]).astype(np.float32)
precision = {
    "x": x.tolist(),
    "q1_2": reduce_precision(x, 1, 2).astype(np.float32).tolist(),
    "q2_5": reduce_precision(x, 2, 5).astype(np.float32).tolist(),
    "binarized": binarize(x.copy()).tolist(),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bn_cases.json")
with open(out, "w") as f:
    json.dump({"generator": "testdata/parsing/gen_bn.py", "numpy": np.__version__, "cases": cases, "precision": precision}, f)
print("wrote", out, len(cases), "cases")
