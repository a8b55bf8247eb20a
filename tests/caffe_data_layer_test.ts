/**
 * A Caffe net fed by a Data layer states no input shape
 * (testdata/caffe/small2.prototxt): `predict --input X.npy` and `run` take
 * it from the data they are given and compute Caffe's outputs
 * (small2_y.npy, written by testdata/caffe/gen_small.py); `inspect` and
 * `parse` without data keep the clear error asking for a shape.
 */
import { assertClose, assertEquals, assertMatch, assertTrue } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { readNpy } from "../lib/io/npy.ts";
import { writeNpz } from "../lib/io/npz.ts";

const CAFFE = new URL("../testdata/caffe/", import.meta.url).pathname;

/** A scratch folder with small2's net and weights. */
async function scratch(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "snn_caffe_data_" });
  for (const f of ["small2.prototxt", "small2.caffemodel.h5", "small2_x.npy"]) {
    await Deno.copyFile(`${CAFFE}${f}`, `${dir}/${f}`);
  }
  return dir;
}

Deno.test("caffe Data-layer net: predict takes the input shape from --input (parsed and --original)", async () => {
  const dir = await scratch();
  try {
    const expected = (await readNpy(`${CAFFE}small2_y.npy`)).data as Float32Array;
    for (const extra of [[], ["--original"]]) {
      const { code, err } = await runCli([
        "predict",
        `${dir}/small2.prototxt`,
        "--input",
        `${dir}/small2_x.npy`,
        "--output",
        `${dir}/y.npy`,
        "--quiet",
        ...extra,
      ]);
      assertEquals(code, 0, err.join("\n"));
      const y = await readNpy(`${dir}/y.npy`);
      assertEquals(y.shape, [2, 3]);
      assertClose(y.data as Float32Array, expected, { rtol: 1e-4, atol: 1e-5, msg: extra.join(" ") });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("caffe Data-layer net: run takes the input shape from the test data", async () => {
  const dir = await scratch();
  try {
    const x = await readNpy(`${CAFFE}small2_x.npy`);
    const out = (await readNpy(`${CAFFE}small2_y.npy`)).data as Float32Array;
    // Labels: Caffe's own top-1 class of each sample, so both accuracies are 1 exactly when we agree.
    const labels = new Float32Array(2 * 3);
    for (let i = 0; i < 2; i++) {
      const row = Array.from(out.subarray(i * 3, i * 3 + 3));
      labels[i * 3 + row.indexOf(Math.max(...row))] = 1;
    }
    await Deno.mkdir(`${dir}/data`);
    await writeNpz(`${dir}/data/x_test.npz`, { arr_0: x });
    await writeNpz(`${dir}/data/y_test.npz`, { arr_0: { data: labels, shape: [2, 3], dtype: "float32" } });
    await Deno.writeTextFile(
      `${dir}/exp.ini`,
      "[paths]\ndataset_path = data\nfilename_ann = small2\n\n[input]\nmodel_lib = caffe\n\n" +
        "[tools]\nevaluate_ann = True\nparse = True\nnormalize = False\nconvert = False\nsimulate = False\n\n" +
        "[simulation]\nnum_to_test = 2\nbatch_size = 2\n",
    );
    const { code, out: lines, err } = await runCli(["run", `${dir}/exp.ini`, "--json", "--quiet"]);
    assertEquals(code, 0, err.join("\n"));
    const result = JSON.parse(lines[lines.length - 1]);
    assertEquals(result.ann_accuracy, 1);
    assertEquals(result.parsed_accuracy, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("caffe Data-layer net: inspect and parse without data keep the clear error, exit 2", async () => {
  const dir = await scratch();
  try {
    for (const cmd of [["inspect"], ["parse", "--no-save"]]) {
      const { code, err } = await runCli([...cmd, `${dir}/small2.prototxt`]);
      assertEquals(code, 2, cmd[0]);
      assertMatch(
        err.join("\n"),
        /small2\.prototxt: the shape of input 'data' \(layer 'data'\) is not stated/,
      );
      assertMatch(err.join("\n"), /--input-shape C,H,W/);
      assertTrue(!err.join("\n").includes("    at "), "no stack trace");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
