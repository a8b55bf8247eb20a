"""Write api_reference.json: what the Python SNN toolbox's own parsing code
answers, for the tests of our counterparts (tests/parsing_api_reference_test.ts).

The toolbox is imported from /work/ref/snn_toolbox (never copied here) with
TensorFlow replaced by stubs: the functions under test only need numpy and
layer objects that answer the attributes the toolbox reads (class name,
inbound/outbound nodes, shapes, config, weights). The layers below are such
stand-ins, built from small graph specs that the TypeScript test rebuilds as
TF.js models. Where an answer is an array of connection counts, the exact
count (every output position and kernel tap enumerated with TensorFlow's
padding rule) is written beside it, so the test can tell where the toolbox
is exact and where it is not.

Run: /usr/bin/python3 testdata/parsing/gen_api_reference.py
(skips with a message when /work/ref/snn_toolbox is absent; the committed
JSON is what the tests read).
"""
import collections
import configparser
import contextlib
import io
import json
import math
import os
import sys
import tempfile
import types
from unittest import mock

import numpy as np

TOOLBOX = "/work/ref/snn_toolbox"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api_reference.json")

if not os.path.isdir(os.path.join(TOOLBOX, "snntoolbox")):
    print(f"{TOOLBOX} is absent: api_reference.json is not regenerated")
    sys.exit(0)


# ---- TensorFlow stubs --------------------------------------------------------------------


class _Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return mock.MagicMock(name=f"{self.__name__}.{name}")


def _stub(name):
    m = _Stub(name)
    sys.modules[name] = m
    return m


tf = _stub("tensorflow")
keras = _stub("tensorflow.keras")
tf.keras = keras
backend = _stub("tensorflow.keras.backend")
keras.backend = backend
for _name in ["models", "metrics", "layers", "utils", "callbacks", "regularizers"]:
    setattr(keras, _name, _stub(f"tensorflow.keras.{_name}"))
_stub("tensorflow.python")

DATA_FORMAT = {"value": "channels_last"}
backend.image_data_format = lambda: DATA_FORMAT["value"]
backend.get_value = lambda x: np.asarray(x)
# The backend functions the toolbox's precision metric calls, on numpy arrays.
backend.sum = np.sum
backend.round = np.round
backend.clip = np.clip
backend.epsilon = lambda: 1e-7

sys.path.insert(0, TOOLBOX)
import snntoolbox.parsing.utils as pu  # noqa: E402
import snntoolbox.parsing.model_libs.keras_input_lib as kil  # noqa: E402
import snntoolbox.simulation.utils as su  # noqa: E402
import snntoolbox.utils.utils as uu  # noqa: E402


def toolbox_config():
    """The toolbox's config_defaults, as its own code reads them."""
    c = configparser.ConfigParser()
    c.optionxform = str
    c.read(os.path.join(TOOLBOX, "snntoolbox", "config_defaults"))
    return c


def quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


# ---- stand-in Keras layers ---------------------------------------------------------------


class Node:
    def __init__(self, inbound_layers=None, outbound_layer=None):
        self.inbound_layers = inbound_layers or []
        self.outbound_layer = outbound_layer


class Act:
    def __init__(self, name):
        self.__name__ = name


class FakeLayer:
    """Answers what the toolbox reads from a Keras layer; nothing else (AttributeError)."""


def out_len(n, k, s, padding, d=1):
    span = (k - 1) * d + 1
    return math.ceil(n / s) if padding == "same" else math.ceil((n - span + 1) / s)


