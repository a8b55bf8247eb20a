#!/usr/bin/env python3
"""Carry an ONNX benchmark model without its weights (the GPU machine takes 64 MiB of files).

    python3 bench/onnx_weights.py --strip IN.onnx OUT.onnx
        Write OUT: IN's graph with every initializer's values dropped (names,
        shapes and types kept); ResNet-18's 47 MB become a few kB.

    python3 bench/onnx_weights.py --fill IN.onnx OUT.onnx
        Write OUT: IN with each empty float initializer filled with seeded
        normal values (standard deviation 0.05; BatchNorm-style variances,
        named *var*, drawn from [0.5, 1.5]). Timing does not depend on the values.

Needs numpy and onnx (Debian python3-onnx here; the GPU machine's python3 has both).
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def np_dtype(data_type):
    """numpy's dtype of an ONNX tensor type (onnx.helper since onnx 1.13, onnx.mapping before)."""
    if hasattr(onnx.helper, "tensor_dtype_to_np_dtype"):
        return onnx.helper.tensor_dtype_to_np_dtype(data_type)
    return onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[data_type]


def strip(src, dst):
    model = onnx.load(src)
    for init in model.graph.initializer:
        for field in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
            init.ClearField(field)
        init.doc_string = "stripped"
    onnx.save(model, dst)


def fill(src, dst):
    model = onnx.load(src)
    rng = np.random.default_rng(0)
    for i, init in enumerate(model.graph.initializer):
        if init.doc_string != "stripped":
            continue
        shape = tuple(init.dims)
        dtype = np_dtype(init.data_type)
        if np.issubdtype(dtype, np.floating):
            if "var" in init.name:
                values = rng.uniform(0.5, 1.5, shape)
            else:
                values = rng.normal(0.0, 0.05, shape)
        else:
            raise SystemExit(f"{src}: initializer {init.name!r} is {dtype}: only float values can be filled")
        filled = numpy_helper.from_array(values.astype(dtype), init.name)
        model.graph.initializer[i].CopyFrom(filled)
    onnx.save(model, dst)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("--strip", "--fill"):
        raise SystemExit(__doc__)
    (strip if sys.argv[1] == "--strip" else fill)(sys.argv[2], sys.argv[3])
