#!/usr/bin/python3
"""Generate small ONNX models of the PyTorch idioms the torchvision zoo uses, with PyTorch's outputs.

Run with Debian's python3 (torch 1.13, onnx 1.12):

    /usr/bin/python3 testdata/onnx/gen_ops.py

Files: ops_<name>_op<opset>.onnx (opsets 11, 13, 17), ops_<name>.in.npy (float32, NCHW),
ops_<name>.out.npy (PyTorch's output, or for the hand-built keras2onnx-style graph torch.nn.functional
on the same weights), and ops_gating_op<opset>.onnx (refused: no outputs). Every expected output comes
from PyTorch, never from the toolbox.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import _gen_common as common  # noqa: E402
from _gen_common import export, t  # noqa: E402

OPSETS = (11, 13, 17)


class CeilPool(nn.Module):
    """Max/avg pooling in ceil mode: after ReLU with pads, on signed input ('same' placement),
    average with an overhanging last window (count_include_pad True and False)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 1)
        self.fc = nn.Linear(4 * 2 * 2 + 4 * 3 * 3, 5)

    def forward(self, x):  # 10x10
        x = self.c1(x)
        a = F.max_pool2d(x, 3, 2, ceil_mode=True)  # signed input, 5x5, TF 'same'
        b = F.max_pool2d(F.relu(x), 3, 2, padding=1, ceil_mode=True)  # 6x6, zero pads after ReLU
        b = F.avg_pool2d(self.c2(b), 3, 2, ceil_mode=True)  # 3x3, window overhangs: divisor excludes it
        a = F.avg_pool2d(a, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)  # 3x3 ('same')
        a = F.avg_pool2d(a, 2, 2, ceil_mode=True, count_include_pad=True)  # 2x2
        return self.fc(torch.cat([torch.flatten(a, 1), torch.flatten(b, 1)], 1))


class Pool1d(nn.Module):
    """Conv1d then MaxPool1d, AvgPool1d in ceil mode, mean over the length (ReduceMean, global pooling)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm1d(6)
        self.c2 = nn.Conv1d(6, 5, 3, padding=1)
        self.fc = nn.Linear(5 + 6, 4)

    def forward(self, x):  # length 16
        x = F.max_pool1d(F.relu(self.bn(self.c1(x))), 2)  # 8
        m = x.amax(2)  # ReduceMax over the length
        x = F.avg_pool1d(self.c2(x), 3, 2, ceil_mode=True)  # 4
        return self.fc(torch.cat([x.mean(2), m], 1))


class Reduce(nn.Module):
    """ReduceMean/ReduceMax over the spatial axes with and without keepdims, negative axes."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.c2 = nn.Conv2d(6, 4, 1)
        self.fc = nn.Linear(4 + 6 + 6, 3)

    def forward(self, x):  # 7x7
        x = F.relu(self.c1(x))
        g = x.mean((2, 3), keepdim=True)  # [N, 6, 1, 1]
        g = torch.flatten(self.c2(g), 1)
        m = torch.amax(x, dim=(-2, -1))  # [N, 6]
        s = x.mean([-1, -2])
        return self.fc(torch.cat([g, m, s], 1))


class Grouped(nn.Module):
    """Grouped convolution first and in the middle, dilated and strided, depthwise strided+dilated,
    an ungrouped strided+dilated convolution."""

    def __init__(self):
        super().__init__()
        self.g1 = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2)
        self.b1 = nn.BatchNorm2d(8)
        self.g2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4)
        self.dw = nn.Conv2d(8, 16, 3, stride=2, padding=2, dilation=2, groups=8)
        self.c = nn.Conv2d(16, 6, 3, stride=2, dilation=(2, 1), padding=(1, 2))
        self.fc = nn.Linear(6 * 2 * 4, 5)

    def forward(self, x):  # 17x17
        x = F.relu(self.b1(self.g1(x)))  # 9x9
        x = F.relu(self.g2(x))  # 9x9
        x = F.relu(self.dw(x))  # 5x5
        x = self.c(x)  # 2x4
        return self.fc(torch.flatten(x, 1))


