/**
 * Helpers for the parsing tests: random weights, wrapping a TF.js model as an
 * input model, and comparing the parsed model with the unparsed one.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { DataFormat, InputModel } from "../lib/importers/input_model.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import type { ParserOptions } from "../lib/parsing/options.ts";
import { predictModel } from "../lib/parsing/evaluate.ts";
import type { Float32NDArray, NDArray } from "../lib/io/ndarray.ts";
import { openHdf5, readStringAttr } from "../lib/io/hdf5.ts";
import type { AbstractModelParser } from "../lib/parsing/abstract_parser.ts";
import { assertClose } from "./_assert.ts";
import { rng } from "./_rng.ts";

/** Give every layer random weights; BatchNorm variances positive and means/offsets non-trivial. */
export function randomizeWeights(model: tf.LayersModel, seed = 1): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const isBn = layer.getClassName() === "BatchNormalization";
    const fresh = ws.map((w, i) => {
      const n = w.size;
      const data = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const u = r() * 2 - 1;
        if (isBn) {
          const name = layer.weights[i].name;
          data[j] = name.includes("variance") ? 0.5 + r() : name.includes("gamma") ? 0.5 + r() : u;
        } else data[j] = u * 0.5;
      }
      return tf.tensor(data, w.shape);
    });
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}

/** Wrap a TF.js model as an input model. */
export function asInputModel(model: tf.LayersModel, dataFormat: DataFormat = "channels_last"): InputModel {
  return { model, library: "keras", path: `<test model ${model.name}>`, dataFormat, metadata: {} };
}

/** Random input batch of `shape` (with batch). */
export function randomInput(shape: number[], seed = 7): NDArray {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = r() * 2 - 1;
  return { data, shape, dtype: "float32" };
}

/**
 * Run `model` layer by layer, computing BatchNormalization by the textbook
 * formula (TF.js 4.22 mis-computes BatchNormalization on a non-last axis,
 * e.g. axis 1 of channels_first images, so its own predict is no reference).
 */
export function referencePredict(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const values = new Map<tf.layers.Layer, tf.Tensor>();
    for (const layer of model.layers) {
      if (layer.getClassName() === "InputLayer") {
        values.set(layer, x);
        continue;
      }
      // A nested model's first node is its own graph's; the call in this graph is the one with inputs.
      const node = layer.inboundNodes.filter((n) => n.inboundLayers.length > 0).pop()!;
      const ins = node.inboundLayers.map((l) => values.get(l) ?? x);
      if (layer.getClassName() === "BatchNormalization") {
        const cfg = layer.getConfig() as { axis: number; epsilon: number; center: boolean; scale: boolean };
        const rank = ins[0].rank;
        const axis = cfg.axis < 0 ? rank + cfg.axis : cfg.axis;
        const shape = new Array(rank).fill(1);
        shape[axis] = ins[0].shape[axis];
        const ws = layer.getWeights();
        let i = 0;
        const gamma = cfg.scale !== false ? ws[i++] : tf.onesLike(ws[ws.length - 1]);
        const beta = cfg.center !== false ? ws[i++] : tf.zerosLike(ws[ws.length - 1]);
        const [mean, variance] = [ws[i], ws[i + 1]];
        const r = (t: tf.Tensor) => t.reshape(shape);
        values.set(
          layer,
          ins[0].sub(r(mean)).mul(r(gamma)).div(r(variance.add(cfg.epsilon).sqrt())).add(r(beta)),
        );
      } else values.set(layer, layer.apply(ins.length === 1 ? ins[0] : ins) as tf.Tensor);
    }
    return (values.get(model.outputLayers[0]) ?? values.get(model.layers[model.layers.length - 1]))!;
  });
}

/**
 * Run the parsed model of `parser` (default: built now) on `x` laid out as
 * the input model takes it; the output comes back in the input model's
 * layout (first output).
 */
export function predictParsed(
  parser: AbstractModelParser,
  x: NDArray,
  parsed: tf.LayersModel = parser.buildParsedModel(),
): Promise<Float32NDArray> {
  return predictModel(parsed, x, { inputPerm: parser.inputPerm, outputPerm: parser.outputPerms[0] });
}

/** The `model_config` attribute of a Keras HDF5 file ("" when absent). */
export async function modelConfig(path: string): Promise<string> {
  const h5 = await openHdf5(path);
  try {
    return readStringAttr(h5, "model_config", path) ?? "";
  } finally {
    h5.close();
  }
}

/** Parse `model` and check the parsed model reproduces its outputs on random inputs. */
export async function parseAndCompare(
  model: tf.LayersModel,
  dataFormat: DataFormat = "channels_last",
  options: ParserOptions = {},
  { rtol = 1e-4, atol = 1e-5, batch = 4 } = {},
): Promise<ModelParser> {
  await initBackend();
  const parser = new ModelParser(asInputModel(model, dataFormat), options);
  parser.parse();
  const inShape = model.inputs[0].shape.slice(1) as number[];
  const x = randomInput([batch, ...inShape]);
  const xt = tf.tensor(x.data as Float32Array, x.shape);
  const ref = referencePredict(model, xt);
  const expected = { data: (await ref.data()) as Float32Array };
  tf.dispose([xt, ref]);
  const actual = await predictParsed(parser, x);
  const scale = Math.max(...Array.from(expected.data, Math.abs));
  assertClose(actual.data, expected.data, { rtol, atol: atol * Math.max(1, scale), msg: model.name });
  return parser;
}
