#!/usr/bin/env python3
"""Benchmark helpers in PyTorch (Debian's python3-torch), for bench/webgpu_bench.ts.

    /usr/bin/python3 bench/snn_peer.py --export-vgg DIR
        Write DIR/vgg_cifar10.onnx: a CIFAR-10-sized VGG-like network (6 conv
        3x3 + ReLU, average pooling after every pair, 2 dense; random weights,
        seed 0; ONNX opset 13, NCHW input 3x32x32). Not committed (generated
        at bench time).

    /usr/bin/python3 bench/snn_peer.py --measure {mnist,vgg} BATCH STEPS DEVICE
        Run STEPS steps of the same loop on DEVICE (cpu, cuda) after a
        warm-up and print one JSON line with sample·steps/s (the GPU peer of
        scripts/device_bench.ts; cpu uses every core).

    /usr/bin/python3 bench/snn_peer.py --infer-resnet BATCH REPS DEVICE
        ResNet-18 inference (testdata/onnx/gen_models.py's network, random
        weights) at BATCH on DEVICE: one JSON line with samples/s, the
        framework's own figure beside the ONNX runtimes of the GPU benchmark.

    /usr/bin/python3 bench/snn_peer.py --serve {mnist,vgg} BATCH THREADS
        The peer of the toolbox's simulator: the same integrate-and-fire loop
        (analog input current computed once, every conv/pool/dense layer a
        layer of IF neurons with threshold 1 and reset by subtraction, spike
        counts kept) on the same architecture, in PyTorch on the CPU with
        THREADS threads. Reads a number K per line from stdin, runs K time
        steps of a batch of BATCH samples, answers "ok <seconds>" (the time
        the K steps took inside Python).
"""
import sys
import time

import torch
from torch import nn


def vgg_cifar10():
    """The VGG-like CIFAR-10 network (channels first)."""
    def conv(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]
    return nn.Sequential(
        *conv(3, 32), *conv(32, 32), nn.AvgPool2d(2),
        *conv(32, 64), *conv(64, 64), nn.AvgPool2d(2),
        *conv(64, 128), *conv(128, 128), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(128 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 10),
    )


def mnist_cnn():
    """The demo's MNIST CNN after parsing (BatchNorm folded): conv 5x5x16, avg pool, conv 3x3x32, avg pool, dense 10."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 10),
    )


def export_vgg(folder):
    import pathlib
    torch.manual_seed(0)
    model = vgg_cifar10().eval()
    path = pathlib.Path(folder) / "vgg_cifar10.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, torch.rand(1, 3, 32, 32), str(path), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print(path)


class IFNetwork:
    """The simulator's loop: each synaptic layer (conv/linear with its bias, or pooling) feeds IF neurons."""

    def __init__(self, model, x):
        self.ops = [m for m in model if not isinstance(m, nn.ReLU)]
        self.x = x
        self.state = None

    def reset(self):
        self.state = None

    @torch.no_grad()
    def step(self):
        v = self.x
        new_state = []
        first = True
        for i, op in enumerate(self.ops):
            if isinstance(op, nn.Flatten):
                v = op(v)
                continue
            if first and self.state is not None:
                current = self.state[i][2]  # input current cached (analog input)
            else:
                current = op(v)
            mem, counts = (self.state[i][0], self.state[i][1]) if self.state else (
                torch.zeros_like(current), torch.zeros_like(current))
            mem = mem + current
            spikes = (mem >= 1.0).float()
            mem = mem - spikes
            counts = counts + spikes
            new_state.append((mem, counts, current if first else None))
            first = False
            v = spikes
        # Flatten has no state: keep indices aligned with self.ops.
        it = iter(new_state)
        self.state = [None if isinstance(op, nn.Flatten) else next(it) for op in self.ops]
        return v


def network(which, batch, device="cpu"):
    torch.manual_seed(0)
    if which == "vgg":
        model, shape = vgg_cifar10(), (batch, 3, 32, 32)
    else:
        model, shape = mnist_cnn(), (batch, 1, 28, 28)
    return IFNetwork(model.eval().to(device), torch.rand(*shape, device=device))


def measure(which, batch, steps, device):
    """STEPS steps after 10 warm-ups; SNN_PEER_TF32=0 in the environment turns TF32 off on CUDA (strict fp32)."""
    import json
    import os
    tf32 = os.environ.get("SNN_PEER_TF32", "default")
    if tf32 == "0":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    net = network(which, batch, device)
    for _ in range(10):
        out = net.step()
    float(out.sum())
    start = time.perf_counter()
    for _ in range(steps):
        out = net.step()
    float(out.sum())  # waits for the device
    seconds = time.perf_counter() - start
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "device": device,
                      "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
                      "model": which, "batch": batch, "steps": steps,
                      "cudnn_tf32": torch.backends.cudnn.allow_tf32 if device == "cuda" else None,
                      "sample_steps_per_s": batch * steps / seconds}), flush=True)


def infer_resnet(batch, reps, device):
    import json
    import pathlib
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "testdata" / "onnx"))
    from gen_models import ResNet18
    torch.manual_seed(0)
    model = ResNet18().eval().to(device)
    x = torch.rand(batch, 3, 224, 224, device=device)
    with torch.no_grad():
        for _ in range(3):
            float(model(x).sum())
        start = time.perf_counter()
        for _ in range(reps):
            out = model(x)
        float(out.sum())
    seconds = time.perf_counter() - start
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "device": device, "model": "resnet18",
                      "batch": batch, "reps": reps, "samples_per_s": batch * reps / seconds,
                      "ms_per_batch": 1000 * seconds / reps}), flush=True)


def serve(which, batch, threads):
    torch.set_num_threads(threads)
    net = network(which, batch)
    net.step()
    print("ready", flush=True)
    for line in sys.stdin:
        k = int(line)
        start = time.perf_counter()
        for _ in range(k):
            out = net.step()
        float(out.sum())
        print(f"ok {time.perf_counter() - start}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--export-vgg":
        export_vgg(sys.argv[2])
    elif sys.argv[1] == "--measure":
        measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "--infer-resnet":
        infer_resnet(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