def output_shape(spec, in_shapes, channels_first):
    t = spec["type"]
    x = in_shapes[0]
    if t in ("Conv2D", "Conv1D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D"):
        spatial = x[1:] if channels_first else x[:-1]
        c = x[0] if channels_first else x[-1]
        k = spec.get("kernel_size") or spec.get("pool_size")
        s = spec.get("strides") or ([1] * len(k) if "Conv" in t else k)
        d = spec.get("dilation_rate") or [1] * len(k)
        sp = [out_len(n, k[i], s[i], spec.get("padding", "valid"), d[i]) for i, n in enumerate(spatial)]
        if t.startswith("Conv"):
            c = spec["filters"]
        elif t == "DepthwiseConv2D":
            c = c * spec.get("depth_multiplier", 1)
        return [c, *sp] if channels_first else [*sp, c]
    if t == "Dense":
        return [*x[:-1], spec["units"]]
    if t == "Flatten":
        return [int(np.prod(x))]
    if t == "Concatenate":
        ax = spec.get("axis", -1)
        ax = ax - 1 if ax > 0 else len(x) + ax
        out = list(x)
        out[ax] = sum(s[ax] for s in in_shapes)
        return out
    if t in ("GlobalAveragePooling2D",):
        return [x[0] if channels_first else x[-1]]
    return list(x)


