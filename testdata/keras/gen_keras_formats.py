"""Generate small Keras model files in formats no fixture covers, with
reference outputs computed by PyTorch (never by our TypeScript code).

Run once with /usr/bin/python3 (numpy, h5py, torch):
    python3 testdata/keras/gen_keras_formats.py

Writes, beside this script:
- keras1_th_cnn.json + keras1_th_cnn_weights.h5: a Keras 1 Sequential
  (Convolution2D with dim_ordering "th", MaxPooling2D, Flatten, Dense) with
  Keras 1 weight names/layouts (W as (nb_filter, stack, rows, cols)) and no
  backend attribute. keras1_th_cnn.in.npy is the input (NCHW);
  keras1_th_cnn.flipped.npy the output of Theano's true convolution,
  keras1_th_cnn.unflipped.npy the output of cross-correlation with the
  kernel as stored.
- keras1_merge.h5: a Keras 1.2 functional full model (model_config +
  model_weights, no backend attribute) joining two Dense branches with
  Merge(mode="sum") and Merge(mode="concat"); keras1_merge.in.npy, .out.npy.
- keras3_functional.keras: a Keras 3 archive (config.json in the Keras 3
  schema: module/registered_name, DTypePolicy objects, `__keras_tensor__`
  inbound nodes, batch_shape) of Input -> Conv2D -> BatchNormalization ->
  Activation, a 1x1 Conv2D shortcut, Add, GlobalAveragePooling2D, Dense
  softmax; weights under layers/<class key>/vars/<i> with the layer name in
  the `name` attribute. keras3_functional.in.npy (NHWC) and .out.npy.
- keras3_sequential.keras: a deflate-compressed Keras 3 Sequential
  (InputLayer, Dense relu, Dense softmax; Keras 3 names tfjs spells
  otherwise: LecunUniform initializer, L1 regularizer); keras3_sequential.in.npy, .out.npy.
- keras3_nested.keras: a Keras 3 Functional holding a nested Sequential
  (Dense, BatchNormalization), weights under layers/sequential/layers/...;
  keras3_nested.in.npy, .out.npy.
"""
import io
import json
import os
import zipfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261128)


def f32(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


# ---------------------------------------------------------------- Keras 1, Theano ordering
def keras1_th_cnn():
    W = f32(4, 2, 3, 3)  # (nb_filter, stack, rows, cols): Keras 1 "th" kernel layout
    b = f32(4)
    Wd = f32(36, 5)
    bd = f32(5)
    x = f32(3, 2, 8, 8, scale=1.0)

    def forward(kernel):
        y = F.relu(F.conv2d(t(x), t(kernel)) + t(b).view(1, -1, 1, 1))
        y = F.max_pool2d(y, 2)
        y = y.reshape(y.shape[0], -1)  # Keras 1 Flatten: as laid out (NCHW)
        return (y @ t(Wd) + t(bd)).numpy()

    flipped = forward(W[:, :, ::-1, ::-1])  # Theano convolves: kernel flipped
    unflipped = forward(W)
    config = {"class_name": "Sequential", "config": [
        {"class_name": "Convolution2D", "config": {
            "name": "convolution2d_1", "batch_input_shape": [None, 2, 8, 8], "input_dtype": "float32",
            "nb_filter": 4, "nb_row": 3, "nb_col": 3, "init": "glorot_uniform", "activation": "relu",
            "border_mode": "valid", "subsample": [1, 1], "dim_ordering": "th", "W_regularizer": None,
            "b_regularizer": None, "activity_regularizer": None, "W_constraint": None, "b_constraint": None,
            "bias": True, "trainable": True}},
        {"class_name": "MaxPooling2D", "config": {
            "name": "maxpooling2d_1", "pool_size": [2, 2], "strides": [2, 2], "border_mode": "valid",
            "dim_ordering": "th", "trainable": True}},
        {"class_name": "Flatten", "config": {"name": "flatten_1", "trainable": True}},
        {"class_name": "Dense", "config": {
            "name": "dense_1", "output_dim": 5, "init": "glorot_uniform", "activation": "linear",
            "W_regularizer": None, "b_regularizer": None, "activity_regularizer": None,
            "W_constraint": {"name": "MaxNorm", "m": 2, "axis": 0}, "b_constraint": None, "bias": True,
            "input_dim": 36, "trainable": True}},
    ]}
    with open(os.path.join(HERE, "keras1_th_cnn.json"), "w") as fh:
        json.dump(config, fh)
    with h5py.File(os.path.join(HERE, "keras1_th_cnn_weights.h5"), "w") as f:
        names = ["convolution2d_1", "maxpooling2d_1", "flatten_1", "dense_1"]
        f.attrs["layer_names"] = [n.encode() for n in names]
        weights = {"convolution2d_1": [("convolution2d_1_W", W), ("convolution2d_1_b", b)],
                   "dense_1": [("dense_1_W", Wd), ("dense_1_b", bd)]}
        for n in names:
            g = f.create_group(n)
            ws = weights.get(n, [])
            g.attrs["weight_names"] = [w[0].encode() for w in ws] if ws else np.array([])
            for wn, arr in ws:
                g.create_dataset(wn, data=arr)
    np.save(os.path.join(HERE, "keras1_th_cnn.in.npy"), x)
    np.save(os.path.join(HERE, "keras1_th_cnn.flipped.npy"), flipped.astype(np.float32))
    np.save(os.path.join(HERE, "keras1_th_cnn.unflipped.npy"), unflipped.astype(np.float32))


# ---------------------------------------------------------------- Keras 3 archives
def policy():
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def ktensor(name, shape):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [name, 0, 0]}}