def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class Shuffle(nn.Module):
    """ShuffleNetV2 block (chunk, branch, concat, channel shuffle), torch.split with unequal sizes,
    a channel slice, and a shuffle feeding a depthwise convolution and global pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.b1 = nn.Conv2d(4, 4, 1)
        self.bn1 = nn.BatchNorm2d(4)
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.b2 = nn.Conv2d(4, 4, 1)
        self.sa = nn.Conv2d(3, 4, 1)
        self.sb = nn.Conv2d(5, 4, 3, padding=1)
        self.dw2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.fc = nn.Linear(8 + 4, 6)

    def forward(self, x):  # 6x6
        x = F.relu(self.stem(x))
        x1, x2 = x.chunk(2, dim=1)
        x2 = F.relu(self.b2(self.dw(F.relu(self.bn1(self.b1(x2))))))
        x = channel_shuffle(torch.cat([x1, x2], 1), 2)
        a, b = torch.split(x, [3, 5], dim=1)
        y = torch.cat([F.relu(self.sa(a)), F.relu(self.sb(b))], 1)
        y = channel_shuffle(y, 4)
        z = self.dw2(y).mean((2, 3))
        s = y[:, 2:6].amax((2, 3))
        return self.fc(torch.cat([z, s], 1))


class Affine(nn.Module):
    """Input normalisation (x - mean) / std, Mul/Div/Add/Sub by scalars and per-channel constants
    (folded into the convolution before, else an affine layer), 1 - x, a difference of two
    tensors, BatchNorm1d on a rank-2 tensor, LogSoftmax output."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.4, -0.2, 0.1]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.5, 1.5, 0.8]).view(1, 3, 1, 1))
        self.register_buffer("shift", torch.tensor([0.3, -0.1, 0.2, 0.5]).view(4, 1, 1))
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3)
        self.c3 = nn.Conv2d(4, 4, 3)
        self.fc1 = nn.Linear(4 * 3 * 3, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 5)

    def forward(self, x):  # 5x5
        x = (x - self.mean) / self.std
        x = F.relu(self.c1(x) * 0.5)  # folded into c1
        x = x + self.shift  # per-channel, after ReLU: an affine layer
        x = 1.0 - x / 4.0
        x = self.c2(x) - self.c3(x)  # 3x3
        x = F.relu(self.bn(self.fc1(torch.flatten(x, 1))) * 2.0 - 1.0)
        return F.log_softmax(self.fc2(x), dim=1)


