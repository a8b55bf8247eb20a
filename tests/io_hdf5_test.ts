/**
 * HDF5 helpers and the toolbox's parameter files: h5py-written files load
 * with the right names, order, shapes and values; our files load in h5py;
 * non-HDF5 input is a ModelFormatError naming the file.
 */
import { assertClose, assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { ModelFormatError } from "../lib/errors.ts";
import { float32Array, type NDArray } from "../lib/io/ndarray.ts";
import { loadParameters, parameterName, saveParameters } from "../lib/io/parameters.ts";
import {
  openHdf5,
  readDataset,
  readNumberArrayAttr,
  readStringArrayAttr,
  readStringAttr,
  writeHdf5Atomic,
} from "../lib/io/hdf5.ts";
import { setMaxArrayBytes } from "../lib/io/limits.ts";
import { pythonHas, runPython } from "./_io_python.ts";

const DIR = new URL("../testdata/io/", import.meta.url).pathname;
const hasH5py = await pythonHas("numpy", "h5py");

Deno.test("parameterName: zero-padded to three digits like the toolbox's save_parameters", () => {
  assertEquals([0, 9, 10, 99, 100, 1234].map(parameterName), [
    "param_000",
    "param_009",
    "param_010",
    "param_099",
    "param_100",
    "param_1234",
  ]);
});

Deno.test("loadParameters: an h5py-written toolbox parameter file, in sorted key order", async () => {
  const expected: { shape: number[]; values: number[] }[] = JSON.parse(
    await Deno.readTextFile(`${DIR}expected.json`),
  ).params_h5py;
  const params = await loadParameters(`${DIR}params_h5py.h5`);
  assertEquals(params.length, expected.length);
  params.forEach((p, i) => {
    assertEquals(p.dtype, "float32", `param ${i} dtype`);
    assertEquals(p.shape, expected[i].shape, `param ${i} shape`);
    assertClose(p.data as Float32Array, expected[i].values, { rtol: 0, atol: 0, msg: `param ${i}` });
  });
});

Deno.test({
  name: "saveParameters: h5py reads the same names, dtypes, shapes and values; loadParameters round-trips",
  ignore: !hasH5py,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const params: NDArray[] = [];
      for (let i = 0; i < 12; i++) {
        const shape = i % 2 === 0 ? [3, 3, 2, i + 1] : [i + 1];
        const n = shape.reduce((a, b) => a * b, 1);
        params.push(
          float32Array(Array.from({ length: n }, (_, k) => Math.fround(Math.sin(i * 100 + k))), shape),
        );
      }
      const path = `${tmp}/params.h5`;
      await saveParameters(params, path);
      const out = await runPython(
        `
import json, sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    print(json.dumps([[k, f[k].dtype.str, list(f[k].shape), np.asarray(f[k]).ravel().tolist()] for k in f.keys()]))
`,
        [path],
      );
      const seen: [string, string, number[], number[]][] = JSON.parse(out);
      assertEquals(seen.map((s) => s[0]), params.map((_, i) => parameterName(i)));
      seen.forEach(([name, dtype, shape, values], i) => {
        assertEquals(dtype, "<f4", `${name} dtype`);
        assertEquals(shape, params[i].shape, `${name} shape`);
        assertClose(values, params[i].data as Float32Array, { rtol: 0, atol: 0, msg: name });
      });
      const back = await loadParameters(path);
      assertEquals(back, params);
      assertEquals([...Deno.readDirSync(tmp)].map((e) => e.name), ["params.h5"]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "hdf5 attributes and datasets as h5py writes them (strings, byte strings, arrays, big-endian, bool)",
  ignore: !hasH5py,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const path = `${tmp}/attrs.h5`;
      await runPython(
        `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["backend"] = "tensorflow"
    f.attrs["bytes"] = b"keras"
    f.attrs["layer_names"] = np.array([b"conv2d", b"dense_1"])
    f.attrs["vlen_names"] = ["a", "bc"]
    f.attrs["numbers"] = np.array([1.5, -2.0])
    f.attrs["count"] = 7
    g = f.create_group("model_weights/dense_1")
    g.attrs["weight_names"] = np.array([b"dense_1/kernel:0", b"dense_1/bias:0"])
    g.create_dataset("big", data=np.arange(6, dtype=">i4").reshape(2, 3) - 3)
    g.create_dataset("flags", data=np.array([True, False, True]))
    g.create_dataset("scalar", data=np.float64(2.5))
    g.create_dataset("half", data=np.arange(3, dtype="<f2"))
`,
        [path],
      );
      const f = await openHdf5(path);
      try {
        assertEquals(readStringAttr(f, "backend"), "tensorflow");
        assertEquals(readStringAttr(f, "bytes"), "keras");
        assertEquals(readStringAttr(f, "absent"), undefined);
        assertEquals(readStringArrayAttr(f, "layer_names"), ["conv2d", "dense_1"]);
        assertEquals(readStringArrayAttr(f, "vlen_names"), ["a", "bc"]);
        assertEquals(readNumberArrayAttr(f, "numbers"), [1.5, -2]);
        assertEquals(readNumberArrayAttr(f, "count"), [7]);
        await assertRejects(
          () => readStringAttr(f, "numbers"),
          ModelFormatError,
          /attrs\.h5.*'numbers'.*not a string/,
        );
        const g = f.get("model_weights/dense_1");
        assertTrue(g !== null);
        assertEquals(readStringArrayAttr(g as never, "weight_names"), ["dense_1/kernel:0", "dense_1/bias:0"]);
        const big = readDataset(f, "model_weights/dense_1/big");
        assertEquals(big, { data: Int32Array.of(-3, -2, -1, 0, 1, 2), shape: [2, 3], dtype: "int32" });
        const flags = readDataset(f, "model_weights/dense_1/flags");
        assertEquals(flags, { data: Uint8Array.of(1, 0, 1), shape: [3], dtype: "bool" });
        const scalar = readDataset(f, "model_weights/dense_1/scalar");
        assertEquals(scalar, { data: Float64Array.of(2.5), shape: [], dtype: "float64" });
        await assertRejects(
          () => readDataset(f, "model_weights"),
          ModelFormatError,
          /attrs\.h5.*expected a dataset at 'model_weights', found Group/,
        );
        await assertRejects(() => readDataset(f, "nope"), ModelFormatError, /attrs\.h5.*'nope'/);
        await assertRejects(
          () => readDataset(f, "model_weights/dense_1/half"),
          ModelFormatError,
          /attrs\.h5: dataset '\/model_weights\/dense_1\/half' has HDF5 type 1 of 2 bytes; expected a float32/,
        );
      } finally {
        f.close();
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("openHdf5 / loadParameters: missing, empty and non-HDF5 files are ModelFormatErrors naming the file", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await assertRejects(() => openHdf5(`${tmp}/missing.h5`), ModelFormatError, /missing\.h5: cannot open/);
    await Deno.writeFile(`${tmp}/empty.h5`, new Uint8Array(0));
    await assertRejects(() => openHdf5(`${tmp}/empty.h5`), ModelFormatError, /empty\.h5: not an HDF5 file/);
    await Deno.copyFile(`${DIR}savez.npz`, `${tmp}/zip.h5`);
    const err = await assertRejects(
      () => loadParameters(`${tmp}/zip.h5`),
      ModelFormatError,
      /zip\.h5: not an HDF5 file/,
    );
    assertEquals((err as ModelFormatError).file, `${tmp}/zip.h5`);
    const good = await Deno.readFile(`${DIR}params_h5py.h5`);
    await Deno.writeFile(`${tmp}/cut.h5`, good.subarray(0, 1000));
    await assertRejects(
      () => loadParameters(`${tmp}/cut.h5`),
      ModelFormatError,
      /cut\.h5: cannot read HDF5 file/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("writeHdf5Atomic: a failing writer leaves neither the target nor a temporary file", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await assertRejects(
      () =>
        writeHdf5Atomic(`${tmp}/out.h5`, (f) => {
          f.create_dataset({ name: "x", data: new Float32Array(4), shape: [4] });
          throw new ModelFormatError("boom");
        }),
      ModelFormatError,
      /boom/,
    );
    assertEquals([...Deno.readDirSync(tmp)].length, 0);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("loadParameters: a dataset larger than the memory ceiling is refused before it is read", async () => {
  setMaxArrayBytes(40);
  try {
    await assertRejects(
      () => loadParameters(`${DIR}params_h5py.h5`),
      ModelFormatError,
      /params_h5py\.h5: dataset '\/param_000' of shape \[2, 3, 1, 4\] declares 96 bytes exceed the limit of 40 bytes/,
    );
  } finally {
    setMaxArrayBytes(undefined);
  }
});
