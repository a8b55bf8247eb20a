/**
 * Imports the toolbox's `mod.ts` from the URL given as the first argument
 * (a `file:` URL or a remote `http(s):` one) and prints, as one JSON line,
 * what a few of its exports compute, for tests/ship_remote_test.ts to
 * compare between a local and a remote import. Run from a folder holding
 * `mnist_torch.onnx`.
 *
 * @module
 */
const mod = await import(Deno.args[0]);
const backend = await mod.initBackend();

const config = new mod.ConfigParser();
config.readString("[paths]\nroot = /data\nmodel = %(root)s/net.h5\n[simulation]\nduration = 50\n");

const loaded = await mod.loadOnnxModel("mnist_torch.onnx");
const shape = [2, ...loaded.model.inputs[0].shape.slice(1)];
const data = new Float32Array(shape.reduce((a: number, b: number) => a * b, 1));
for (let i = 0; i < data.length; i++) data[i] = (Math.sin(i * 0.37) + 1) / 2;
const prediction = await mod.predictModel(loaded.model, mod.float32Array(data, shape));

console.log(JSON.stringify({
  version: mod.VERSION,
  backend: backend.name,
  literal: mod.pyRepr(mod.literalEval("{'a': (1, 2.5e-3), 'b': {1, 2} | {3}}")),
  interpolated: config.get("paths", "model"),
  duration: config.getInt("simulation", "duration"),
  defaultSimulator: (() => {
    const defaults = new mod.ConfigParser();
    defaults.readString(mod.DEFAULT_CONFIG, mod.DEFAULT_CONFIG_SOURCE);
    return defaults.get("simulation", "simulator");
  })(),
  library: loaded.library,
  dataFormat: loaded.dataFormat,
  layers: loaded.model.layers.length,
  prediction: { shape: prediction.shape, data: Array.from(prediction.data) },
}));
