#!/usr/bin/python3
"""Generate the small Caffe test net and its expected outputs.

Run: /usr/bin/python3 testdata/caffe/gen_small.py  (numpy, google.protobuf, h5py)

- small.prototxt: a hand-written net exercising the text format (comments,
  both quote styles, escapes, `:` before messages, lists) and the layers the
  Caffe library supports (strided padded conv, BatchNorm + Scale in place,
  in-place ReLU, ceil-mode pooling with and without pad, Eltwise SUM, Concat,
  Dropout, global AVE pooling, InnerProduct, Softmax).
- small.caffemodel: binary NetParameter with the blobs, encoded by the real
  protobuf library from a descriptor built here with caffe.proto's field
  numbers (BVLC/caffe src/caffe/proto/caffe.proto).
- small_v1.caffemodel: the same blobs in the old V1 `layers` format (enum types,
  legacy 4-D num/channels/height/width blob dims).
- small.caffemodel.h5: the same blobs in Caffe's HDF5 layout (data/<layer>/<i>).
- small_prototxt.json: the prototxt as google.protobuf's text_format parses it.
- small_x.npy / small_y.npy: inputs and the outputs of a direct numpy
  implementation of Caffe's forward pass (loops written after Caffe's
  conv/pooling/BN code, independent of the TypeScript code under test).
"""
import json
import os

import h5py
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, text_format
from google.protobuf import message_factory

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)

PROTOTXT = r'''# a small net for tests
name: "small\x21"   # hex escape -> "small!"
input: 'data'
input_shape { dim: 3 dim: 2 dim: 5 dim: 7 }
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 stride: 2 }
}
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1"
        batch_norm_param { eps: 0.001 } }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param: { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer {
  name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }
}
layer { name: "conv2a" type: "Convolution" bottom: "pool1" top: "conv2a"
        convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "conv2b" type: "Convolution" bottom: "pool1" top: "conv2b"
        convolution_param { num_output: 4 kernel_h: 3 kernel_w: 3 pad_h: 1 pad_w: 1 bias_term: false } }
layer { name: "sum" type: "Eltwise" bottom: "conv2a" bottom: "conv2b" top: "sum"
        eltwise_param { operation: SUM } }
layer { name: "cat" type: "Concat" bottom: "pool1" bottom: "sum" top: "cat" }
layer { name: "drop" type: "Dropout" bottom: "cat" top: "cat" dropout_param { dropout_ratio: 0.25 } }
layer { name: "pool2" type: "Pooling" bottom: "cat" top: "pool2"
        pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "pool3" type: "Pooling" bottom: "pool2" top: "pool3"
        pooling_param { pool: AVE global_pooling: true } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool3" top: "ip1"
        inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "ip1" top: "prob" }
'''

# --- caffe.proto subset as a descriptor (field numbers from caffe.proto) ---
fd = descriptor_pb2.FileDescriptorProto(name="caffe_subset.proto", package="caffe", syntax="proto2")
F = descriptor_pb2.FieldDescriptorProto
OPT, REP = F.LABEL_OPTIONAL, F.LABEL_REPEATED


def msg(name, fields, enums=()):
    m = fd.message_type.add(name=name)
    for ename, values in enums:
        e = m.enum_type.add(name=ename)
        for vname, vnum in values:
            e.value.add(name=vname, number=vnum)
    for fname, num, label, ftype, tname, packed in fields:
        f = m.field.add(name=fname, number=num, label=label, type=ftype)
        if tname:
            f.type_name = tname
        if packed:
            f.options.packed = True
    return m


