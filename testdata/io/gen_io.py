"""Generate the .npy/.npz/.h5 reference files read by tests/io_*_test.ts.

Run once with /usr/bin/python3 (numpy, h5py) from this folder:
    /usr/bin/python3 gen_io.py
Every array is a simple formula of np.arange; the expected values are also
written independently as JSON (64-bit integers as decimal strings) so the
tests never compare our reader against our own writer.
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (2, 3, 4)
N = int(np.prod(SHAPE))


def base(code):
    """The C-order values of array `code` (numpy type code without byte order)."""
    a = np.arange(N)
    if code == "b1":
        return (a % 3 == 0)
    if code[0] == "f":
        return a * 0.5 - 3.25
    if code == "i8":
        return a * (2 ** 40 + 7) - 2 ** 43
    if code == "u8":
        return np.array([2 ** 63 + i * 12345 for i in range(N)], dtype=np.uint64)
    if code[0] == "i":
        return a * (1 if code == "i1" else 1000) - 11 * (1 if code == "i1" else 1000)
    return a * (1 if code == "u1" else 2500)


def as_json(values, code):
    flat = np.asarray(values).ravel(order="C").tolist()
    if code in ("i8", "u8"):
        return [str(int(v)) for v in flat]
    if code == "b1":
        return [1 if v else 0 for v in flat]
    return flat


def main():
    os.makedirs(os.path.join(HERE, "npy"), exist_ok=True)
    expected = {}
    npz_arrays = {}
    codes = ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]
    for code in codes:
        orders = ["<", ">"] if code not in ("i1", "u1", "b1") else ["|"]
        for bo in orders:
            for fortran in (False, True):
                a = base(code).astype(bo + code).reshape(SHAPE)
                if fortran:
                    a = np.asfortranarray(a)
                name = "%s_%s_%s" % (code, {"<": "le", ">": "be", "|": "na"}[bo], "F" if fortran else "C")
                np.save(os.path.join(HERE, "npy", name + ".npy"), a)
                expected[name] = {"descr": bo + code, "shape": list(SHAPE), "fortran": fortran,
                                  "values": as_json(a, code)}
                if not fortran:
                    npz_arrays[name] = a
    # Shapes: scalar, 1-d, empty, and a Fortran-order 2-d matrix.
    special = {
        "scalar_f8": np.array(2.5),
        "vector_i4": np.arange(5, dtype="<i4") - 2,
        "empty_f4": np.zeros((0, 3), dtype="<f4"),
        "matrix_f4_F": np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4)),
    }
    for name, a in special.items():
        np.save(os.path.join(HERE, "npy", name + ".npy"), a)
        code = a.dtype.str[1:]
        expected[name] = {"descr": a.dtype.str, "shape": list(a.shape), "fortran": bool(a.flags.f_contiguous and a.ndim > 1),
                          "values": as_json(a, code)}
    # Format versions 2.0 and 3.0 (written explicitly).
    for version in ((2, 0), (3, 0)):
        name = "v%d_f4" % version[0]
        a = (np.arange(6, dtype="<f4") * 1.5).reshape(2, 3)
        with open(os.path.join(HERE, "npy", name + ".npy"), "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        expected[name] = {"descr": "<f4", "shape": [2, 3], "fortran": False, "values": as_json(a, "f4")}

    # savez (stored) and savez_compressed (deflate), keyword and positional.
    np.savez(os.path.join(HERE, "savez.npz"), **npz_arrays)
    np.savez_compressed(os.path.join(HERE, "savez_compressed.npz"), **npz_arrays)
    np.savez(os.path.join(HERE, "positional.npz"), np.arange(4, dtype="<f4"), np.arange(3, dtype="<i8"))

    # A parameter file as the Python toolbox's save_parameters writes it.
    params = [
        (np.arange(2 * 3 * 1 * 4, dtype="f4").reshape(2, 3, 1, 4) / 8.0 - 1.0),
        np.arange(4, dtype="f4") * 0.25,
        (np.arange(12, dtype="f4").reshape(4, 3) - 6.0) / 3.0,
        np.array([0.5, -0.5, 1.5], dtype="f4"),
    ] + [np.full((1,), i, dtype="f4") for i in range(8)]  # 12 params: names up to param_011
    with h5py.File(os.path.join(HERE, "params_h5py.h5"), mode="w") as f:
        for i, p in enumerate(params):
            j = ("00" if i < 10 else "0" if i < 100 else "") + str(i)
            f.create_dataset("param_" + j, data=p)
    expected_params = [{"shape": list(p.shape), "values": p.ravel().tolist()} for p in params]

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({"npy": expected, "params_h5py": expected_params}, f)


if __name__ == "__main__":
    main()
