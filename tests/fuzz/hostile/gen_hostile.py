"""Hand-made hostile inputs for tests/hostile_inputs_test.ts, written with the
real libraries (numpy, h5py, onnx) or, where a library refuses to write such a
file, byte by byte following the format. Run once: /usr/bin/python3 gen_hostile.py
Every file is small; each one *declares* something absurd."""
import os
import shutil
import struct

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BIG = 1_000_000  # 10^6 x 10^6 = 10^12 elements


def out(name):
    return os.path.join(HERE, name)


# 1. npy whose header claims 10^12 float32 elements, with no data at all.
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (BIG, BIG)
header = header + " " * (63 - (10 + len(header)) % 64) + "\n"
with open(out("huge_header.npy"), "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))

# 2. ONNX model with a MatMul initializer that declares dims [10^6, 10^6] but holds 16 bytes.
w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[BIG, BIG], raw_data=b"\x00" * 16)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["y"])],
    "huge",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, BIG])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, BIG])],
    [w],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
with open(out("huge_initializer.onnx"), "wb") as f:
    f.write(model.SerializeToString())

# 3. A real Keras HDF5 model (testdata/keras/keras1_merge.h5) whose first weight
#    dataset is replaced by a chunked, never-written 10^6 x 10^6 float32 dataset.
shutil.copyfile(os.path.join(ROOT, "testdata", "keras", "keras1_merge.h5"), out("huge_weight.h5"))
with h5py.File(out("huge_weight.h5"), "r+") as f:
    names = []
    f["model_weights"].visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    target = "model_weights/" + sorted(names)[0]
    del f[target]
    f.create_dataset(target, shape=(BIG, BIG), dtype="f4", chunks=(64, 64))

# 4. ONNX bytes nested 3,000 levels deep: ModelProto.graph -> GraphProto.node ->
#    NodeProto.attribute -> AttributeProto.g -> GraphProto.node -> ... (protobuf nesting).
def field(num, payload):
    key = (num << 3) | 2
    return varint(key) + varint(len(payload)) + payload


def varint(v):
    b = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        b.append(c | (0x80 if v else 0))
        if not v:
            return bytes(b)


g = field(1, field(4, b"Identity"))  # innermost GraphProto: one node
for _ in range(3000):
    node = field(4, b"If") + field(5, field(1, b"then_branch") + field(6, g))
    g = field(1, node)
with open(out("deep_nesting.onnx"), "wb") as f:
    f.write(varint(1 << 3) + varint(7) + field(7, g))

# 5. Pickle (protocol 2) of a list nested 20,000 deep under 'param values'.
depth = 20000
body = b"\x80\x02}q\x00X\x0c\x00\x00\x00param valuesq\x01" + b"]" * depth + b"a" * (depth - 1) + b"s."
with open(out("deep_nesting.pkl"), "wb") as f:
    f.write(body)

# 6. Keras model JSON with Sequential models nested 2,000 deep (+ an empty legacy weights file).
inner = '{"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 2]}}'
for i in range(2000):
    inner = '{"class_name": "Sequential", "config": {"name": "s%d", "layers": [%s]}}' % (i, inner)
with open(out("deep_nesting.json"), "w") as f:
    f.write(inner)
with h5py.File(out("deep_nesting_weights.h5"), "w") as f:
    f.attrs["layer_names"] = np.array([], dtype="S1")
    f.attrs["keras_version"] = b"2.2.4"
    f.attrs["backend"] = b"tensorflow"

# 7. INI interpolation bomb: 10 levels, each referencing the previous ten times
#    (10^10 characters once expanded; configparser's depth limit of 10 does not stop it).
lines = ["[paths]", "x0 = aaaaaaaaaa"]
for i in range(1, 10):
    lines.append("x%d = %s" % (i, "%%(x%d)s" % (i - 1) * 10))
lines.append("filename_ann = %(x9)s")
with open(out("interpolation_bomb.ini"), "w") as f:
    f.write("\n".join(lines) + "\n")

for name in sorted(os.listdir(HERE)):
    print(name, os.path.getsize(out(name)))