T = F
msg("BlobShape", [("dim", 1, REP, T.TYPE_INT64, None, True)])
msg("BlobProto", [
    ("shape", 7, OPT, T.TYPE_MESSAGE, ".caffe.BlobShape", False),
    ("data", 5, REP, T.TYPE_FLOAT, None, True),
    ("num", 1, OPT, T.TYPE_INT32, None, False),
    ("channels", 2, OPT, T.TYPE_INT32, None, False),
    ("height", 3, OPT, T.TYPE_INT32, None, False),
    ("width", 4, OPT, T.TYPE_INT32, None, False),
])
msg("ConvolutionParameter", [
    ("num_output", 1, OPT, T.TYPE_UINT32, None, False),
    ("bias_term", 2, OPT, T.TYPE_BOOL, None, False),
    ("pad", 3, REP, T.TYPE_UINT32, None, False),
    ("kernel_size", 4, REP, T.TYPE_UINT32, None, False),
    ("stride", 6, REP, T.TYPE_UINT32, None, False),
    ("pad_h", 9, OPT, T.TYPE_UINT32, None, False),
    ("pad_w", 10, OPT, T.TYPE_UINT32, None, False),
    ("kernel_h", 11, OPT, T.TYPE_UINT32, None, False),
    ("kernel_w", 12, OPT, T.TYPE_UINT32, None, False),
])
msg("PoolingParameter", [
    ("pool", 1, OPT, T.TYPE_ENUM, ".caffe.PoolingParameter.PoolMethod", False),
    ("kernel_size", 2, REP, T.TYPE_UINT32, None, False),
    ("stride", 3, REP, T.TYPE_UINT32, None, False),
    ("pad", 4, REP, T.TYPE_UINT32, None, False),
    ("global_pooling", 12, OPT, T.TYPE_BOOL, None, False),
], enums=[("PoolMethod", [("MAX", 0), ("AVE", 1), ("STOCHASTIC", 2)])])
msg("BatchNormParameter", [("eps", 3, OPT, T.TYPE_FLOAT, None, False)])
msg("ScaleParameter", [("bias_term", 4, OPT, T.TYPE_BOOL, None, False)])
msg("EltwiseParameter", [("operation", 1, OPT, T.TYPE_ENUM, ".caffe.EltwiseParameter.EltwiseOp", False)],
    enums=[("EltwiseOp", [("PROD", 0), ("SUM", 1), ("MAX", 2)])])
msg("DropoutParameter", [("dropout_ratio", 1, OPT, T.TYPE_FLOAT, None, False)])
msg("InnerProductParameter", [("num_output", 1, OPT, T.TYPE_UINT32, None, False)])
msg("LayerParameter", [
    ("name", 1, OPT, T.TYPE_STRING, None, False),
    ("type", 2, OPT, T.TYPE_STRING, None, False),
    ("bottom", 3, REP, T.TYPE_STRING, None, False),
    ("top", 4, REP, T.TYPE_STRING, None, False),
    ("blobs", 7, REP, T.TYPE_MESSAGE, ".caffe.BlobProto", False),
    ("batch_norm_param", 139, OPT, T.TYPE_MESSAGE, ".caffe.BatchNormParameter", False),
    ("convolution_param", 106, OPT, T.TYPE_MESSAGE, ".caffe.ConvolutionParameter", False),
    ("dropout_param", 108, OPT, T.TYPE_MESSAGE, ".caffe.DropoutParameter", False),
    ("eltwise_param", 110, OPT, T.TYPE_MESSAGE, ".caffe.EltwiseParameter", False),
    ("inner_product_param", 117, OPT, T.TYPE_MESSAGE, ".caffe.InnerProductParameter", False),
    ("pooling_param", 121, OPT, T.TYPE_MESSAGE, ".caffe.PoolingParameter", False),
    ("scale_param", 142, OPT, T.TYPE_MESSAGE, ".caffe.ScaleParameter", False),
])
msg("V1LayerParameter", [
    ("bottom", 2, REP, T.TYPE_STRING, None, False),
    ("top", 3, REP, T.TYPE_STRING, None, False),
    ("name", 4, OPT, T.TYPE_STRING, None, False),
    ("type", 5, OPT, T.TYPE_ENUM, ".caffe.V1LayerParameter.LayerType", False),
    ("blobs", 6, REP, T.TYPE_MESSAGE, ".caffe.BlobProto", False),
], enums=[("LayerType", [("NONE", 0), ("CONVOLUTION", 4), ("INNER_PRODUCT", 14), ("POOLING", 17)])])
msg("NetParameter", [
    ("name", 1, OPT, T.TYPE_STRING, None, False),
    ("layers", 2, REP, T.TYPE_MESSAGE, ".caffe.V1LayerParameter", False),
    ("input", 3, REP, T.TYPE_STRING, None, False),
    ("input_shape", 8, REP, T.TYPE_MESSAGE, ".caffe.BlobShape", False),
    ("layer", 100, REP, T.TYPE_MESSAGE, ".caffe.LayerParameter", False),
])
pool = descriptor_pool.DescriptorPool()
pool.Add(fd)
NetParameter = message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName("caffe.NetParameter"))

