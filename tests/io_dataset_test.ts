/**
 * The toolbox dataset convention (x_test.npz / y_test.npz / x_norm.npz,
 * key arr_0) on temporary folders: selection by num_to_test and
 * sample_idxs_to_test, one-hot and integer labels, batching, and errors
 * that name the file with the expected and found shapes.
 */
import { assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { DatasetError } from "../lib/errors.ts";
import type { NDArray } from "../lib/io/ndarray.ts";
import { writeNpz } from "../lib/io/npz.ts";
import { loadNormSet, loadTestSet } from "../lib/io/dataset.ts";

const N = 7;
const SAMPLE = [2, 3, 1];
const ROW = 6;
/** Sample i has value 100*i + j at position j (float64 on disk, to test conversion). */
function xTest(n = N): NDArray {
  return {
    data: Float64Array.from({ length: n * ROW }, (_, k) => 100 * Math.floor(k / ROW) + (k % ROW)),
    shape: [n, ...SAMPLE],
    dtype: "float64",
  };
}
const LABELS = [3, 0, 2, 2, 1, 0, 3];
function oneHot(labels = LABELS, classes = 4): NDArray {
  const data = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => data[i * classes + l] = 1);
  return { data, shape: [labels.length, classes], dtype: "float32" };
}

async function folder(arrays: Record<string, NDArray>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, arr] of Object.entries(arrays)) {
    await writeNpz(`${dir}/${name}.npz`, [arr], { compressed: true });
  }
  return dir;
}

function rowValues(i: number): number[] {
  return Array.from({ length: ROW }, (_, j) => 100 * i + j);
}

Deno.test("loadTestSet: num_to_test selects the first samples; batches are float32 with one-hot labels", async () => {
  const dir = await folder({ x_test: xTest(), y_test: oneHot() });
  try {
    const set = await loadTestSet({ datasetPath: dir, numToTest: 5, batchSize: 2 });
    assertEquals([set.n, set.available, set.numClasses, set.truncated], [5, 7, 4, false]);
    assertEquals(set.sampleShape, SAMPLE);
    assertEquals(Array.from(set.labels()), [3, 0, 2, 2, 1]);
    const batches = [...set.batches()];
    assertEquals(batches.map((b) => b.x.shape), [[2, ...SAMPLE], [2, ...SAMPLE], [1, ...SAMPLE]]);
    assertEquals(batches.map((b) => b.start), [0, 2, 4]);
    assertEquals(Array.from(batches[1].x.data), [...rowValues(2), ...rowValues(3)]);
    assertTrue(batches[1].x.data instanceof Float32Array);
    assertEquals(Array.from(batches[2].y.data), [0, 1, 0, 0]);
    assertEquals(Array.from(batches[0].labels), [3, 0]);
    assertEquals([...set.batches({ dropRemainder: true })].length, 2);
    assertEquals([...set.batches({ batchSize: 5 })].length, 1);
    assertEquals(set.oneHot().shape, [5, 4]);
    assertEquals(Array.from(set.oneHot().data.slice(0, 8)), [0, 0, 0, 1, 1, 0, 0, 0]);
    assertEquals(Array.from(set.x().data.slice(ROW * 4)), rowValues(4));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTestSet: sample_idxs_to_test picks those samples in order; integer labels work", async () => {
  const ints: NDArray = { data: BigInt64Array.from(LABELS, BigInt), shape: [N], dtype: "int64" };
  const dir = await folder({ x_test: xTest(), y_test: ints });
  try {
    const set = await loadTestSet({ datasetPath: dir, numToTest: 2, sampleIdxs: [6, 1, 4], batchSize: 2 });
    assertEquals(set.n, 3);
    assertEquals(set.indices, [6, 1, 4]);
    assertEquals(Array.from(set.labels()), [3, 0, 1]);
    assertEquals(set.numClasses, 4);
    const [b0, b1] = [...set.batches()];
    assertEquals(b0.indices, [6, 1]);
    assertEquals(Array.from(b0.x.data), [...rowValues(6), ...rowValues(1)]);
    assertEquals(Array.from(b1.x.data), rowValues(4));
    assertEquals(Array.from(b1.y.data), [0, 1, 0, 0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTestSet: num_to_test beyond the file is reported as truncated", async () => {
  const dir = await folder({ x_test: xTest(), y_test: oneHot() });
  try {
    const set = await loadTestSet({ datasetPath: dir, numToTest: 10000 });
    assertEquals([set.n, set.truncated, set.batchSize], [7, true, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadNormSet: x_norm.npz as float32", async () => {
  const dir = await folder({ x_norm: xTest(3) });
  try {
    const norm = await loadNormSet({ datasetPath: dir });
    assertEquals(norm.dtype, "float32");
    assertEquals(norm.shape, [3, ...SAMPLE]);
    assertEquals(Array.from(norm.data.slice(ROW * 2)), rowValues(2));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dataset errors name the file, the expected and the found shape", async () => {
  const cases: [Record<string, NDArray>, Record<string, unknown>, RegExp][] = [
    [{ x_test: xTest() }, {}, /y_test\.npz: dataset file not found .*x_test\.npz, y_test\.npz/],
    [{ y_test: oneHot() }, {}, /x_test\.npz: dataset file not found/],
    [
      { x_test: xTest(), y_test: oneHot(LABELS.slice(0, 5)) },
      {},
      /y_test\.npz: expected 7 labels to match .*x_test\.npz of shape \(7, 2, 3, 1\), found shape \(5, 4\)/,
    ],
    [
      { x_test: { data: new Float32Array(7), shape: [7], dtype: "float32" }, y_test: oneHot() },
      {},
      /x_test\.npz: expected samples of shape \(N, \.\.\.\).*found \(7,\)/,
    ],
    [
      { x_test: xTest(), y_test: { data: new Float32Array(7 * 8), shape: [7, 4, 2], dtype: "float32" } },
      {},
      /y_test\.npz: expected labels of shape \(N, classes\).*found \(7, 4, 2\)/,
    ],
    [
      {
        x_test: xTest(),
        y_test: { data: Float32Array.from([0, 1, 2.5, 0, 0, 0, 0]), shape: [7], dtype: "float32" },
      },
      {},
      /y_test\.npz: label 2 is 2\.5/,
    ],
    [
      { x_test: xTest(), y_test: oneHot() },
      { sampleIdxs: [0, 7] },
      /x_test\.npz: sample_idxs_to_test contains 7, but the file holds samples 0\.\.6/,
    ],
    [{ x_test: xTest(), y_test: oneHot() }, { batchSize: 0 }, /batch_size must be a positive integer, got 0/],
    [
      { x_test: xTest(), y_test: oneHot() },
      { numToTest: -1 },
      /num_to_test must be a positive integer, got -1/,
    ],
  ];
  for (const [arrays, options, re] of cases) {
    const dir = await folder(arrays);
    try {
      await assertRejects(() => loadTestSet({ datasetPath: dir, ...options }), DatasetError, re);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/x_test.npz`, "not a zip");
    await writeNpz(`${dir}/y_test.npz`, { labels: oneHot() });
    await assertRejects(
      () => loadTestSet({ datasetPath: dir }),
      DatasetError,
      /x_test\.npz: not a valid \.npz/,
    );
    await writeNpz(`${dir}/x_test.npz`, [xTest()]);
    await assertRejects(
      () => loadTestSet({ datasetPath: dir }),
      DatasetError,
      /y_test\.npz: no array 'arr_0'.*found: labels/,
    );
    await assertRejects(
      () => loadNormSet({ datasetPath: dir }),
      DatasetError,
      /x_norm\.npz: dataset file not found/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
