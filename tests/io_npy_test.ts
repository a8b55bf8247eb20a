/**
 * `.npy` / `.npz` reading against files written by numpy (testdata/io/gen_io.py,
 * expected values stored independently as JSON), writing read back by numpy,
 * and broken files rejected with a DatasetError naming the file.
 */
import { assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { DatasetError } from "../lib/errors.ts";
import { type NDArray, toFloat32, toFloat32NDArray } from "../lib/io/ndarray.ts";
import { decodeNpy, encodeNpy, readNpy, writeNpy } from "../lib/io/npy.ts";
import { encodeNpz, readNpz, readNpzArray, writeNpz } from "../lib/io/npz.ts";
import { setMaxArrayBytes } from "../lib/io/limits.ts";
import { numpyAvailable, runPython } from "./_io_python.ts";

const DIR = new URL("../testdata/io/", import.meta.url).pathname;

interface Expected {
  descr: string;
  shape: number[];
  fortran: boolean;
  values: (number | string)[];
}
const EXPECTED: Record<string, Expected> = JSON.parse(await Deno.readTextFile(`${DIR}expected.json`)).npy;

const DTYPE_OF_CODE: Record<string, string> = {
  f4: "float32",
  f8: "float64",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  b1: "bool",
};

/** Elements as JSON-comparable values (64-bit integers as decimal strings). */
function valuesOf(arr: NDArray): (number | string)[] {
  return Array.from(arr.data as ArrayLike<number | bigint>, (v) => typeof v === "bigint" ? v.toString() : v);
}

function checkAgainst(name: string, arr: NDArray, exp: Expected): void {
  assertEquals(arr.dtype, DTYPE_OF_CODE[exp.descr.slice(1)], `${name} dtype`);
  assertEquals(arr.shape, exp.shape, `${name} shape`);
  assertEquals(valuesOf(arr), exp.values, `${name} values`);
}

Deno.test("readNpy: every dtype, byte order, memory order and format version numpy writes", async () => {
  const names = Object.keys(EXPECTED);
  assertTrue(names.length >= 40, `expected ≥ 40 reference arrays, found ${names.length}`);
  for (const name of names) {
    const arr = await readNpy(`${DIR}npy/${name}.npy`);
    checkAgainst(name, arr, EXPECTED[name]);
  }
});

Deno.test("readNpy: accepts bytes as well as a path", async () => {
  const bytes = await Deno.readFile(`${DIR}npy/i8_be_F.npy`);
  checkAgainst("i8_be_F", await readNpy(bytes), EXPECTED["i8_be_F"]);
});

Deno.test("toFloat32: every dtype numpy writes (64-bit integers included) as float32; float32 is not copied", async () => {
  for (const name of Object.keys(EXPECTED).filter((n) => n.endsWith("_C"))) {
    const arr = await readNpy(`${DIR}npy/${name}.npy`);
    const want = EXPECTED[name].values.map((v) => Math.fround(Number(v)));
    assertEquals(Array.from(toFloat32(arr)), want, name);
    assertEquals(Array.from(toFloat32(arr, 5, 9)), want.slice(5, 9), `${name}[5:9]`);
    const nd = toFloat32NDArray(arr);
    assertEquals([nd.dtype, nd.shape, nd.data.length], ["float32", arr.shape, want.length], name);
  }
  const f4 = await readNpy(`${DIR}npy/f4_le_C.npy`);
  assertTrue(toFloat32(f4) === f4.data && toFloat32NDArray(f4) === f4, "float32 data is returned as is");
  assertTrue(toFloat32(f4, 2, 4).buffer === f4.data.buffer, "a part of float32 data is a view");
});

Deno.test("readNpz: np.savez (stored) and np.savez_compressed (deflate)", async () => {
  for (const file of ["savez.npz", "savez_compressed.npz"]) {
    const arrays = await readNpz(`${DIR}${file}`);
    const cOrder = Object.keys(EXPECTED).filter((n) => /_(le|be|na)_C$/.test(n));
    assertEquals(Object.keys(arrays).sort(), cOrder.sort(), `${file} keys`);
    for (const name of cOrder) checkAgainst(`${file}[${name}]`, arrays[name], EXPECTED[name]);
  }
});

Deno.test("readNpzArray: positional arr_0/arr_1, one member at a time; missing key lists the keys", async () => {
  const a0 = await readNpzArray(`${DIR}positional.npz`);
  assertEquals(Array.from(a0.data as Float32Array), [0, 1, 2, 3]);
  const a1 = await readNpzArray(`${DIR}positional.npz`, "arr_1");
  assertEquals(a1.dtype, "int64");
  assertEquals(valuesOf(a1), ["0", "1", "2"]);
  await assertRejects(
    () => readNpzArray(`${DIR}positional.npz`, "x"),
    DatasetError,
    /positional\.npz.*no array 'x'.*arr_0, arr_1/,
  );
});

Deno.test("encodeNpy/decodeNpy: header is 64-byte aligned and the bytes round-trip every dtype", () => {
  const arrays: NDArray[] = [
    { data: Float64Array.of(1.5, -2), shape: [2], dtype: "float64" },
    { data: BigUint64Array.of(2n ** 64n - 1n), shape: [], dtype: "uint64" },
    { data: Uint8Array.of(1, 0, 1, 1), shape: [2, 2], dtype: "bool" },
    { data: new Int16Array(0), shape: [0, 5], dtype: "int16" },
  ];
  for (const arr of arrays) {
    const bytes = encodeNpy(arr);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    assertEquals((10 + headerLen) % 64, 0, `${arr.dtype} header alignment`);
    const back = decodeNpy(bytes);
    assertEquals(back, arr);
  }
});

Deno.test({
  name: "writeNpy/writeNpz: numpy reads our files back with identical dtype, shape and values",
  ignore: !(await numpyAvailable()),
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const src: Record<string, NDArray> = {};
      for (const name of ["f4_le_C", "f8_be_F", "i8_le_C", "u8_be_C", "b1_na_F", "i1_na_C", "u2_be_F"]) {
        src[name] = await readNpy(`${DIR}npy/${name}.npy`);
        await writeNpy(`${tmp}/${name}.npy`, src[name]);
      }
      await writeNpz(`${tmp}/stored.npz`, src);
      await writeNpz(`${tmp}/deflated.npz`, src, { compressed: true });
      await writeNpz(`${tmp}/positional.npz`, [src["f4_le_C"], src["i8_le_C"]], { compressed: true });
      const out = await runPython(
        `
import json, sys, numpy as np
d = sys.argv[1]
names = ${JSON.stringify(Object.keys(src))}
res = {}
def desc(a):
    v = a.ravel().tolist()
    if a.dtype.kind in "iu" and a.dtype.itemsize == 8: v = [str(x) for x in v]
    if a.dtype.kind == "b": v = [int(x) for x in v]
    return {"dtype": a.dtype.name, "shape": list(a.shape), "values": v}
for n in names:
    res["npy/" + n] = desc(np.load(d + "/" + n + ".npy"))
for f in ("stored", "deflated"):
    z = np.load(d + "/" + f + ".npz")
    for n in z.files: res[f + "/" + n] = desc(z[n])
z = np.load(d + "/positional.npz")
res["positional"] = sorted(z.files)
print(json.dumps(res))
`,
        [tmp],
      );
      const res = JSON.parse(out);
      for (const [name, arr] of Object.entries(src)) {
        const exp = EXPECTED[name];
        for (const key of [`npy/${name}`, `stored/${name}`, `deflated/${name}`]) {
          assertEquals(res[key].dtype, arr.dtype, `${key} dtype`);
          assertEquals(res[key].shape, exp.shape, `${key} shape`);
          assertEquals(res[key].values, exp.values, `${key} values`);
        }
      }
      assertEquals(res.positional, ["arr_0", "arr_1"]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("encodeNpz: member timestamps are fixed, so the same arrays always give the same bytes", () => {
  const bytes = encodeNpz({ a: { data: new Float32Array(3), shape: [3], dtype: "float32" } }, {
    compressed: true,
  });
  const view = new DataView(bytes.buffer);
  assertEquals(view.getUint32(0, true), 0x04034b50, "local file header signature");
  assertEquals(
    [view.getUint16(10, true), view.getUint16(12, true)],
    [0, (0 << 9) | (1 << 5) | 1],
    "DOS time/date",
  );
});

Deno.test("readNpy: truncated, garbled and oversized files are DatasetErrors naming the file", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const good = await Deno.readFile(`${DIR}npy/f8_le_C.npy`);
    const cases: [string, Uint8Array, RegExp][] = [
      ["truncated.npy", good.subarray(0, good.length - 5), /truncated\.npy.*needs 192 data bytes, found 187/],
      [
        "extra.npy",
        new Uint8Array([...good, 0, 0, 0, 0, 0, 0, 0, 0]),
        /extra\.npy.*needs 192 data bytes, found 200/,
      ],
      ["header_cut.npy", good.subarray(0, 40), /header_cut\.npy.*header declares \d+ bytes/],
      ["not_npy.npy", new TextEncoder().encode("hello, world"), /not_npy\.npy.*magic string/],
      ["empty.npy", new Uint8Array(0), /empty\.npy.*magic string/],
    ];
    const garbled = good.slice();
    garbled.set(new TextEncoder().encode("'descr': '<c8'"), 11);
    cases.push(["complex.npy", garbled, /complex\.npy.*unsupported dtype '<c8'/]);
    const version = good.slice();
    version[6] = 9;
    cases.push(["v9.npy", version, /v9\.npy.*unsupported format version 9\.0/]);
    const hugeShape = good.slice();
    const header = new TextDecoder("latin1").decode(hugeShape.subarray(10, 70));
    const patched = header.replace("(2, 3, 4)", "(2, 3, 9)");
    hugeShape.set(new TextEncoder().encode(patched), 10);
    cases.push(["huge.npy", hugeShape, /huge\.npy.*shape \[2, 3, 9\].*needs 432 data bytes, found 192/]);
    for (const [name, bytes, re] of cases) {
      await Deno.writeFile(`${tmp}/${name}`, bytes);
      const err = await assertRejects(() => readNpy(`${tmp}/${name}`), DatasetError, re);
      assertEquals((err as DatasetError).file, `${tmp}/${name}`);
    }
    await assertRejects(() => readNpy(`${tmp}/missing.npy`), DatasetError, /missing\.npy: cannot read/);
    await Deno.writeFile(`${tmp}/bad.npz`, good);
    await assertRejects(() => readNpz(`${tmp}/bad.npz`), DatasetError, /bad\.npz: not a valid \.npz/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("writeNpy: data that does not fit its shape is refused and nothing is written", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const bad: NDArray = { data: new Float32Array(3), shape: [2, 2], dtype: "float32" };
    await assertRejects(
      () => writeNpy(`${tmp}/bad.npy`, bad),
      DatasetError,
      /3 elements do not fit shape \[2, 2\]/,
    );
    assertEquals([...Deno.readDirSync(tmp)].length, 0);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** A version 1.0 `.npy` with the given header dict and data bytes. */
function rawNpy(dict: string, data = new Uint8Array(0)): Uint8Array {
  const header = dict.padEnd(117, " ") + "\n";
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

Deno.test("readNpy/readNpz: declared sizes beyond the memory ceiling are refused at once", async () => {
  const start = performance.now();
  const huge = rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }");
  await assertRejects(
    () => readNpy(huge),
    DatasetError,
    /shape \[1000000, 1000000\] of '<f8' declares 8000000000000 bytes exceed the limit of \d+ bytes/,
  );
  assertTrue(performance.now() - start < 1000);
  const ok = rawNpy(
    "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }",
    Uint8Array.of(1, 0, 255, 255),
  );
  assertEquals(await readNpy(ok), { data: Int16Array.of(1, -1), shape: [2], dtype: "int16" });
  setMaxArrayBytes(100);
  try {
    await assertRejects(
      () => readNpz(`${DIR}savez.npz`),
      DatasetError,
      /savez\.npz: member '.*\.npy' declares \d+ bytes exceed the limit of 100 bytes/,
    );
  } finally {
    setMaxArrayBytes(undefined);
  }
});