# Layers that are unknown to the subset (ReLU, Concat, Softmax, BN params...) parse fine: the
# subset has every field small.prototxt uses.
net = text_format.Parse(PROTOTXT, NetParameter())
with open(os.path.join(HERE, "small.prototxt"), "w") as f:
    f.write(PROTOTXT)
with open(os.path.join(HERE, "small_prototxt.json"), "w") as f:
    json.dump(json_format.MessageToDict(net, preserving_proto_field_name=True), f, indent=1)

# --- parameters ---
f32 = np.float32
P = {
    "conv1": [rng.normal(0, 0.5, (4, 2, 3, 3)).astype(f32), rng.normal(0, 0.1, 4).astype(f32)],
    # BatchNorm blobs: mean * s, var * s, s (Caffe's moving-average scale factor).
    "bn1": None,
    "scale1": [rng.uniform(0.5, 1.5, 4).astype(f32), rng.normal(0, 0.2, 4).astype(f32)],
    "conv2a": [rng.normal(0, 0.5, (4, 4, 1, 1)).astype(f32), rng.normal(0, 0.1, 4).astype(f32)],
    "conv2b": [rng.normal(0, 0.5, (4, 4, 3, 3)).astype(f32)],
    "ip1": [rng.normal(0, 0.5, (5, 8)).astype(f32), rng.normal(0, 0.1, 5).astype(f32)],
}
bn_mean = rng.normal(0, 0.3, 4).astype(f32)
bn_var = rng.uniform(0.5, 2.0, 4).astype(f32)
bn_s = f32(3.7)
P["bn1"] = [(bn_mean * bn_s).astype(f32), (bn_var * bn_s).astype(f32), np.array([bn_s], f32)]

weights = NetParameter(name="small")
for layer in net.layer:
    out = weights.layer.add(name=layer.name, type=layer.type)
    out.bottom.extend(layer.bottom)
    out.top.extend(layer.top)
    for arr in P.get(layer.name) or []:
        b = out.blobs.add()
        b.shape.dim.extend(arr.shape)
        b.data.extend(arr.ravel().tolist())
with open(os.path.join(HERE, "small.caffemodel"), "wb") as f:
    f.write(weights.SerializeToString())

v1 = NetParameter(name="small")
V1_TYPES = {"Convolution": 4, "InnerProduct": 14, "Pooling": 17}
for layer in net.layer:
    if layer.name not in P or layer.type not in V1_TYPES:
        continue
    out = v1.layers.add(name=layer.name, type=V1_TYPES[layer.type])
    for arr in P[layer.name]:
        b = out.blobs.add()
        dims = (1,) * (4 - arr.ndim) + arr.shape
        b.num, b.channels, b.height, b.width = dims
        b.data.extend(arr.ravel().tolist())
with open(os.path.join(HERE, "small_v1.caffemodel"), "wb") as f:
    f.write(v1.SerializeToString())

with h5py.File(os.path.join(HERE, "small.caffemodel.h5"), "w") as h:
    g = h.create_group("data")
    for name, arrs in P.items():
        lg = g.create_group(name)
        for i, arr in enumerate(arrs):
            lg.create_dataset(str(i), data=arr)


# --- Caffe's forward pass in numpy, written after Caffe's loops ---
def conv(x, w, b, pad, stride):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, o, ho, wo), np.float64)
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))  # cross-correlation
    if b is not None:
        y += b[None, :, None, None]
    return y


def caffe_pool(x, k, s, p, method):
    n, c, h, w = x.shape
    ho = int(np.ceil((h + 2 * p - k) / s)) + 1
    wo = int(np.ceil((w + 2 * p - k) / s)) + 1
    if p > 0:
        if (ho - 1) * s >= h + p:
            ho -= 1
        if (wo - 1) * s >= w + p:
            wo -= 1
    y = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            hs, ws = i * s - p, j * s - p
            he, we = min(hs + k, h + p), min(ws + k, w + p)
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[:, :, hs:he, ws:we]
            y[:, :, i, j] = win.max(axis=(2, 3)) if method == "MAX" else win.sum(axis=(2, 3)) / size
    return y


