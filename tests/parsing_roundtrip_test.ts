/**
 * A parsed model with custom toolbox activations, saved as Keras HDF5, loads
 * back in a FRESH process (nothing registered there) with the exact
 * activation names and the toolbox's numpy results
 * (testdata/parsing/activations.json, gen_activations.py): as a full HDF5
 * model, as an architecture JSON with a weights-only HDF5 (opened through
 * either file), and as TF.js's own serialization (a tfjs `model.json`).
 */
import { assertClose, assertEquals, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { LayerAttributes } from "../lib/parsing/attributes.ts";
import { buildModelFromAttributes } from "../lib/parsing/build.ts";
import { saveParsedModel } from "../lib/parsing/files.ts";
import { saveKerasH5 } from "../lib/importers/keras/save.ts";
import { writeDataset, writeHdf5Atomic } from "../lib/io/hdf5.ts";
import { modelConfig } from "./_parsing_helpers.ts";
import { tf } from "../deps.ts";

const data = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/parsing/activations.json", import.meta.url)),
) as { x: number[]; cases: Record<string, number[]> };
const CHILD = new URL("./_parsing_roundtrip_child.ts", import.meta.url).pathname;

/** An identity Dense layer with `activation`, as the parser emits it. */
function identityDense(activation: string, n: number): LayerAttributes {
  const kernel = new Float32Array(n * n);
  for (let i = 0; i < n; i++) kernel[i * n + i] = 1;
  return {
    layerType: "Dense",
    name: "00Dense_" + n,
    inbound: ["input"],
    config: { units: n },
    parameters: [
      { data: kernel, shape: [n, n], dtype: "float32" },
      { data: new Float32Array(n), shape: [n], dtype: "float32" },
    ],
    activation,
    absorbed: [],
    outputShape: [n],
  };
}

/** Write the weights of `model` as Keras 2 `model.save_weights("x.h5")` lays them out (no model config). */
async function saveWeightsOnly(model: tf.LayersModel, path: string): Promise<void> {
  await writeHdf5Atomic(path, (file) => {
    file.create_attribute("layer_names", model.layers.map((l) => l.name));
    file.create_attribute("backend", "tensorflow");
    file.create_attribute("keras_version", "2.2.4");
    for (const layer of model.layers) {
      const g = file.create_group(layer.name);
      const names = layer.weights.map((w) => `${w.originalName}:0`);
      if (names.length === 0) g.create_attribute("weight_names", new Float64Array(0), [0], "<d");
      else g.create_attribute("weight_names", names);
      for (const [i, w] of layer.weights.entries()) {
        const parts = names[i].split("/");
        let parent = g;
        for (const part of parts.slice(0, -1)) {
          parent = (parent.keys().includes(part) ? parent.get(part) : parent.create_group(part)) as typeof g;
        }
        const t = w.read();
        writeDataset(parent, parts[parts.length - 1], {
          data: Float32Array.from(t.dataSync()),
          shape: [...t.shape],
          dtype: "float32",
        });
      }
    }
  });
}

/** Save `model` through TF.js's own serialization as a tfjs `model.json` + `model.weights.bin`. */
async function saveTfjs(model: tf.LayersModel, dir: string, name: string): Promise<void> {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const bin = `${name}.weights.bin`;
    await Deno.writeFile(`${dir}/${bin}`, new Uint8Array(artifacts.weightData as ArrayBuffer));
    const manifest = [{ paths: [bin], weights: artifacts.weightSpecs }];
    await Deno.writeTextFile(
      `${dir}/${name}.json`,
      JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: manifest }),
    );
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
}

async function loadInChild(
  dir: string,
  names: string[],
): Promise<Record<string, { activations?: string[]; y?: number[]; error?: string }>> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, dir, ...names],
    env: { SNNTOOLBOX_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  const text = new TextDecoder().decode(stdout);
  assertEquals(code, 0, `child failed: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(text.trim().split("\n").pop()!);
}

Deno.test("parsed model with custom activations: saved with exact names, loads back in a fresh process", async () => {
  await initBackend();
  const dir = await Deno.makeTempDir({ prefix: "snn-roundtrip-" });
  try {
    const n = data.x.length;
    const names = Object.keys(data.cases);
    const files = names.map((_, i) => `m${i}`);
    for (const [i, name] of names.entries()) {
      const model = buildModelFromAttributes([identityDense(name, n)], [n]);
      await saveParsedModel(model, `${dir}/${files[i]}.h5`);
      const config = await modelConfig(`${dir}/${files[i]}.h5`);
      assertTrue(
        config.includes(`"activation": "${name}"`) || config.includes(`"activation":"${name}"`),
        `${name} written exactly: ${config}`,
      );
      // Architecture JSON (`model.to_json()`) + weights-only HDF5 (`model.save_weights`).
      await Deno.writeTextFile(`${dir}/${files[i]}_pair.json`, config);
      await saveWeightsOnly(model, `${dir}/${files[i]}_pair.h5`);
      model.dispose();
    }
    // saveKerasH5 writes the exact names too (TF.js's serialization snake-cases relu_Q1.4 to relu__q1.4).
    const q = buildModelFromAttributes([identityDense("relu_Q1.4", n)], [n]);
    await saveKerasH5(q, `${dir}/keras_save.h5`);
    assertTrue((await modelConfig(`${dir}/keras_save.h5`)).includes('"relu_Q1.4"'));
    // A file written by TF.js's own serialization (relu__q1.4) reads back exactly too.
    await saveTfjs(q, dir, "tfjs_style");
    assertTrue((await Deno.readTextFile(`${dir}/tfjs_style.json`)).includes("relu__q1.4"));
    q.dispose();
    await Deno.writeTextFile(`${dir}/x.json`, JSON.stringify(data.x));

    const pairs = files.flatMap((f) => [`${f}_pair.json`, `${f}_pair.h5`]);
    const got = await loadInChild(dir, [...files.map((f) => `${f}.h5`), ...pairs, "tfjs_style.json"]);
    for (const [i, name] of names.entries()) {
      for (const file of [`${files[i]}.h5`, `${files[i]}_pair.json`, `${files[i]}_pair.h5`]) {
        const r = got[file];
        assertEquals(r.error, undefined, `${name} (${file}): ${r.error}`);
        assertEquals(r.activations, [name], `${name} (${file}): activation name after loading`);
        assertClose(r.y!, data.cases[name], { rtol: 1e-5, atol: 1e-6, msg: `${name} (${file}) vs numpy` });
      }
    }
    assertEquals(got["tfjs_style.json"].error, undefined, got["tfjs_style.json"].error);
    assertEquals(got["tfjs_style.json"].activations, ["relu_Q1.4"]);
    assertClose(got["tfjs_style.json"].y!, data.cases["relu_Q1.4"], { rtol: 1e-5, atol: 1e-6 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