ACTIVATION_TYPES = {"Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "Activation"}


def build(graph, channels_first=False):
    """Stand-in layers of `graph` (spec dicts in order; the first is the input)."""
    layers = collections.OrderedDict()
    shapes = {}
    rng = np.random.RandomState(7)
    for spec in graph["layers"]:
        t = spec["type"]
        cls = type(t, (FakeLayer,), {})
        layer = cls()
        layer.name = spec["name"]
        layer._outbound_nodes = []
        inbound = [layers[n] for n in spec.get("inbound", [])]
        layer._inbound_nodes = [Node(inbound_layers=inbound)]
        if t == "InputLayer":
            shape = list(spec["shape"])
        else:
            shape = output_shape(spec, [shapes[n] for n in spec["inbound"]], channels_first)
        shapes[spec["name"]] = shape
        in_shapes = [[None, *shapes[n]] for n in spec.get("inbound", [])] or [[None, *shape]]
        layer.input_shape = tuple(in_shapes[0]) if len(in_shapes) == 1 else [tuple(s) for s in in_shapes]
        layer.output_shape = tuple([None, *shape])
        for key in ("units", "filters", "padding", "depth_multiplier", "axis", "epsilon"):
            if key in spec:
                setattr(layer, key, spec[key])
        for key in ("kernel_size", "pool_size", "strides", "dilation_rate"):
            if key in spec:
                setattr(layer, key, tuple(spec[key]))
        if "Conv" in t or "Pool" in t:
            # Keras: convolution strides default to 1, pooling strides to the pool size.
            default = spec.get("pool_size", [1, 1]) if "Pool" in t else [1] * len(spec.get("kernel_size", [1, 1]))
            layer.strides = tuple(spec.get("strides") or default)
            layer.padding = spec.get("padding", "valid")
            layer.data_format = "channels_first" if channels_first else "channels_last"
        if t in ACTIVATION_TYPES:
            layer.activation = Act(spec.get("activation", "linear"))
        weights = []
        if t == "Dense":
            weights = [rng.randn(in_shapes[0][-1], spec["units"]), np.zeros(spec["units"])]
        elif t in ("Conv2D", "Conv1D"):
            c_in = in_shapes[0][1] if channels_first else in_shapes[0][-1]
            weights = [rng.randn(*spec["kernel_size"], c_in, spec["filters"]), np.zeros(spec["filters"])]
        elif t == "DepthwiseConv2D":
            c_in = in_shapes[0][1] if channels_first else in_shapes[0][-1]
            m = spec.get("depth_multiplier", 1)
            weights = [rng.randn(*spec["kernel_size"], c_in, m), np.zeros(c_in * m)]
        elif t == "BatchNormalization":
            c = shape[0] if channels_first else shape[-1]
            layer.moving_mean, layer.moving_variance = rng.randn(c), rng.rand(c) + 0.5
            layer.gamma, layer.beta = rng.rand(c) + 0.5, rng.randn(c)
            layer.epsilon = 1e-3
            layer.axis = 1 if channels_first else -1
            weights = [layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance]
        layer.weights = weights
        if t in ("Dense", "Conv2D", "Conv1D", "DepthwiseConv2D"):
            layer.bias = weights[1]
        layer.get_weights = (lambda w: lambda: list(w))(weights)
        config = {k: v for k, v in spec.items() if k not in ("type", "inbound", "shape")}
        layer.get_config = (lambda c: lambda: dict(c))(config)
        for inb in inbound:
            inb._outbound_nodes.append(Node(outbound_layer=layer))
        layers[spec["name"]] = layer
    return layers, shapes


class FakeModel:
    def __init__(self, layers, sequential):
        all_layers = list(layers.values())
        self.layers = all_layers[1:] if sequential else all_layers


# ---- exact connection counts -------------------------------------------------------------


def exact_cover(n_in, n_out, k, s, padding, d=1):
    """How many output positions' windows cover each input position (TensorFlow's padding)."""
    span = (k - 1) * d + 1
    total = max((n_out - 1) * s + span - n_in, 0) if padding == "same" else 0
    before = total // 2
    counts = np.zeros(n_in)
    for o in range(n_out):
        for t in range(k):
            i = o * s - before + t * d
            if 0 <= i < n_in:
                counts[i] += 1
    return counts


def exact_fanout_into(pre_shape, post, post_out, per_channel):
    """Exact synapses from each neuron (channels-last `pre_shape`) into the strided window layer `post`."""
    spatial = pre_shape[:-1]
    counts = [exact_cover(n, post_out[a], post.kernel_size[a], post.strides[a], post.padding)
              for a, n in enumerate(spatial)]
    grid = counts[0]
    for c in counts[1:]:
        grid = np.multiply.outer(grid, c)
    return (np.broadcast_to(grid[..., None], pre_shape) * per_channel).ravel().tolist()


def jsonable(v):
    if isinstance(v, np.ndarray):
        return {"shape": list(v.shape), "data": v.astype(np.float64).ravel().tolist()}
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


# ---- fan-in / fan-out --------------------------------------------------------------------

FANOUT_GRAPHS = [
    {"name": "strided conv2d, odd map", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [9, 8, 2]},
        {"type": "Conv2D", "name": "Conv2D_a", "inbound": ["input"], "filters": 3, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "Conv2D", "name": "Conv2D_b", "inbound": ["Conv2D_a"], "filters": 4, "kernel_size": [3, 3],
         "strides": [2, 2], "padding": "same"},
        {"type": "Conv2D", "name": "Conv2D_c", "inbound": ["Conv2D_a"], "filters": 2, "kernel_size": [3, 3],
         "strides": [2, 2], "padding": "valid"},
    ], "fanout": ["Conv2D_a"], "fanin": ["Conv2D_a", "Conv2D_b"]},
    {"name": "strided conv2d, even map (same padding differs)", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [8, 8, 2]},
        {"type": "Conv2D", "name": "Conv2D_a", "inbound": ["input"], "filters": 3, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "Conv2D", "name": "Conv2D_b", "inbound": ["Conv2D_a"], "filters": 4, "kernel_size": [3, 3],
         "strides": [2, 2], "padding": "same"},
    ], "fanout": ["Conv2D_a"], "fanin": ["Conv2D_b"]},
    {"name": "through Concatenate", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [6, 6, 2]},
        {"type": "Conv2D", "name": "Conv2D_a", "inbound": ["input"], "filters": 3, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "Conv2D", "name": "Conv2D_b", "inbound": ["input"], "filters": 2, "kernel_size": [1, 1]},
        {"type": "Concatenate", "name": "Concatenate_c", "inbound": ["Conv2D_a", "Conv2D_b"], "axis": -1},
        {"type": "Conv2D", "name": "Conv2D_d", "inbound": ["Concatenate_c"], "filters": 4, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "MaxPooling2D", "name": "MaxPooling2D_e", "inbound": ["Concatenate_c"], "pool_size": [2, 2]},
    ], "fanout": ["Conv2D_a", "Conv2D_b"], "fanin": ["Conv2D_d"]},
    {"name": "through Concatenate into a strided conv", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [7, 7, 2]},
        {"type": "Conv2D", "name": "Conv2D_a", "inbound": ["input"], "filters": 3, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "Conv2D", "name": "Conv2D_b", "inbound": ["input"], "filters": 2, "kernel_size": [1, 1]},
        {"type": "Concatenate", "name": "Concatenate_c", "inbound": ["Conv2D_a", "Conv2D_b"], "axis": -1},
        {"type": "Conv2D", "name": "Conv2D_d", "inbound": ["Concatenate_c"], "filters": 4, "kernel_size": [3, 3],
         "strides": [2, 2], "padding": "valid"},
    ], "fanout": ["Conv2D_a", "Conv2D_b"], "fanin": ["Conv2D_d"]},
    {"name": "strided conv1d", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [11, 2]},
        {"type": "Conv1D", "name": "Conv1D_a", "inbound": ["input"], "filters": 3, "kernel_size": [3],
         "padding": "same"},
        {"type": "Conv1D", "name": "Conv1D_b", "inbound": ["Conv1D_a"], "filters": 4, "kernel_size": [3],
         "strides": [2], "padding": "valid"},
        {"type": "Conv1D", "name": "Conv1D_c", "inbound": ["Conv1D_a"], "filters": 2, "kernel_size": [2],
         "strides": [3], "padding": "valid"},
    ], "fanout": ["Conv1D_a"], "fanin": ["Conv1D_a", "Conv1D_b"]},
    {"name": "depthwise", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [7, 7, 2]},
        {"type": "Conv2D", "name": "Conv2D_a", "inbound": ["input"], "filters": 2, "kernel_size": [1, 1]},
        {"type": "DepthwiseConv2D", "name": "DepthwiseConv2D_b", "inbound": ["Conv2D_a"], "kernel_size": [3, 3],
         "strides": [2, 2], "padding": "valid", "depth_multiplier": 1},
        {"type": "DepthwiseConv2D", "name": "DepthwiseConv2D_c", "inbound": ["Conv2D_a"], "kernel_size": [3, 3],
         "padding": "same", "depth_multiplier": 1},
    ], "fanout": ["Conv2D_a"], "fanin": ["DepthwiseConv2D_b"]},
    {"name": "depthwise, multiplier 2 (unit stride)", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [5, 5, 2]},
        {"type": "Conv2D", "name": "Conv2D_a", "inbound": ["input"], "filters": 2, "kernel_size": [1, 1]},
        {"type": "DepthwiseConv2D", "name": "DepthwiseConv2D_b", "inbound": ["Conv2D_a"], "kernel_size": [3, 3],
         "padding": "same", "depth_multiplier": 2},
    ], "fanout": ["Conv2D_a"], "fanin": []},
    {"name": "dense, pooling and a branch", "layers": [
        {"type": "InputLayer", "name": "input", "shape": [6, 6, 2]},
        {"type": "Conv2D", "name": "Conv2D_a", "inbound": ["input"], "filters": 5, "kernel_size": [3, 2]},
        {"type": "Conv2D", "name": "Conv2D_b", "inbound": ["Conv2D_a"], "filters": 6, "kernel_size": [3, 3]},
        {"type": "MaxPooling2D", "name": "MaxPooling2D_c", "inbound": ["Conv2D_a"], "pool_size": [2, 2]},
        {"type": "Flatten", "name": "Flatten_d", "inbound": ["MaxPooling2D_c"]},
        {"type": "Dense", "name": "Dense_e", "inbound": ["Flatten_d"], "units": 7},
    ], "fanout": ["Conv2D_a", "MaxPooling2D_c"], "fanin": ["Conv2D_a", "Conv2D_b", "Dense_e", "MaxPooling2D_c"]},
]