x = rng.uniform(-1, 1, (3, 2, 5, 7)).astype(f32)
a = conv(x.astype(np.float64), P["conv1"][0], P["conv1"][1], 1, 2)
a = (a - bn_mean[None, :, None, None]) / np.sqrt(bn_var[None, :, None, None] + 1e-3)
a = a * P["scale1"][0][None, :, None, None] + P["scale1"][1][None, :, None, None]
a = np.maximum(a, 0)
p1 = caffe_pool(a, 3, 2, 1, "MAX")
s2 = conv(p1, P["conv2a"][0], P["conv2a"][1], 0, 1) + conv(p1, P["conv2b"][0], None, 1, 1)
cat = np.concatenate([p1, s2], axis=1)
p2 = caffe_pool(cat, 2, 2, 0, "MAX")
p3 = p2.mean(axis=(2, 3))
ip = p3 @ P["ip1"][0].T + P["ip1"][1]
e = np.exp(ip - ip.max(axis=1, keepdims=True))
prob = e / e.sum(axis=1, keepdims=True)
np.save(os.path.join(HERE, "small_x.npy"), x)
np.save(os.path.join(HERE, "small_y.npy"), prob.astype(f32))
np.save(os.path.join(HERE, "small_ip1.npy"), ip.astype(f32))
print("shapes: conv1", a.shape, "pool1", p1.shape, "cat", cat.shape, "pool2", p2.shape, "prob", prob.shape)

# ---------------------------------------------------------------------------
# small2: Data layer (shape from the caller), missing mean_file, depthwise
# (group = channels, multiplier 2) dilated convolution, standalone Scale,
# BatchNorm without Scale, Split, TanH/Sigmoid, AVE pooling with pad,
# Reshape, Flatten; weights only as small2.caffemodel.h5 (found beside it).
PROTOTXT2 = '''name: "small2"
layer { name: "data" type: "Data" top: "data" top: "label"
        include { phase: TEST }
        transform_param { scale: 0.5 mean_file: "no_such_mean.binaryproto" } }
layer { name: "dw" type: "Convolution" bottom: "data" top: "dw"
        convolution_param { num_output: 4 group: 2 kernel_size: 3 dilation: 2 pad: 2 } }
layer { name: "sc" type: "Scale" bottom: "dw" top: "dw" scale_param { bias_term: true } }
layer { name: "bn" type: "BatchNorm" bottom: "dw" top: "bn" }
layer { name: "split" type: "Split" bottom: "bn" top: "s1" top: "s2" }
layer { name: "th" type: "TanH" bottom: "s1" top: "th" }
layer { name: "sg" type: "Sigmoid" bottom: "s2" top: "sg" }
layer { name: "add" type: "Eltwise" bottom: "th" bottom: "sg" top: "add" }
layer { name: "ap" type: "Pooling" bottom: "add" top: "ap"
        pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "rs" type: "Reshape" bottom: "ap" top: "rs" reshape_param { shape { dim: 0 dim: -1 dim: 3 } } }
layer { name: "fl" type: "Flatten" bottom: "rs" top: "fl" }
layer { name: "ip" type: "InnerProduct" bottom: "fl" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
'''
with open(os.path.join(HERE, "small2.prototxt"), "w") as f:
    f.write(PROTOTXT2)
text_format.Parse(PROTOTXT2.replace('group: 2 ', '').replace('dilation: 2 ', '')
                  .replace('reshape_param { shape { dim: 0 dim: -1 dim: 3 } }', '')
                  .replace('include { phase: TEST }', '')
                  .replace('transform_param { scale: 0.5 mean_file: "no_such_mean.binaryproto" }', ''),
                  NetParameter())  # sanity: the rest is valid text format for the subset

dw_W = rng.normal(0, 0.5, (4, 1, 3, 3)).astype(f32)
dw_b = rng.normal(0, 0.1, 4).astype(f32)
sc_g = rng.uniform(0.5, 1.5, 4).astype(f32)
sc_b = rng.normal(0, 0.2, 4).astype(f32)
bn2_mean = rng.normal(0, 0.3, 4).astype(f32)
bn2_var = rng.uniform(0.5, 2.0, 4).astype(f32)
bn2_s = f32(0.5)
ip2_W = rng.normal(0, 0.5, (3, 4 * 3 * 3)).astype(f32)
ip2_b = rng.normal(0, 0.1, 3).astype(f32)
P2 = {
    "dw": [dw_W, dw_b],
    "sc": [sc_g, sc_b],
    "bn": [(bn2_mean * bn2_s).astype(f32), (bn2_var * bn2_s).astype(f32), np.array([bn2_s], f32)],
    "ip": [ip2_W, ip2_b],
}
with h5py.File(os.path.join(HERE, "small2.caffemodel.h5"), "w") as h:
    g = h.create_group("data")
    for name, arrs in P2.items():
        lg = g.create_group(name)
        for i, arr in enumerate(arrs):
            lg.create_dataset(str(i), data=arr)

