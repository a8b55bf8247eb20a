#!/usr/bin/python3
"""Reference outputs for the shared ONNX fixtures that onnxruntime cannot run
(opset 6, or IR version 1 without opset_import), computed node by node with
numpy and torch.nn.functional from the files' own weights.

    /usr/bin/python3 testdata/onnx/gen_fixture_refs.py [FIXTURES_DIR]

The input is the tests' deterministic LCG sequence (tests/_onnx.ts
`randomInput(shape, 7)`), so only outputs are stored (super-resolution: every
8th row and column, to keep the file small).
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "onnx")


def lcg_input(shape, seed):
    """Same sequence as tests/_onnx.ts randomInput."""
    s = seed & 0xFFFFFFFF
    n = int(np.prod(shape))
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = np.float32(s / 2 ** 31 - 1)
    return out.reshape(shape)


def attr_value(a):
    """Attribute value; IR version 1 files leave `type` unset, so look at the fields."""
    if a.type:
        return onnx.helper.get_attribute_value(a)
    if a.ints:
        return list(a.ints)
    if a.floats:
        return list(a.floats)
    if a.HasField("f"):
        return a.f
    if a.HasField("i"):
        return a.i
    if a.HasField("s"):
        return a.s.decode()
    raise ValueError(f"attribute {a.name} has no value")


def attrs(node):
    return {a.name: attr_value(a) for a in node.attribute}


def run(model, x):
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in env]
    env[inputs[0]] = x
    for node in model.graph.node:
        a = attrs(node)
        i = [env[n] for n in node.input]
        op = node.op_type
        if op == "Gemm":
            b = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (i[0] @ b) + a.get("beta", 1.0) * i[2]
        elif op == "Unsqueeze":
            y = i[0]
            for ax in sorted(a["axes"]):
                y = np.expand_dims(y, ax)
        elif op == "Squeeze":
            y = np.squeeze(i[0], axis=tuple(a["axes"]))
        elif op == "BatchNormalization":
            shape = (1, -1) + (1,) * (i[0].ndim - 2)
            scale, bias, mean, var = (v.reshape(shape) for v in i[1:5])
            y = (i[0] - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * scale + bias
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "Softmax":
            e = np.exp(i[0] - i[0].max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
        elif op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(torch.from_numpy(i[0]), torch.from_numpy(i[1]), stride=tuple(a.get("strides", [1, 1])),
                         padding=(p[0], p[1]), dilation=tuple(a.get("dilations", [1, 1])),
                         groups=a.get("group", 1)).numpy()
        elif op == "Add":
            b = i[1]
            if a.get("broadcast", 0) and a.get("axis") is not None:
                b = b.reshape(b.shape + (1,) * (i[0].ndim - a["axis"] - b.ndim))
            y = i[0] + b
        elif op == "Reshape":
            y = i[0].reshape(a["shape"] if "shape" in a else i[1])
        elif op == "Transpose":
            y = np.transpose(i[0], a["perm"])
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y.astype(np.float32)
    return env[model.graph.output[0].name]


def main():
    out_dir = os.path.join(HERE, "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    m = onnx.load(os.path.join(FIX, "hls4ml_three_layer_bn_pytorch.onnx"))
    y = run(m, lcg_input((4, 16), 7))
    np.save(os.path.join(out_dir, "hls4ml_three_layer_bn_pytorch.out.npy"), y)
    m = onnx.load(os.path.join(FIX, "onnx-tutorials_super_resolution_pytorch0.2.onnx"))
    y = run(m, lcg_input((1, 1, 224, 224), 7))
    np.save(os.path.join(out_dir, "onnx-tutorials_super_resolution_pytorch0.2.out8.npy"), y[:, :, ::8, ::8].copy())


if __name__ == "__main__":
    main()