def fanout_cases():
    config = toolbox_config()
    out = []
    for graph in FANOUT_GRAPHS:
        layers, shapes = build(graph)
        case = {"name": graph["name"], "layers": graph["layers"], "shapes": shapes, "fanout": {}, "fanin": {}}
        for name in graph["fanout"]:
            layer = layers[name]
            value = pu.get_fanout(layer, config)
            exact = None
            if isinstance(value, np.ndarray):
                # The exact count: the same nominal terms plus exact arrays for the strided convolutions.
                pre = shapes[name]
                total = np.zeros(int(np.prod(pre)))
                for post in su.get_spiking_outbound_layers(layer, config):
                    t = type(post).__name__
                    if "Conv" in t and not pu.has_stride_unity(post):
                        per = 1 if "Depthwise" in t else post.filters
                        total += np.array(exact_fanout_into(pre, post, shapes[post.name][:-1], per))
                    elif "Dense" in t:
                        total += post.units
                    elif "Pool" in t:
                        total += 1
                    elif "Conv" in t:
                        total += np.prod(post.kernel_size) * (1 if "Depthwise" in t else post.filters)
                exact = total.tolist()
            case["fanout"][name] = {"toolbox": jsonable(value), "exact": exact}
        for name in graph["fanin"]:
            case["fanin"][name] = jsonable(pu.get_fanin(layers[name]))
        case["stride_unity"] = {n: bool(pu.has_stride_unity(l)) for n, l in layers.items()
                                if hasattr(l, "strides")}
        out.append(case)
    return out