def k3layer(cls, name, config, args=None, build_shape=None):
    entry = {"module": "keras.layers", "class_name": cls,
             "config": dict({"name": name, "trainable": True, "dtype": policy()}, **config),
             "registered_name": None, "name": name,
             "inbound_nodes": [] if args is None else [{"args": args, "kwargs": {}}]}
    if build_shape is not None:
        entry["build_config"] = {"input_shape": build_shape}
    return entry


def initializer(cls):
    return {"module": "keras.initializers", "class_name": cls, "config": {"seed": None} if "Glorot" in cls else {},
            "registered_name": None}


def conv_config(filters, k):
    return {"filters": filters, "kernel_size": [k, k], "strides": [1, 1], "padding": "same",
            "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "linear",
            "use_bias": True, "kernel_initializer": initializer("GlorotUniform"),
            "bias_initializer": initializer("Zeros"), "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}


def write_weights_h5(layers):
    """layers: list of (key, layer name, [arrays]) -> bytes of a Keras 3 model.weights.h5."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        top = f.create_group("layers")
        for key, name, arrays in layers:
            v = top.create_group(key).create_group("vars")
            v.attrs["name"] = name
            for i, a in enumerate(arrays):
                v.create_dataset(str(i), data=a)
        f.create_group("vars")
    return buf.getvalue()


def write_archive(path, config, weights_h5, compression):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2026-11-28@10:00:00"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", weights_h5)


def keras3_functional():
    Wc, bc = f32(3, 3, 3, 4), f32(4)
    gamma, beta = f32(4) + 1.0, f32(4)
    mean, var = f32(4), np.abs(f32(4)) + 0.5
    Wp, bp = f32(1, 1, 3, 4), f32(4)
    Wd, bd = f32(4, 3), f32(3)
    x = f32(2, 6, 6, 3, scale=1.0)

    xt = t(x).permute(0, 3, 1, 2)
    y = F.conv2d(xt, t(Wc).permute(3, 2, 0, 1), t(bc), padding=1)
    y = F.batch_norm(y, t(mean), t(var), t(gamma), t(beta), training=False, eps=1e-3)
    y = F.relu(y)
    s = F.conv2d(xt, t(Wp).permute(3, 2, 0, 1), t(bp))
    z = (y + s).mean(dim=(2, 3))
    out = torch.softmax(z @ t(Wd) + t(bd), dim=1).numpy()

    layers = [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 6, 6, 3], "dtype": "float32", "sparse": False, "name": "image"},
         "registered_name": None, "name": "image", "inbound_nodes": []},
        k3layer("Conv2D", "conv", conv_config(4, 3), [ktensor("image", [None, 6, 6, 3])], [None, 6, 6, 3]),
        k3layer("BatchNormalization", "bn", {
            "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
            "beta_initializer": initializer("Zeros"), "gamma_initializer": initializer("Ones"),
            "moving_mean_initializer": initializer("Zeros"), "moving_variance_initializer": initializer("Ones"),
            "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
            "gamma_constraint": None, "synchronized": False}, [ktensor("conv", [None, 6, 6, 4])], [None, 6, 6, 4]),
        k3layer("Activation", "act", {"activation": "relu"}, [ktensor("bn", [None, 6, 6, 4])]),
        k3layer("Conv2D", "proj", conv_config(4, 1), [ktensor("image", [None, 6, 6, 3])], [None, 6, 6, 3]),
        k3layer("Add", "add", {}, [[ktensor("act", [None, 6, 6, 4]), ktensor("proj", [None, 6, 6, 4])]],
                [[None, 6, 6, 4], [None, 6, 6, 4]]),
        k3layer("GlobalAveragePooling2D", "gap", {"data_format": "channels_last", "keepdims": False},
                [ktensor("add", [None, 6, 6, 4])]),
        k3layer("Dense", "head", {
            "units": 3, "activation": "softmax", "use_bias": True, "kernel_initializer": initializer("GlorotUniform"),
            "bias_initializer": initializer("Zeros"), "kernel_regularizer": None, "bias_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None, "lora_rank": None},
            [ktensor("gap", [None, 4])], [None, 4]),
    ]
    config = {"module": "keras.src.models.functional", "class_name": "Functional",
              "config": {"name": "functional", "trainable": True, "layers": layers,
                         "input_layers": ["image", 0, 0], "output_layers": ["head", 0, 0]},
              "registered_name": "Functional", "build_config": {"input_shape": None}, "compile_config": None}
    weights = write_weights_h5([
        ("input_layer", "image", []), ("conv2d", "conv", [Wc, bc]),
        ("batch_normalization", "bn", [gamma, beta, mean, var]), ("activation", "act", []),
        ("conv2d_1", "proj", [Wp, bp]), ("add", "add", []), ("global_average_pooling2d", "gap", []),
        ("dense", "head", [Wd, bd])])
    write_archive(os.path.join(HERE, "keras3_functional.keras"), config, weights, zipfile.ZIP_STORED)
    np.save(os.path.join(HERE, "keras3_functional.in.npy"), x)
    np.save(os.path.join(HERE, "keras3_functional.out.npy"), out.astype(np.float32))


def keras3_sequential():
    W1, b1, W2, b2 = f32(16, 8), f32(8), f32(8, 4), f32(4)
    x = f32(5, 16, scale=1.0)
    out = torch.softmax(F.relu(t(x) @ t(W1) + t(b1)) @ t(W2) + t(b2), dim=1).numpy()

    def dense(name, units, act):
        return {"module": "keras.layers", "class_name": "Dense", "config": {
            "name": name, "trainable": True, "dtype": policy(), "units": units, "activation": act,
            "use_bias": True, "kernel_initializer": initializer("LecunUniform"),
            "bias_initializer": initializer("Zeros"),
            "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L1", "config": {"l1": 1e-4},
                                   "registered_name": None},
            "bias_regularizer": None,
            "kernel_constraint": {"module": "keras.constraints", "class_name": "MaxNorm",
                                  "config": {"max_value": 2.0, "axis": 0}, "registered_name": None},
            "bias_constraint": None}, "registered_name": None}

    config = {"module": "keras", "class_name": "Sequential", "config": {
        "name": "sequential", "trainable": True, "dtype": policy(), "layers": [
            {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 16], "dtype": "float32", "sparse": False, "name": "features"},
             "registered_name": None},
            dense("fc1", 8, "relu"), dense("out", 4, "softmax")]},
        "registered_name": None, "build_config": {"input_shape": [None, 16]}, "compile_config": None}
    weights = write_weights_h5([("dense", "fc1", [W1, b1]), ("dense_1", "out", [W2, b2])])
    write_archive(os.path.join(HERE, "keras3_sequential.keras"), config, weights, zipfile.ZIP_DEFLATED)
    np.save(os.path.join(HERE, "keras3_sequential.in.npy"), x)
    np.save(os.path.join(HERE, "keras3_sequential.out.npy"), out.astype(np.float32))


def keras3_nested():
    """Functional: Input(6) -> nested Sequential "block" (Dense 5 -> BatchNormalization) -> relu -> Dense 2."""
    W1, b1 = f32(6, 5), f32(5)
    gamma, beta, mean, var = f32(5) + 1.0, f32(5), f32(5), np.abs(f32(5)) + 0.5
    W2, b2 = f32(5, 2), f32(2)
    x = f32(4, 6, scale=1.0)
    h = t(x) @ t(W1) + t(b1)
    h = (h - t(mean)) / torch.sqrt(t(var) + 1e-3) * t(gamma) + t(beta)
    out = (F.relu(h) @ t(W2) + t(b2)).numpy()

    block = {"module": "keras", "class_name": "Sequential", "config": {
        "name": "block", "trainable": True, "dtype": policy(), "layers": [
            {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 6], "dtype": "float32", "sparse": False, "name": "block_in"},
             "registered_name": None},
            {"module": "keras.layers", "class_name": "Dense", "config": {
                "name": "inner_fc", "trainable": True, "dtype": policy(), "units": 5, "activation": "linear",
                "use_bias": True, "kernel_initializer": initializer("GlorotUniform"),
                "bias_initializer": initializer("Zeros")}, "registered_name": None},
            {"module": "keras.layers", "class_name": "BatchNormalization", "config": {
                "name": "inner_bn", "trainable": True, "dtype": policy(), "axis": -1, "momentum": 0.99,
                "epsilon": 0.001, "center": True, "scale": True}, "registered_name": None}]},
        "registered_name": None, "build_config": {"input_shape": [None, 6]},
        "name": "block", "inbound_nodes": [{"args": [ktensor("features", [None, 6])], "kwargs": {}}]}
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 6], "dtype": "float32", "sparse": False, "name": "features"},
         "registered_name": None, "name": "features", "inbound_nodes": []},
        block,
        k3layer("Activation", "act", {"activation": "relu"}, [ktensor("block", [None, 5])]),
        k3layer("Dense", "head", {"units": 2, "activation": "linear", "use_bias": True,
                                  "kernel_initializer": initializer("GlorotUniform"),
                                  "bias_initializer": initializer("Zeros")}, [ktensor("act", [None, 5])], [None, 5]),
    ]
    config = {"module": "keras.src.models.functional", "class_name": "Functional",
              "config": {"name": "outer", "trainable": True, "layers": layers,
                         "input_layers": [["features", 0, 0]], "output_layers": [["head", 0, 0]]},
              "registered_name": "Functional"}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        top = f.create_group("layers")
        seq = top.create_group("sequential")
        seq.create_group("vars").attrs["name"] = "block"
        inner = seq.create_group("layers")
        for key, name, arrays in [("dense", "inner_fc", [W1, b1]),
                                  ("batch_normalization", "inner_bn", [gamma, beta, mean, var])]:
            v = inner.create_group(key).create_group("vars")
            v.attrs["name"] = name
            for i, a in enumerate(arrays):
                v.create_dataset(str(i), data=a)
        top.create_group("activation").create_group("vars").attrs["name"] = "act"
        v = top.create_group("dense").create_group("vars")
        v.attrs["name"] = "head"
        v.create_dataset("0", data=W2)
        v.create_dataset("1", data=b2)
        f.create_group("vars")
    write_archive(os.path.join(HERE, "keras3_nested.keras"), config, buf.getvalue(), zipfile.ZIP_STORED)
    np.save(os.path.join(HERE, "keras3_nested.in.npy"), x)
    np.save(os.path.join(HERE, "keras3_nested.out.npy"), out.astype(np.float32))


def keras1_merge():
    """A Keras 1.2 functional full model (HDF5 with model_config): two Dense branches joined by
    Merge(mode="concat") and Merge(mode="sum"), then a Dense softmax."""
    W1, b1, W2, b2 = f32(4, 3), f32(3), f32(4, 3), f32(3)
    W3, b3 = f32(9, 2), f32(2)
    x = f32(6, 4, scale=1.0)
    h1 = torch.tanh(t(x) @ t(W1) + t(b1))
    h2 = F.relu(t(x) @ t(W2) + t(b2))
    merged = torch.cat([h1, h2, h1 + h2], dim=1)
    out = torch.softmax(merged @ t(W3) + t(b3), dim=1).numpy()

    def dense(name, dim, act, inbound):
        return {"class_name": "Dense", "name": name, "inbound_nodes": [[[n, 0, 0] for n in inbound]], "config": {
            "name": name, "output_dim": dim, "init": "glorot_uniform", "activation": act, "W_regularizer": None,
            "b_regularizer": None, "activity_regularizer": None, "W_constraint": None, "b_constraint": None,
            "bias": True, "input_dim": None, "trainable": True}}

    def merge(name, mode, inbound):
        return {"class_name": "Merge", "name": name, "inbound_nodes": [[[n, 0, 0] for n in inbound]], "config": {
            "name": name, "mode": mode, "mode_type": "raw", "concat_axis": -1, "dot_axes": -1,
            "output_shape": None, "output_shape_type": "raw", "output_mask": None, "output_mask_type": "raw",
            "arguments": {}}}

    config = {"class_name": "Model", "config": {"name": "model_1", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [], "config": {
            "batch_input_shape": [None, 4], "input_dtype": "float32", "sparse": False, "name": "input_1"}},
        dense("dense_1", 3, "tanh", ["input_1"]),
        dense("dense_2", 3, "relu", ["input_1"]),
        merge("merge_1", "sum", ["dense_1", "dense_2"]),
        merge("merge_2", "concat", ["dense_1", "dense_2", "merge_1"]),
        dense("dense_3", 2, "softmax", ["merge_2"]),
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_3", 0, 0]]}}
    with h5py.File(os.path.join(HERE, "keras1_merge.h5"), "w") as f:
        f.attrs["keras_version"] = b"1.2.2"
        f.attrs["model_config"] = json.dumps(config).encode()
        mw = f.create_group("model_weights")
        names = ["input_1", "dense_1", "dense_2", "merge_1", "merge_2", "dense_3"]
        mw.attrs["layer_names"] = [n.encode() for n in names]
        weights = {"dense_1": [W1, b1], "dense_2": [W2, b2], "dense_3": [W3, b3]}
        for n in names:
            g = mw.create_group(n)
            ws = weights.get(n, [])
            wn = [f"{n}_{s}".encode() for s in ("W", "b")][:len(ws)]
            g.attrs["weight_names"] = wn if ws else np.array([])
            for name, arr in zip(wn, ws):
                g.create_dataset(name.decode(), data=arr)
    np.save(os.path.join(HERE, "keras1_merge.in.npy"), x)
    np.save(os.path.join(HERE, "keras1_merge.out.npy"), out.astype(np.float32))


if __name__ == "__main__":
    keras1_merge()
    keras1_th_cnn()
    keras3_functional()
    keras3_sequential()
    keras3_nested()
