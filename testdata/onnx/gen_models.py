#!/usr/bin/python3
"""Generate the ONNX test models and their PyTorch reference outputs.

Run with Debian's python3 (torch 1.13, onnx 1.12):

    /usr/bin/python3 testdata/onnx/gen_models.py            # small pattern models
    /usr/bin/python3 testdata/onnx/gen_models.py --resnet DIR  # ResNet-18 for the bench (not committed)

Every expected output is computed by PyTorch (or, for the hand-built graphs,
by torch.nn.functional on the same weights), never by the toolbox.
Files: <name>_op<opset>.onnx, <name>.in.npy (float32, NCHW), <name>.out.npy.
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
from _gen_common import export, randomise_bn, t  # noqa: E402

OPSETS = (9, 11, 13, 17)


class Basic(nn.Module):
    """Conv+BN+ReLU, MaxPool, strided Conv, ReLU6 (Clip), AvgPool, view-flatten, Linear, Dropout, Softmax."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 6, 3, padding=1)
        self.b1 = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 8, 3, stride=2, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 2 * 2, 10)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.relu6(self.b2(self.c2(x)))
        x = F.avg_pool2d(x, 2)
        x = x.view(x.size(0), -1)
        return F.softmax(self.drop(self.fc(x)), dim=1)


class Groups(nn.Module):
    """Depthwise (multiplier 1 and 2) dilated convs, asymmetric zero pad, torch.flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4)
        self.dw2 = nn.Conv2d(4, 8, 3, padding=1, groups=4, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.pad = nn.ZeroPad2d((0, 1, 1, 0))
        self.c = nn.Conv2d(8, 5, 3, dilation=(1, 2))
        self.fc = nn.Linear(5 * 5 * 6, 6)

    def forward(self, x):
        x = F.relu(self.dw(x))
        x = F.relu(self.bn(self.dw2(x)))
        x = self.c(self.pad(x))
        return self.fc(torch.flatten(x, 1))


class Pools(nn.Module):
    """MaxPool with pads after ReLU, AvgPool with count_include_pad True and False."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # 9x9
        x = F.relu(self.c(x))
        x = F.max_pool2d(x, 3, stride=2, padding=1)  # 5x5
        a = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)  # 5x5 ('same')
        a = F.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=False)  # 3x3 ('same' for odd size)
        b = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=True)  # 3x3
        y = F.max_pool2d(torch.cat([a, b], 1), 2)  # 1x1
        return self.fc(torch.flatten(y, 1))


class Residual(nn.Module):
    """Concat on channels, Add residual, nearest upsampling x2, ConvTranspose, GlobalAveragePool."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        self.ba = nn.BatchNorm2d(4)
        self.c = nn.Conv2d(8, 3, 3, padding=1)
        self.bc = nn.BatchNorm2d(3)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.t = nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1, output_padding=1)
        self.t2 = nn.ConvTranspose2d(5, 4, 2, stride=2)
        self.fc = nn.Linear(4, 7)

    def forward(self, x):
        y = torch.cat([F.relu(self.ba(self.a(x))), F.relu(self.b(x))], 1)
        y = F.relu(self.bc(self.c(y)) + x)
        y = self.up(y)
        y = F.relu(self.t(y))
        y = self.t2(y)
        y = F.adaptive_avg_pool2d(y, 1)
        return self.fc(y.view(y.size(0), -1))


class OneD(nn.Module):
    """Conv1d with padding, BatchNorm1d, dilation, flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm1d(6)
        self.c2 = nn.Conv1d(6, 4, 3, dilation=2)
        self.fc = nn.Linear(4 * 8, 5)

    def forward(self, x):  # length 12
        x = F.relu(self.bn(self.c1(x)))
        x = F.relu(self.c2(x))
        return self.fc(x.view(x.size(0), -1))