def fanout_array_cases():
    """get_fanout_array(pre, post) for direct pairs, with the exact counts."""
    out = []
    for graph_name, pre, post, depthwise in [
        ("strided conv2d, odd map", "Conv2D_a", "Conv2D_b", False),
        ("strided conv2d, odd map", "Conv2D_a", "Conv2D_c", False),
        ("strided conv1d", "Conv1D_a", "Conv1D_b", False),
        ("depthwise", "Conv2D_a", "DepthwiseConv2D_b", True),
    ]:
        graph = next(g for g in FANOUT_GRAPHS if g["name"] == graph_name)
        layers, shapes = build(graph)
        value = pu.get_fanout_array(layers[pre], layers[post], depthwise)
        per = 1 if depthwise else layers[post].filters
        exact = exact_fanout_into(shapes[pre], layers[post], shapes[post][:-1], per)
        out.append({"graph": graph_name, "pre": pre, "post": post, "depthwise": depthwise,
                    "toolbox": jsonable(value), "exact": exact})
    return out


# ---- batch-norm folding, padding, precision ---------------------------------------------

def bn_cases():
    rng = np.random.RandomState(3)
    out = []
    for name, shape, axis, fmt, depthwise in [
        ("dense axis -1", (5, 4), -1, "channels_last", False),
        ("dense axis 1", (3, 2), 1, "channels_last", False),
        ("conv2d channels_last axis -1", (3, 3, 2, 4), -1, "channels_last", False),
        ("conv2d channels_last axis 3", (2, 2, 3, 2), 3, "channels_last", False),
        ("conv2d channels_first axis 1", (3, 3, 2, 4), 1, "channels_first", False),
        ("depthwise channels_last axis -1", (3, 3, 4, 1), -1, "channels_last", True),
        ("depthwise channels_first axis 1", (3, 3, 4, 1), 1, "channels_first", True),
        ("conv1d channels_last axis -1", (3, 2, 5), -1, "channels_last", False),
        ("conv1d channels_first axis 1", (3, 2, 5), 1, "channels_first", False),
    ]:
        n = shape[2] if depthwise else shape[-1]
        w = rng.randn(*shape).astype(np.float32)
        b, mean, beta = (rng.randn(n).astype(np.float32) for _ in range(3))
        inv = (rng.rand(n) + 0.5).astype(np.float32)
        gamma = (rng.rand(n) + 0.5).astype(np.float32)
        w_bn, b_bn = quiet(pu.absorb_bn_parameters, w, b, mean, inv, gamma, beta, axis, fmt, depthwise)
        out.append({"name": name, "axis": axis, "image_data_format": fmt, "is_depthwise": depthwise,
                    "weight": jsonable(w), "bias": b.tolist(), "mean": mean.tolist(),
                    "var_eps_sqrt_inv": inv.tolist(), "gamma": gamma.tolist(), "beta": beta.tolist(),
                    "weight_bn": jsonable(np.asarray(w_bn, np.float32)),
                    "bias_bn": np.asarray(b_bn, np.float32).tolist()})
    return out


