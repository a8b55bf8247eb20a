"""Write custom_objects_keras.h5, custom_objects.json and custom_objects_cases.json:
a Keras 2 HDF5 model whose Dense layer names an activation that only a
custom-objects file defines (`"activation": "my_LimitedReLU"`), the file the
toolbox's `[paths] filepath_custom_objects` points at (its `LimitedReLU` keys
hold the arguments of a Keras ReLU), and the expected output, computed with
numpy by Keras' ReLU rule: x above `threshold` (clipped at `max_value`),
else `negative_slope * (x - threshold)`.

Run: /usr/bin/python3 testdata/parsing/gen_custom_objects.py
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(3)
relu_args = {"max_value": 2.0, "negative_slope": 0.1, "threshold": 0.5}
x = rng.randn(4, 3).astype(np.float32) * 2
kernel = rng.randn(3, 5).astype(np.float32)
bias = rng.randn(5).astype(np.float32)
z = x @ kernel + bias
y = np.where(z > relu_args["threshold"], np.minimum(z, relu_args["max_value"]),
             relu_args["negative_slope"] * (z - relu_args["threshold"]))

layers = [{"class_name": "Dense", "config": {
    "name": "fc", "trainable": True, "dtype": "float32", "batch_input_shape": [None, 3], "units": 5,
    "activation": "my_LimitedReLU", "use_bias": True,
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
    "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
    "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}]
config = {"class_name": "Sequential", "config": {"name": "custom", "layers": layers}}
with h5py.File(os.path.join(HERE, "custom_objects_keras.h5"), "w") as f:
    f.attrs["keras_version"] = b"2.4.0"
    f.attrs["backend"] = b"tensorflow"
    f.attrs["model_config"] = json.dumps(config).encode()
    mw = f.create_group("model_weights")
    mw.attrs["layer_names"] = [b"fc"]
    g = mw.create_group("fc")
    g.attrs["weight_names"] = [b"fc/kernel:0", b"fc/bias:0"]
    g.create_dataset("fc/kernel:0", data=kernel)
    g.create_dataset("fc/bias:0", data=bias)
with open(os.path.join(HERE, "custom_objects.json"), "w") as f:
    json.dump({"my_LimitedReLU": relu_args, "unrelated": 1}, f)
with open(os.path.join(HERE, "custom_objects_cases.json"), "w") as f:
    json.dump({"x": {"shape": list(x.shape), "data": x.ravel().tolist()},
               "y": {"shape": list(y.shape), "data": y.astype(np.float32).ravel().tolist()}}, f)
print("wrote custom_objects_keras.h5, custom_objects.json, custom_objects_cases.json")
