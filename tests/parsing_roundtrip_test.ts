/**
 * A parsed model with custom toolbox activations, saved as Keras HDF5, loads
 * back in a FRESH process (nothing registered there) with the exact
 * activation names and the toolbox's numpy results
 * (testdata/parsing/activations.json, gen_activations.py).
 */
import { assertClose, assertEquals, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { buildModelFromAttributes, type LayerAttributes } from "../lib/parsing/abstract_parser.ts";
import { saveParsedModel } from "../lib/parsing/files.ts";
import { saveKerasH5 } from "../lib/io/keras/save.ts";
import { openHdf5, readStringAttr } from "../lib/io/hdf5.ts";

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

async function modelConfig(path: string): Promise<string> {
  const h5 = await openHdf5(path);
  try {
    return readStringAttr(h5, "model_config", path) ?? "";
  } finally {
    h5.close();
  }
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
    }
    // A file written by TF.js's own serialization (relu_Q1.4 snake-cased to relu__q1.4) reads back exactly too.
    await saveKerasH5(buildModelFromAttributes([identityDense("relu_Q1.4", n)], [n]), `${dir}/tfjs_style.h5`);
    assertTrue((await modelConfig(`${dir}/tfjs_style.h5`)).includes("relu__q1.4"));
    await Deno.writeTextFile(`${dir}/x.json`, JSON.stringify(data.x));

    const got = await loadInChild(dir, [...files, "tfjs_style"]);
    for (const [i, name] of names.entries()) {
      const r = got[files[i]];
      assertEquals(r.error, undefined, `${name}: ${r.error}`);
      assertEquals(r.activations, [name], `${name}: activation name after loading`);
      assertClose(r.y!, data.cases[name], { rtol: 1e-5, atol: 1e-6, msg: `${name} vs numpy` });
    }
    assertEquals(got.tfjs_style.activations, ["relu_Q1.4"]);
    assertClose(got.tfjs_style.y!, data.cases["relu_Q1.4"], { rtol: 1e-5, atol: 1e-6 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