def padding_cases():
    out = []
    for pad, size in [((0, 0), [3, 3]), ((1, 1), [3, 3]), ((2, 2), [3, 3]), ((2, 1), [5, 3]),
                      ((4, 2), [5, 3]), ((1, 0), [3, 3]), ("same", [3, 3])]:
        try:
            value = pu.padding_string(pad, size)
        except NotImplementedError:
            value = None
        out.append({"pad": list(pad) if isinstance(pad, tuple) else pad, "pool_size": size, "padding": value})
    return out


def precision_cases():
    rng = np.random.RandomState(5)
    x = np.concatenate([rng.randn(40) * 3, [0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.03125, 100.0, -100.0, 0.25]])
    x = x.astype(np.float32)
    reduce = []
    for m, f in [(1, 4), (2, 3), (1, 1), (3, 7), (4, 15)]:
        reduce.append({"m": m, "f": f, "out": np.asarray(uu.reduce_precision(x, m, f), np.float32).tolist()})
    binar = {"h1": uu.binarize(x).tolist(), "h0.5": uu.binarize(x, 0.5).tolist()}
    modify = []
    w = x[:12].reshape(3, 4)
    b = x[12:16]
    for label, cell, attrs in [
        ("binarize", {"binarize_weights": "True"}, {}),
        ("quantize Q2.3 with bias", {"quantize_weights": "True"}, {"Qm.f": (2, 3), "quantize_bias": True}),
        ("quantize Q1.4 without bias", {"quantize_weights": "True"}, {"Qm.f": (1, 4)}),
        ("quantize without Qm.f", {"quantize_weights": "True"}, {}),
        ("nothing", {}, {"Qm.f": (1, 4), "quantize_bias": True}),
    ]:
        config = toolbox_config()
        for key, value in cell.items():
            config.set("cell", key, value)
        a = dict(attrs)
        try:
            w2, b2 = quiet(pu.modify_parameter_precision, w.copy(), b.copy(), config, a)
            modify.append({"label": label, "cell": cell, "attributes": {k: list(v) if isinstance(v, tuple) else v
                                                                          for k, v in attrs.items()},
                           "weights": np.asarray(w2, np.float32).ravel().tolist(),
                           "biases": np.asarray(b2, np.float32).tolist(), "left": sorted(a)})
        except AssertionError:
            modify.append({"label": label, "cell": cell, "attributes": {}, "error": True})
    return {"x": x.tolist(), "reduce_precision": reduce, "binarize": binar,
            "modify": modify, "w": w.ravel().tolist(), "w_shape": list(w.shape), "b": b.tolist()}


def metric_cases():
    rng = np.random.RandomState(9)
    y_true = (rng.rand(6, 5) > 0.6).astype(np.float32)
    y_pred = rng.rand(6, 5).astype(np.float32) * 1.4 - 0.2
    return {"y_true": jsonable(y_true), "y_pred": jsonable(y_pred),
            "precision": float(pu.precision(y_true, y_pred))}


def activation_cases():
    q = pu.get_quantized_activation_function_from_string("relu_Q1.15")
    c1 = pu.get_clamped_relu_from_string("clamped_relu_0.1_6")
    c2 = pu.get_clamped_relu_from_string("clamped_relu_0.25_None")
    n = pu.get_noisy_softplus_from_string("noisy_softplus_0.17_1")
    resolved = {}
    for s in ["relu", "softmax", "binary_sigmoid", "binary_tanh", "relu_Q2.6", "clamped_relu_0.1_6.0",
              "noisy_softplus_0.2_0.5"]:
        a, s2 = pu.get_custom_activation(s)
        resolved[s] = {"is_string": isinstance(a, str), "activation_str": s2,
                       "name": a if isinstance(a, str) else getattr(a, "__name__", type(a).__name__)}
    return {
        "quantized": {"name": q.__name__, "m": q.keywords["m"], "f": q.keywords["f"]},
        "clamped": [{"name": c.__name__, "threshold": c.threshold, "max_value": c.max_value} for c in (c1, c2)],
        "noisy_softplus": {"name": n.__name__, "k": n.k, "sigma": n.sigma},
        "get_custom_activation": resolved,
    }


