#!/usr/bin/env python3
"""Check a NIR file with the reference implementation (neuromorphs/NIR's `nir`).

  nir_reference_check.py OURS.nir REWRITTEN.nir

1. `nir.read(OURS)` must accept the file, type check included (every edge's
   source output type equals its target's input type).
2. `nir.write(REWRITTEN, graph)` writes what the reference read; both files
   must have the same HDF5 layout: the same groups and datasets, and for each
   dataset the same dtype, shape, string kind (variable-length, UTF-8) and
   values. (Compression and chunking are storage details and not compared:
   the reference compresses whatever reaches it as a numpy array.)

Prints one JSON line {"datasets": N, "nodes": [...]} and exits 0 when both
hold; prints the differences and exits 1 otherwise; exits 3 with a "skip:"
line when `nir` (with numpy and h5py) cannot be imported.
"""
import json
import sys

try:
    import h5py
    import nir
    import numpy as np
except ImportError as err:  # the reference is not installed or not on PYTHONPATH
    print(f"skip: cannot import the reference NIR package: {err}")
    sys.exit(3)

if not hasattr(nir, "version"):
    # A source checkout on PYTHONPATH has no package metadata, which `nir.write` reads its version from.
    nir.version = "1.0.7"


def layout(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                out[name] = ("group", sorted(obj.attrs.keys()))
                return
            t = obj.id.get_type()
            string = None
            if isinstance(t, h5py.h5t.TypeStringID):
                string = (bool(t.is_variable_str()), int(t.get_cset()))
            value = obj[()]
            if isinstance(value, np.ndarray) and value.dtype == object:
                value = value.tolist()
            out[name] = ("dataset", str(obj.dtype), obj.shape, string, value, sorted(obj.attrs.keys()))
        f.visititems(visit)
        out["/"] = ("root", sorted(f.attrs.keys()))
    return out


def same(a, b):
    if a[0] != b[0] or a[0] != "dataset":
        return a == b
    if a[1:4] != b[1:4] or a[5] != b[5]:
        return False
    va, vb = a[4], b[4]
    if isinstance(va, np.ndarray) or isinstance(vb, np.ndarray):
        return np.array_equal(np.asarray(va), np.asarray(vb))
    return va == vb


def main():
    ours, rewritten = sys.argv[1], sys.argv[2]
    graph = nir.read(ours)
    nir.write(rewritten, graph)
    a, b = layout(ours), layout(rewritten)
    diffs = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            diffs.append(f"{key}: only in {'ours' if key in a else 'the reference rewrite'}")
        elif not same(a[key], b[key]):
            show = lambda v: (v[:4] if v[0] == "dataset" else v)  # noqa: E731
            diffs.append(f"{key}: ours {show(a[key])} vs reference {show(b[key])}")
    if diffs:
        print("\n".join(diffs))
        sys.exit(1)
    datasets = sum(1 for v in a.values() if v[0] == "dataset")
    print(json.dumps({"datasets": datasets, "nodes": sorted(graph.nodes)}))


if __name__ == "__main__":
    main()