class Gating(nn.Module):
    """SiLU, squeeze-and-excitation (x * sigmoid(f(x))) and Hardswish: multiplicative gating."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.se1 = nn.Conv2d(8, 4, 1)
        self.se2 = nn.Conv2d(4, 8, 1)
        self.c2 = nn.Conv2d(8, 4, 3)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):  # 6x6
        x = F.silu(self.c1(x))
        s = torch.sigmoid(self.se2(F.relu(self.se1(F.adaptive_avg_pool2d(x, 1)))))
        x = F.hardswish(self.c2(x * s))
        return self.fc(torch.flatten(x, 1))


MODELS = {
    "ceilpool": (CeilPool, (3, 10, 10)),
    "pool1d": (Pool1d, (3, 16)),
    "reduce": (Reduce, (3, 7, 7)),
    "grouped": (Grouped, (4, 17, 17)),
    "shuffle": (Shuffle, (3, 6, 6)),
    "affine": (Affine, (3, 5, 5)),
}


def gen_patterns():
    common.gen_patterns(MODELS, HERE, "ops_", 3000, OPSETS)
    torch.manual_seed(5000)
    model = Gating().eval()
    for opset in (13, 17):
        export(model, torch.randn(1, 3, 6, 6), os.path.join(HERE, f"ops_gating_op{opset}.onnx"), opset)


def gen_keras2onnx_style():
    """A channels-last graph as keras2onnx writes it: NHWC input, every Conv and BatchNormalization
    between Transposes, BatchNormalization of a rank-2 tensor through Unsqueeze/Squeeze, the
    Flatten in NHWC order."""
    rng = np.random.default_rng(11)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.4  # noqa: E731
    x = f32(3, 6, 6, 2)  # NHWC
    w1, b1 = f32(4, 2, 3, 3), f32(4)
    g, be, mu = f32(4) + 1.0, f32(4), f32(4)
    var = (rng.random(4) + 0.5).astype(np.float32)
    w2, b2 = f32(3, 4, 3, 3), f32(3)
    gw, gb = f32(4 * 4 * 3, 5), f32(5)
    g2, be2, mu2 = f32(5) + 1.0, f32(5), f32(5)
    var2 = (rng.random(5) + 0.5).astype(np.float32)

    # reference with torch.nn.functional
    y = F.conv2d(t(x).permute(0, 3, 1, 2), t(w1), t(b1), padding=1)
    y = F.batch_norm(y, t(mu), t(var), t(g), t(be), eps=1e-3)
    y = F.relu(y)
    y = F.conv2d(y, t(w2), t(b2))  # 4x4
    y = y.permute(0, 2, 3, 1).reshape(3, -1)  # NHWC flatten
    y = y @ t(gw) + t(gb)
    y = F.relu(F.batch_norm(y, t(mu2), t(var2), t(g2), t(be2), eps=1e-3))

    def tr(name, src, dst, perm):
        return helper.make_node("Transpose", [src], [dst], name=name, perm=perm)

    nodes = [
        tr("in_to_nchw", "x", "x1", [0, 3, 1, 2]),
        helper.make_node("Conv", ["x1", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        tr("c1_to_nhwc", "c1", "c1t", [0, 2, 3, 1]),
        tr("bn_in", "c1t", "c1n", [0, 3, 1, 2]),
        helper.make_node("BatchNormalization", ["c1n", "g", "be", "mu", "var"], ["bn"], name="bn", epsilon=1e-3),
        tr("bn_out", "bn", "bnt", [0, 2, 3, 1]),
        helper.make_node("Relu", ["bnt"], ["r"], name="relu"),
        tr("r_to_nchw", "r", "rn", [0, 3, 1, 2]),
        helper.make_node("Conv", ["rn", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3]),
        tr("c2_to_nhwc", "c2", "c2t", [0, 2, 3, 1]),
        helper.make_node("Flatten", ["c2t"], ["f"], name="flatten", axis=1),
        helper.make_node("MatMul", ["f", "gw"], ["m"], name="dense"),
        helper.make_node("Add", ["m", "gb"], ["d"], name="dense_bias"),
        helper.make_node("Unsqueeze", ["d"], ["du"], name="unsq", axes=[2, 3]),
        helper.make_node("BatchNormalization", ["du", "g2", "be2", "mu2", "var2"], ["bn2"], name="bn2",
                         epsilon=1e-3),
        helper.make_node("Squeeze", ["bn2"], ["bs"], name="sq", axes=[2, 3]),
        helper.make_node("Relu", ["bs"], ["y"], name="relu2"),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in [
        ("w1", w1), ("b1", b1), ("g", g), ("be", be), ("mu", mu), ("var", var), ("w2", w2), ("b2", b2),
        ("gw", gw), ("gb", gb), ("g2", g2), ("be2", be2), ("mu2", mu2), ("var2", var2)]]
    graph = helper.make_graph(
        nodes, "keras2onnx_style",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6, 6, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], inits,
    )
    model = helper.make_model(graph, producer_name="keras2onnx", opset_imports=[helper.make_opsetid("", 11)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "ops_nhwc_op11.onnx"))
    np.save(os.path.join(HERE, "ops_nhwc.in.npy"), x)
    np.save(os.path.join(HERE, "ops_nhwc.out.npy"), y.numpy().astype(np.float32))


if __name__ == "__main__":
    gen_patterns()
    gen_keras2onnx_style()