def custom_dict_cases():
    a = {"x": 1, "y": 2}
    b = {"y": 3, "z": 4}
    merged = pu.assemble_custom_dict(a, b)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"my_LimitedReLU": {"max_value": 2.0}, "other": "value"}, f)
        path = f.name
    try:
        layers = pu.get_custom_layers_dict(path)
    finally:
        os.remove(path)
    return {"assemble": {"inputs": [a, b], "merged": merged, "keys": list(merged)},
            "layers_from_file": {k: v for k, v in layers.items()},
            "file": {"my_LimitedReLU": {"max_value": 2.0}, "other": "value"}}


def fix_input_shape_cases():
    return [{"in": [[None, 1, 28, 28]], "out": list(pu.fix_input_layer_shape([(None, 1, 28, 28)]))},
            {"in": [None, 3], "out": list(pu.fix_input_layer_shape((None, 3)))}]


# ---- names of a whole parse, and the normalization file keyed by them -----------------

NAME_MODELS = [
    {"name": "sequential cnn", "sequential": True, "channels_first": False, "layers": [
        {"type": "InputLayer", "name": "conv2d_input", "shape": [8, 8, 1]},
        {"type": "Conv2D", "name": "conv2d", "inbound": ["conv2d_input"], "filters": 4, "kernel_size": [3, 3],
         "activation": "relu"},
        {"type": "MaxPooling2D", "name": "max_pooling2d", "inbound": ["conv2d"], "pool_size": [2, 2]},
        {"type": "Flatten", "name": "flatten", "inbound": ["max_pooling2d"]},
        {"type": "Dropout", "name": "dropout", "inbound": ["flatten"]},
        {"type": "Dense", "name": "dense", "inbound": ["dropout"], "units": 10, "activation": "softmax"},
    ]},
    {"name": "functional, 12 layers: batch norm, activations, global pooling", "sequential": False,
     "channels_first": False, "layers": [
        {"type": "InputLayer", "name": "input_1", "shape": [8, 8, 3]},
        {"type": "Conv2D", "name": "conv_a", "inbound": ["input_1"], "filters": 4, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "BatchNormalization", "name": "bn_a", "inbound": ["conv_a"]},
        {"type": "Activation", "name": "act_a", "inbound": ["bn_a"], "activation": "relu"},
        {"type": "Conv2D", "name": "conv_b", "inbound": ["act_a"], "filters": 6, "kernel_size": [3, 3]},
        {"type": "BatchNormalization", "name": "bn_b", "inbound": ["conv_b"]},
        {"type": "ReLU", "name": "relu_b", "inbound": ["bn_b"]},
        {"type": "MaxPooling2D", "name": "pool_b", "inbound": ["relu_b"], "pool_size": [2, 2]},
        {"type": "Conv2D", "name": "conv_c", "inbound": ["pool_b"], "filters": 5, "kernel_size": [1, 1],
         "activation": "relu"},
        {"type": "GlobalAveragePooling2D", "name": "gap", "inbound": ["conv_c"]},
        {"type": "Dense", "name": "dense", "inbound": ["gap"], "units": 3},
        {"type": "Activation", "name": "softmax", "inbound": ["dense"], "activation": "softmax"},
    ]},
    {"name": "residual add", "sequential": False, "channels_first": False, "layers": [
        {"type": "InputLayer", "name": "input_1", "shape": [6, 6, 2]},
        {"type": "Conv2D", "name": "conv_a", "inbound": ["input_1"], "filters": 4, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "Conv2D", "name": "conv_b", "inbound": ["conv_a"], "filters": 4, "kernel_size": [3, 3],
         "padding": "same"},
        {"type": "Add", "name": "add", "inbound": ["conv_a", "conv_b"]},
        {"type": "Activation", "name": "act", "inbound": ["add"], "activation": "relu"},
        {"type": "Flatten", "name": "flatten", "inbound": ["act"]},
        {"type": "Dense", "name": "dense", "inbound": ["flatten"], "units": 10, "activation": "softmax"},
    ]},
    {"name": "channels_first cnn", "sequential": False, "channels_first": True, "layers": [
        {"type": "InputLayer", "name": "input_1", "shape": [1, 12, 12]},
        {"type": "Conv2D", "name": "conv", "inbound": ["input_1"], "filters": 3, "kernel_size": [3, 3],
         "activation": "relu"},
        {"type": "AveragePooling2D", "name": "pool", "inbound": ["conv"], "pool_size": [2, 2]},
        {"type": "Flatten", "name": "flatten", "inbound": ["pool"]},
        {"type": "Dense", "name": "dense", "inbound": ["flatten"], "units": 5, "activation": "softmax"},
    ]},
]