x2 = rng.uniform(-1, 1, (2, 2, 5, 5)).astype(f32)  # C=2, H=W=5 (given as inputShape)
# depthwise dilated conv: output o uses input channel o // 2 (group g has 2 outputs, 1 input)
xp = np.pad(x2.astype(np.float64), ((0, 0), (0, 0), (2, 2), (2, 2)))
y = np.zeros((2, 4, 5, 5))
for o in range(4):
    for i in range(5):
        for j in range(5):
            patch = xp[:, o // 2, i:i + 5:2, j:j + 5:2]
            y[:, o, i, j] = (patch * dw_W[o, 0]).sum(axis=(1, 2)) + dw_b[o]
y = y * sc_g[None, :, None, None] + sc_b[None, :, None, None]
y = (y - bn2_mean[None, :, None, None]) / np.sqrt(bn2_var[None, :, None, None] + 1e-5)
y = np.tanh(y) + 1 / (1 + np.exp(-y))
ap = caffe_pool(y, 3, 2, 1, "AVE")  # (2, 4, 3, 3); last window ends inside the pad: exact
fl = ap.reshape(2, -1)
ip2 = fl @ ip2_W.T + ip2_b
np.save(os.path.join(HERE, "small2_x.npy"), x2)
np.save(os.path.join(HERE, "small2_y.npy"), ip2.astype(f32))
print("small2: ap", ap.shape, "ip", ip2.shape)

# ---------------------------------------------------------------------------
# small3: grouped convolution (group 2, not depthwise) and InnerProduct with
# transpose: true (weights stored [in, out]).
PROTOTXT3 = '''name: "small3"
input: "x" input_dim: 1 input_dim: 4 input_dim: 4 input_dim: 4
layer { name: "gc" type: "Convolution" bottom: "x" top: "gc"
        convolution_param { num_output: 6 group: 2 kernel_size: 2 stride: 2 } }
layer { name: "ipt" type: "InnerProduct" bottom: "gc" top: "ipt"
        inner_product_param { num_output: 3 transpose: true } }
'''
with open(os.path.join(HERE, "small3.prototxt"), "w") as f:
    f.write(PROTOTXT3)
gc_W = rng.normal(0, 0.5, (6, 2, 2, 2)).astype(f32)
gc_b = rng.normal(0, 0.1, 6).astype(f32)
ipt_W = rng.normal(0, 0.5, (6 * 2 * 2, 3)).astype(f32)  # transpose: true → [in, out]
ipt_b = rng.normal(0, 0.1, 3).astype(f32)
w3 = NetParameter(name="small3")
for name, typ, arrs in [("gc", "Convolution", [gc_W, gc_b]), ("ipt", "InnerProduct", [ipt_W, ipt_b])]:
    out = w3.layer.add(name=name, type=typ)
    for arr in arrs:
        b = out.blobs.add()
        b.shape.dim.extend(arr.shape)
        b.data.extend(arr.ravel().tolist())
with open(os.path.join(HERE, "small3.caffemodel"), "wb") as f:
    f.write(w3.SerializeToString())
x3 = rng.uniform(-1, 1, (2, 4, 4, 4)).astype(f32)
g0 = conv(x3[:, :2].astype(np.float64), gc_W[:3], gc_b[:3], 0, 2)
g1 = conv(x3[:, 2:].astype(np.float64), gc_W[3:], gc_b[3:], 0, 2)
gc = np.concatenate([g0, g1], axis=1)
y3 = gc.reshape(2, -1) @ ipt_W + ipt_b
np.save(os.path.join(HERE, "small3_x.npy"), x3)
np.save(os.path.join(HERE, "small3_y.npy"), y3.astype(f32))
