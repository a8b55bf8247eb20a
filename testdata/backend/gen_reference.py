#!/usr/bin/python3
"""Reference values for tests/backend_threads_test.ts, computed by numpy and torch.

Run once from this folder with Debian's python (numpy 1.24, torch 1.13): /usr/bin/python3 gen_reference.py
Writes float32 .npy inputs and the frameworks' outputs:
  matmul_a (64x96), matmul_b (96x48)      -> matmul_out = a @ b              (numpy, float64 then float32)
  conv_x (4x12x12x8 NHWC), conv_k (3x3x8x16 HWIO), 'same' padding, stride 1
                                            -> conv_out (NHWC)                 (torch.nn.functional.conv2d)
  mlp_x (256x64), mlp_w1 (64x128), mlp_b1, mlp_w2 (128x10), mlp_b2
                                            -> mlp_logits, mlp_argmax (int32) (torch, relu between layers)
The MLP inputs are redrawn until every row's top-2 logits differ by >= 1e-3, so
an argmax cannot flip on float rounding.
"""
import numpy as np
import torch

rng = np.random.default_rng(20261128)


def f32(*shape):
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def save(name, arr):
    np.save(name + ".npy", arr)


a, b = f32(64, 96), f32(96, 48)
save("matmul_a", a)
save("matmul_b", b)
save("matmul_out", (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32))

x, k = f32(4, 12, 12, 8), f32(3, 3, 8, 16)
with torch.no_grad():
    y = torch.nn.functional.conv2d(
        torch.from_numpy(x).permute(0, 3, 1, 2).double(),
        torch.from_numpy(k).permute(3, 2, 0, 1).double(),
        padding=1,
    )
save("conv_x", x)
save("conv_k", k)
save("conv_out", y.permute(0, 2, 3, 1).numpy().astype(np.float32))

w1, b1, w2, b2 = f32(64, 128), f32(128), f32(128, 10), f32(10)
while True:
    mx = f32(256, 64)
    with torch.no_grad():
        h = torch.relu(torch.from_numpy(mx).double() @ torch.from_numpy(w1).double() + torch.from_numpy(b1).double())
        logits = (h @ torch.from_numpy(w2).double() + torch.from_numpy(b2).double()).numpy()
    top2 = np.sort(logits, axis=1)[:, -2:]
    if np.all(top2[:, 1] - top2[:, 0] >= 1e-3):
        break
for name, arr in [("mlp_x", mx), ("mlp_w1", w1), ("mlp_b1", b1), ("mlp_w2", w2), ("mlp_b2", b2)]:
    save(name, arr)
save("mlp_logits", logits.astype(np.float32))
save("mlp_argmax", logits.argmax(axis=1).astype(np.int32))
print("written")