class Mlp(nn.Module):
    """Linear as MatMul+Add (explicit parameters), Linear, BatchNorm1d, ReLU."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(12, 9) * 0.3)
        self.b = nn.Parameter(torch.randn(9) * 0.1)
        self.bn = nn.BatchNorm1d(9)
        self.fc = nn.Linear(9, 4)

    def forward(self, x):
        x = F.relu(self.bn(torch.matmul(x, self.w) + self.b))
        return self.fc(x)


MODELS = {
    "basic": (Basic, (2, 16, 16)),
    "groups": (Groups, (4, 6, 9)),
    "pools": (Pools, (3, 9, 9)),
    "residual": (Residual, (3, 5, 5)),
    "conv1d": (OneD, (3, 12)),
    "mlp": (Mlp, (12,)),
}


def gen_patterns():
    common.gen_patterns(MODELS, HERE, "", 1000, OPSETS)


def gen_handmade():
    """Graphs torch.onnx.export does not write: auto_pad, Gemm flags, typed initializer fields,
    opset-7 attribute forms, Constant/Identity/Dropout nodes, external data, unsupported ops."""
    rng = np.random.default_rng(7)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.4  # noqa: E731
    x = f32(2, 3, 7, 7)
    w1, b1 = f32(4, 3, 3, 3), f32(4)
    w2 = f32(4, 4, 2, 2)
    w3 = f32(5, 4, 3, 3)
    gw, gb = f32(6, 5 * 4 * 4), f32(6)  # Gemm with transB=1
    gw2 = f32(6, 3)  # Gemm transB=0, alpha/beta
    gb2 = f32(3)

    # reference with torch.nn.functional
    y = F.conv2d(t(x), t(w1), t(b1), padding=1)  # SAME_UPPER, stride 1, k3
    y = F.relu(y)
    y = F.conv2d(F.pad(y, (1, 0, 1, 0)), t(w2))  # SAME_LOWER k2 -> pad begin 1
    y = torch.clamp(y, 0.0, 2.0)  # Clip opset 7 attrs
    y = F.pad(y, (0, 1, 0, 1))  # Pad opset 7 (attr pads) -> 8x8
    y = F.conv2d(y, t(w3), stride=2, padding=0)  # VALID stride 2 -> 3x3? 8-3)/2+1 = 3
    y = F.interpolate(y, scale_factor=2, mode="nearest")  # Upsample opset 7 attr scales -> 6x6
    y = F.avg_pool2d(y, 2, stride=1, padding=0)  # 5x5
    y = F.max_pool2d(y, 2, stride=1)  # 4x4
    y = torch.flatten(y, 1)
    y = F.linear(y, t(gw), t(gb))
    y = F.relu(y)
    y = 1.5 * (y @ t(gw2)) + 0.5 * t(gb2)
    y = F.softmax(y, dim=1)

    def init(name, arr, typed=False):
        if typed:  # float_data / int64_data instead of raw_data
            return helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.flatten().tolist())
        return numpy_helper.from_array(arr, name)

    nodes = [
        helper.make_node("Identity", ["x"], ["x_id"], name="identity0"),
        helper.make_node("Conv", ["x_id", "w1", "b1"], ["c1"], name="conv_same_upper", kernel_shape=[3, 3],
                         auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Dropout", ["r1"], ["d1"], name="dropout1", ratio=0.5),
        helper.make_node("Conv", ["d1", "w2"], ["c2"], name="conv_same_lower", kernel_shape=[2, 2],
                         auto_pad="SAME_LOWER"),
        helper.make_node("Clip", ["c2"], ["cl"], name="clip7", min=0.0, max=2.0),
        helper.make_node("Pad", ["cl"], ["p"], name="pad7", mode="constant", pads=[0, 0, 0, 0, 0, 0, 1, 1]),
        helper.make_node("Conv", ["p", "w3"], ["c3"], name="conv_valid", kernel_shape=[3, 3], strides=[2, 2],
                         auto_pad="VALID"),
        helper.make_node("Upsample", ["c3"], ["u"], name="upsample7", mode="nearest", scales=[1.0, 1.0, 2.0, 2.0]),
        helper.make_node("AveragePool", ["u"], ["ap"], name="avgpool", kernel_shape=[2, 2], strides=[1, 1]),
        helper.make_node("MaxPool", ["ap"], ["mp"], name="maxpool", kernel_shape=[2, 2], strides=[1, 1]),
        helper.make_node("Flatten", ["mp"], ["fl"], name="flatten", axis=1),
        helper.make_node("Gemm", ["fl", "gw", "gb"], ["g1"], name="gemm_transB", transB=1),
        helper.make_node("Relu", ["g1"], ["r2"], name="relu2"),
        helper.make_node("Constant", [], ["gb2"], name="const_bias",
                         value=numpy_helper.from_array(gb2, "gb2v")),
        helper.make_node("Gemm", ["r2", "gw2", "gb2"], ["g2"], name="gemm_alpha_beta", alpha=1.5, beta=0.5),
        helper.make_node("Softmax", ["g2"], ["y"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "handmade",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 7, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [init("w1", w1, True), init("b1", b1, True), init("w2", w2), init("w3", w3), init("gw", gw),
         init("gb", gb, True), init("gw2", gw2)],
    )
    for tensor in graph.initializer:  # IR version 3 lists initializers among the graph inputs
        graph.input.append(helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims))
    model = helper.make_model(graph, producer_name="gen_models.py", opset_imports=[helper.make_opsetid("", 7)])
    model.ir_version = 3
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "handmade_op7.onnx"))
    np.save(os.path.join(HERE, "handmade.in.npy"), x)
    np.save(os.path.join(HERE, "handmade.out.npy"), y.numpy().astype(np.float32))

    # the same graph with its initializers in an external data file beside it
    ext_dir = os.path.join(HERE, "external")
    os.makedirs(ext_dir, exist_ok=True)
    m2 = onnx.load(os.path.join(HERE, "handmade_op7.onnx"))
    for tensor in m2.graph.initializer:  # convert typed fields to raw first
        arr = numpy_helper.to_array(tensor)
        tensor.CopyFrom(numpy_helper.from_array(arr, tensor.name))
    weights = os.path.join(ext_dir, "handmade_ext.weights")
    if os.path.exists(weights):
        os.remove(weights)  # onnx appends to an existing external data file
    onnx.save_model(m2, os.path.join(ext_dir, "handmade_ext.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="handmade_ext.weights", size_threshold=0)

    # external data that points outside the model's folder: must be refused
    m3 = onnx.load(os.path.join(ext_dir, "handmade_ext.onnx"), load_external_data=False)
    for tensor in m3.graph.initializer:
        for kv in tensor.external_data:
            if kv.key == "location":
                kv.value = "../handmade.in.npy"
    onnx.save(m3, os.path.join(ext_dir, "escape.onnx"))

    # unsupported operators: all of them must be named in one error
    w = f32(4, 3)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="dense"),
        helper.make_node("LeakyRelu", ["m"], ["a"], name="leaky", alpha=0.1),
        helper.make_node("Sigmoid", ["a"], ["s"], name="sig"),
        helper.make_node("Tanh", ["s"], ["t"], name="tanh"),
        helper.make_node("Erf", ["t"], ["y"], name="erf"),
    ]
    graph = helper.make_graph(
        nodes, "unsupported", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [numpy_helper.from_array(w.T.copy(), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(HERE, "unsupported_op13.onnx"))

    # grouped convolution that is not depthwise
    wg = f32(4, 2, 3, 3)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "wg"], ["y"], name="grouped_conv", group=2, kernel_shape=[3, 3])],
        "grouped", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 3, 3])], [numpy_helper.from_array(wg, "wg")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(HERE, "grouped_op13.onnx"))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """torchvision's resnet18 layout in plain torch (torchvision is not installed)."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def gen_resnet(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    model = ResNet18()
    randomise_bn(model, torch.Generator().manual_seed(1))
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        y = model(x)
    export(model, x, os.path.join(out_dir, "resnet18.onnx"), 13)
    np.save(os.path.join(out_dir, "resnet18.in.npy"), x.numpy())
    np.save(os.path.join(out_dir, "resnet18.out.npy"), y.numpy())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--resnet":
        gen_resnet(sys.argv[2])
    else:
        gen_patterns()
        gen_handmade()