def name_cases():
    out = []
    for spec in NAME_MODELS:
        cf = spec["channels_first"]
        DATA_FORMAT["value"] = "channels_first" if cf else "channels_last"
        pu.IS_CHANNELS_FIRST = cf
        layers, _ = build(spec, channels_first=cf)
        model = FakeModel(layers, spec["sequential"])
        parser = kil.ModelParser(model, toolbox_config())
        quiet(parser.parse)
        parsed = [{"name": l["name"], "layer_type": l["layer_type"], "inbound": l["inbound"],
                   "activation": l.get("activation") if isinstance(l.get("activation"), (str, type(None)))
                   else getattr(l["activation"], "__name__", None),
                   "has_parameters": "parameters" in l}
                  for l in parser._layer_list]
        # The file normalize_parameters writes for this model (conversion/utils.py): an OrderedDict
        # {input layer name: 1, <parsed layer with weights>: scale factor, ...} dumped with json.
        scale_facs = collections.OrderedDict({parser.input_layer_name: 1})
        for i, layer in enumerate(l for l in parsed if l["has_parameters"]):
            scale_facs[layer["name"]] = 1.5 + 0.25 * i
        # The parser's per-layer methods on the same model, freshly built: the toolbox's parse rewires the
        # layers' inbound lists in place (get_inbound_names assigns into the list get_inbound_layers returns).
        layers, _ = build(spec, channels_first=cf)
        parser = kil.ModelParser(FakeModel(layers, spec["sequential"]), toolbox_config())
        source = [l for l in layers.values() if type(l).__name__ != "InputLayer"]
        methods = {
            "format_layer_idx_7": parser.format_layer_idx(7),
            "get_name_3": {l.name: parser.get_name(l, 3) for l in source},
            "get_input_shape": list(parser.get_input_shape()),
            "get_batch_input_shape": list(parser.get_batch_input_shape()),
            "inbound_layers_with_parameters": {
                l.name: [i.name for i in parser.get_inbound_layers_with_parameters(l)] for l in source},
            "absorb_activation": {},
            "has_weights": {l.name: bool(parser.has_weights(l)) for l in source},
            "layers_to_skip": list(parser.layers_to_skip),
        }
        for l in source:
            if type(l).__name__ in ("Dense", "Conv2D", "Conv1D", "DepthwiseConv2D"):
                attributes = {}
                quiet(parser.absorb_activation, l, attributes)
                a = attributes["activation"]
                methods["absorb_activation"][l.name] = a if isinstance(a, str) else a.__name__
        out.append({"name": spec["name"], "sequential": spec["sequential"], "channels_first": cf,
                    "layers": spec["layers"], "input_layer_name": parser.input_layer_name,
                    "parsed": parsed, "normalization_json": json.dumps(scale_facs), "methods": methods})
    DATA_FORMAT["value"] = "channels_last"
    pu.IS_CHANNELS_FIRST = False
    return out


def main():
    reference = {
        "fanout": fanout_cases(),
        "fanout_array": fanout_array_cases(),
        "absorb_bn_parameters": bn_cases(),
        "padding_string": padding_cases(),
        "precision": precision_cases(),
        "precision_metric": metric_cases(),
        "activations": activation_cases(),
        "custom_dicts": custom_dict_cases(),
        "fix_input_layer_shape": fix_input_shape_cases(),
        "names": name_cases(),
    }
    with open(OUT, "w") as f:
        json.dump(reference, f, separators=(",", ":"), default=jsonable)
        f.write("\n")
    print(f"wrote {OUT}")


main()
