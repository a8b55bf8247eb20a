/**
 * The parsing API against the Python toolbox's own answers
 * (testdata/parsing/api_reference.json, written by gen_api_reference.py
 * running the toolbox's source with TensorFlow stubbed out): fan-in and
 * fan-out (through Concatenate, into strided Conv1D/Conv2D and depthwise
 * layers), get_fanout_array, absorb_bn_parameters, padding_string,
 * binarize, reduce_precision, modify_parameter_precision, the precision
 * metric, the custom-activation helpers, the custom-object dictionaries,
 * fix_input_layer_shape, and the names a whole parse gives (with the
 * normalization file the toolbox writes under those names, read back here).
 *
 * Where the toolbox is not exact, the test checks that ours is, and that
 * the two differ only there (each difference is listed in docs/porting.md).
 */
import { tf } from "../deps.ts";
import { assertClose, assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { ConfigError, ModelFormatError } from "../lib/errors.ts";
import type { Float32NDArray } from "../lib/io/ndarray.ts";
import { binarize, reducePrecision } from "../lib/layers/activations.ts";
import {
  assembleCustomDict,
  type CustomObjectsDict,
  getClampedReluFromString,
  getCustomActivation,
  getCustomLayersDict,
  getNoisySoftplusFromString,
  getQuantizedActivationFunctionFromString,
} from "../lib/layers/custom_objects.ts";
import { precision } from "../lib/layers/metrics.ts";
import { getFanin, getFanout, getFanoutArray, hasStrideUnity } from "../lib/parsing/fanout.ts";
import { ModelParser } from "../lib/parsing/model_parser.ts";
import { modifyParameterPrecision } from "../lib/parsing/precision.ts";
import {
  absorbBnParameters,
  fixInputLayerShape,
  getInboundLayersWithParams,
  paddingString,
} from "../lib/parsing/utils.ts";
import { normalizeParameters } from "../lib/conversion/normalize.ts";
import type { InputModel } from "../lib/importers/input_model.ts";

await initBackend();

/** A layer of a generator graph (snake_case Keras arguments). */
interface LayerSpec {
  type: string;
  name: string;
  inbound?: string[];
  shape?: number[];
  filters?: number;
  kernel_size?: number[];
  strides?: number[];
  padding?: "same" | "valid";
  depth_multiplier?: number;
  pool_size?: number[];
  units?: number;
  axis?: number;
  activation?: string;
}
/** An array as the generator writes it. */
interface Nd {
  shape: number[];
  data: number[];
}
/** What api_reference.json holds (see gen_api_reference.py). */
interface Reference {
  fanout: {
    name: string;
    layers: LayerSpec[];
    shapes: Record<string, number[]>;
    fanout: Record<string, { toolbox: number | Nd; exact: number[] | null }>;
    fanin: Record<string, number>;
    stride_unity: Record<string, boolean>;
  }[];
  fanout_array: {
    graph: string;
    pre: string;
    post: string;
    depthwise: boolean;
    toolbox: Nd;
    exact: number[];
  }[];
  absorb_bn_parameters: {
    name: string;
    axis: number;
    image_data_format: "channels_first" | "channels_last";
    is_depthwise: boolean;
    weight: Nd;
    bias: number[];
    mean: number[];
    var_eps_sqrt_inv: number[];
    gamma: number[];
    beta: number[];
    weight_bn: Nd;
    bias_bn: number[];
  }[];
  padding_string: { pad: [number, number] | string; pool_size: number[]; padding: string | null }[];
  precision: {
    x: number[];
    binarize: Record<"h1" | "h0.5", number[]>;
    reduce_precision: { m: number; f: number; out: number[] }[];
    modify: {
      label: string;
      cell: Record<string, string>;
      attributes: { "Qm.f"?: [number, number]; quantize_bias?: boolean };
      weights?: number[];
      biases?: number[];
      left?: string[];
      error?: boolean;
    }[];
    w: number[];
    w_shape: number[];
    b: number[];
  };
  precision_metric: { y_true: Nd; y_pred: Nd; precision: number };
  activations: {
    quantized: { name: string; m: number; f: number };
    clamped: { name: string; threshold: number; max_value: number | null }[];
    noisy_softplus: { name: string; k: number; sigma: number };
    get_custom_activation: Record<string, { is_string: boolean; activation_str: string; name: string }>;
  };
  custom_dicts: {
    assemble: { inputs: Record<string, unknown>[]; merged: Record<string, unknown>; keys: string[] };
    layers_from_file: Record<string, unknown>;
    file: Record<string, unknown>;
  };
  fix_input_layer_shape: { in: (number | null)[] | (number | null)[][]; out: (number | null)[] }[];
  names: {
    name: string;
    sequential: boolean;
    channels_first: boolean;
    layers: LayerSpec[];
    input_layer_name: string;
    parsed: {
      name: string;
      layer_type: string;
      inbound: string[];
      activation: string | null;
      has_parameters: boolean;
    }[];
    normalization_json: string;
    methods: {
      format_layer_idx_7: string;
      get_name_3: Record<string, string>;
      get_input_shape: number[];
      get_batch_input_shape: number[];
      inbound_layers_with_parameters: Record<string, string[]>;
      absorb_activation: Record<string, string>;
      has_weights: Record<string, boolean>;
      layers_to_skip: string[];
    };
  }[];
}
const REF: Reference = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/parsing/api_reference.json", import.meta.url)),
);

/** A TF.js model from a layer spec of the generator (snake_case Keras arguments). */
function buildModel(specs: LayerSpec[], opts: { sequential?: boolean; channelsFirst?: boolean } = {}) {
  const dataFormat = opts.channelsFirst ? "channelsFirst" : "channelsLast";
  const layers = new Map<string, tf.layers.Layer>();
  const tensors = new Map<string, tf.SymbolicTensor>();
  const make = (s: LayerSpec): tf.layers.Layer => {
    const common = { name: s.name };
    type Activation = "relu" | "softmax" | "linear";
    const act = s.activation ? { activation: s.activation as Activation } : {};
    switch (s.type) {
      case "Conv2D":
      case "Conv1D": {
        const args = {
          ...common,
          ...act,
          filters: s.filters!,
          kernelSize: s.kernel_size!,
          strides: s.strides ?? 1,
          padding: s.padding ?? "valid",
          dataFormat,
        } as const;
        return s.type === "Conv2D" ? tf.layers.conv2d(args) : tf.layers.conv1d(args);
      }
      case "DepthwiseConv2D":
        return tf.layers.depthwiseConv2d({
          ...common,
          kernelSize: s.kernel_size as [number, number],
          strides: (s.strides ?? 1) as [number, number],
          padding: s.padding ?? "valid",
          depthMultiplier: s.depth_multiplier ?? 1,
          dataFormat,
        });
      case "MaxPooling2D":
        return tf.layers.maxPooling2d({ ...common, poolSize: s.pool_size as [number, number], dataFormat });
      case "AveragePooling2D":
        return tf.layers.averagePooling2d({
          ...common,
          poolSize: s.pool_size as [number, number],
          dataFormat,
        });
      case "GlobalAveragePooling2D":
        return tf.layers.globalAveragePooling2d({ ...common, dataFormat });
      case "Flatten":
        return tf.layers.flatten(common);
      case "Dropout":
        return tf.layers.dropout({ ...common, rate: 0.5 });
      case "Dense":
        return tf.layers.dense({ ...common, ...act, units: s.units! });
      case "Concatenate":
        return tf.layers.concatenate({ ...common, axis: s.axis ?? -1 });
      case "Add":
        return tf.layers.add(common);
      case "Activation":
        return tf.layers.activation({ ...common, activation: s.activation as Activation });
      case "ReLU":
        return tf.layers.reLU(common);
      case "BatchNormalization":
        return tf.layers.batchNormalization({ ...common, axis: opts.channelsFirst ? 1 : -1 });
    }
    throw new Error(`no builder for ${s.type}`);
  };
  if (opts.sequential) {
    const [input, ...rest] = specs;
    const seq = tf.sequential({ name: "seq" });
    rest.forEach((s, i) => {
      const layer = make(s);
      if (i === 0) {
        (layer as unknown as { batchInputShape: (number | null)[] }).batchInputShape = [
          null,
          ...input.shape!,
        ];
      }
      seq.add(layer);
      layers.set(s.name, layer);
    });
    return { model: seq as tf.LayersModel, layers };
  }
  for (const s of specs) {
    if (s.type === "InputLayer") {
      tensors.set(s.name, tf.input({ shape: s.shape!, name: s.name }));
      continue;
    }
    const layer = make(s);
    const ins = s.inbound!.map((n) => tensors.get(n)!);
    tensors.set(s.name, layer.apply(ins.length === 1 ? ins[0] : ins) as tf.SymbolicTensor);
    layers.set(s.name, layer);
  }
  const inputs = specs.filter((s) => s.type === "InputLayer").map((s) => tensors.get(s.name)!);
  const used = new Set(specs.flatMap((s) => s.inbound ?? []));
  const outputs = specs.filter((s) => !used.has(s.name)).map((s) => tensors.get(s.name)!);
  return { model: tf.model({ inputs, outputs }), layers };
}

function asInput(model: tf.LayersModel, channelsFirst = false): InputModel {
  return {
    model,
    library: "keras",
    path: "reference.h5",
    dataFormat: channelsFirst ? "channels_first" : "channels_last",
    metadata: {},
  };
}

const f32 = (a: Nd): Float32NDArray => ({
  data: Float32Array.from(a.data),
  shape: a.shape,
  dtype: "float32",
});

// ---- fan-in / fan-out ------------------------------------------------------------------------

for (const c of REF.fanout) {
  Deno.test(`getFanout/getFanin/hasStrideUnity vs the toolbox: ${c.name}`, () => {
    const { layers } = buildModel(c.layers);
    for (const [name, shape] of Object.entries(c.shapes)) {
      if (layers.has(name)) assertEquals(layers.get(name)!.outputShape.slice(1), shape, `${name} shape`);
    }
    for (const [name, expected] of Object.entries(c.fanout)) {
      const ours = getFanout(layers.get(name)!);
      if (typeof expected.toolbox === "number") {
        // The toolbox ignores the depth multiplier of a depthwise convolution (each neuron feeds k·m outputs).
        const multiplier = c.name.includes("multiplier 2") ? 2 : 1;
        assertEquals(ours, expected.toolbox * multiplier, `${name}: scalar fan-out`);
        continue;
      }
      assertTrue(typeof ours !== "number", `${name}: a strided convolution gives an array`);
      if (typeof ours === "number") continue;
      assertEquals(ours.shape, expected.toolbox.shape);
      // Ours is exact; where the toolbox is exact too, the two agree.
      const exact = expected.exact!;
      assertEquals(Array.from(ours.data), exact, `${name}: exact counts`);
      const tb = expected.toolbox.data;
      const wrong = tb.filter((v, i) => v !== exact[i]).length;
      tb.forEach((v, i) => {
        if (v === exact[i]) assertEquals(ours.data[i], v, `${name}[${i}]`);
      });
      console.log(
        `  ${c.name} ${name}: toolbox inexact at ${wrong} of ${tb.length} neurons (borders/same padding)`,
      );
    }
    for (const [name, expected] of Object.entries(c.fanin)) {
      const layer = layers.get(name)!;
      // The toolbox counts every input channel for a depthwise neuron, which reads one.
      const inShape = (layer.input as tf.SymbolicTensor).shape;
      const channels = layer.getClassName() === "DepthwiseConv2D" ? inShape[inShape.length - 1]! : 1;
      assertEquals(getFanin(layer), expected / channels, `${name}: fan-in`);
    }
    for (const [name, unity] of Object.entries(c.stride_unity)) {
      if (layers.has(name)) assertEquals(hasStrideUnity(layers.get(name)!), unity, `${name}: stride unity`);
    }
  });
}

Deno.test("getFanoutArray vs the toolbox's get_fanout_array: exact, equal wherever the toolbox is exact", () => {
  for (const c of REF.fanout_array) {
    const graph = REF.fanout.find((g) => g.name === c.graph)!;
    const { layers } = buildModel(graph.layers);
    const ours = getFanoutArray(layers.get(c.pre)!, layers.get(c.post)!, c.depthwise);
    assertEquals(ours.shape, c.toolbox.shape);
    assertEquals(Array.from(ours.data), c.exact, `${c.post}: exact`);
    c.toolbox.data.forEach((v, i) => {
      if (v === c.exact[i]) assertEquals(ours.data[i], v);
    });
  }
});

// ---- batch norm, padding, precision ------------------------------------------------------

Deno.test("absorbBnParameters vs the toolbox's absorb_bn_parameters (dense, conv1d/2d, depthwise, both layouts)", () => {
  for (const c of REF.absorb_bn_parameters) {
    const w = f32(c.weight);
    const ndim = w.shape.length;
    const [wBn, bBn] = absorbBnParameters(
      w,
      f32({ shape: [c.bias.length], data: c.bias }),
      Float32Array.from(c.mean),
      Float32Array.from(c.var_eps_sqrt_inv),
      Float32Array.from(c.gamma),
      Float32Array.from(c.beta),
      {
        axis: c.axis,
        imageDataFormat: c.image_data_format,
        kind: c.is_depthwise ? "depthwise" : ndim === 2 ? "dense" : "conv",
      },
    );
    assertClose(wBn.data, f32(c.weight_bn).data, { rtol: 1e-6, atol: 1e-6, msg: c.name });
    assertClose(bBn.data, Float32Array.from(c.bias_bn), { rtol: 1e-6, atol: 1e-6, msg: c.name });
  }
});

Deno.test("paddingString vs the toolbox's padding_string", async () => {
  for (const c of REF.padding_string) {
    if (c.padding === null) await assertRejects(() => paddingString(c.pad, c.pool_size), ModelFormatError);
    else assertEquals(paddingString(c.pad, c.pool_size), c.padding, JSON.stringify(c));
  }
});

Deno.test("binarize and reducePrecision vs the toolbox's (bit for bit, half to even)", () => {
  const p = REF.precision;
  const x = Float32Array.from(p.x);
  assertEquals(Array.from(binarize(x)), p.binarize.h1);
  assertEquals(Array.from(binarize(x, 0.5)), p.binarize["h0.5"]);
  for (const r of p.reduce_precision) {
    assertEquals(Array.from(reducePrecision(x, r.m, r.f)), r.out, `Q${r.m}.${r.f}`);
  }
});

Deno.test("modifyParameterPrecision vs the toolbox's modify_parameter_precision", async () => {
  const p = REF.precision;
  for (const c of p.modify) {
    const w = f32({ shape: p.w_shape, data: p.w });
    const b = f32({ shape: [p.b.length], data: p.b });
    const options = {
      binarizeWeights: c.cell.binarize_weights === "True",
      quantizeWeights: c.cell.quantize_weights === "True",
    };
    const attrs: { qmf?: [number, number]; quantizeBias?: boolean } = {};
    if (c.attributes["Qm.f"]) attrs.qmf = c.attributes["Qm.f"];
    if (c.attributes.quantize_bias !== undefined) attrs.quantizeBias = c.attributes.quantize_bias;
    if (c.error) {
      await assertRejects(
        () => Promise.resolve(modifyParameterPrecision(w, b, options, attrs)),
        ConfigError,
        /Qm\.f/,
      );
      continue;
    }
    const [w2, b2] = modifyParameterPrecision(w, b, options, attrs);
    assertEquals(Array.from(w2.data), c.weights!, c.label);
    assertEquals(Array.from(b2.data), c.biases!, c.label);
    // The toolbox pops both attributes.
    assertEquals(Object.keys(attrs), c.left, c.label);
  }
});

Deno.test("precision metric vs the toolbox's precision", () => {
  const m = REF.precision_metric;
  const yTrue = tf.tensor(m.y_true.data, m.y_true.shape);
  const yPred = tf.tensor(m.y_pred.data, m.y_pred.shape);
  const p = precision(yTrue, yPred);
  assertClose(p.dataSync(), [m.precision], { rtol: 1e-6, atol: 1e-7 });
  tf.dispose([yTrue, yPred, p]);
});

Deno.test("custom activation strings vs the toolbox's get_*_from_string and get_custom_activation", () => {
  const a = REF.activations;
  const q = getQuantizedActivationFunctionFromString("relu_Q1.15");
  assertEquals(q.name, a.quantized.name);
  assertEquals(q.spec, { kind: "quantized_relu", m: a.quantized.m, f: a.quantized.f });
  for (
    const [text, expected] of [["clamped_relu_0.1_6", a.clamped[0]], [
      "clamped_relu_0.25_None",
      a.clamped[1],
    ]] as const
  ) {
    const c = getClampedReluFromString(text);
    assertEquals(c.name, expected.name);
    assertEquals(c.spec, {
      kind: "clamped_relu",
      threshold: expected.threshold,
      maxValue: expected.max_value,
    });
  }
  const n = getNoisySoftplusFromString("noisy_softplus_0.17_1");
  assertEquals(n.name, a.noisy_softplus.name);
  assertEquals(n.spec, { kind: "noisy_softplus", k: a.noisy_softplus.k, sigma: a.noisy_softplus.sigma });
  for (const [text, expected] of Object.entries(a.get_custom_activation)) {
    const { activation, activationStr } = getCustomActivation(text);
    assertEquals(activationStr, expected.activation_str);
    // The toolbox looks for 'NoisySoftplus' in the string, which its own names never contain: it
    // leaves `noisy_softplus_<k>_<sigma>` unresolved; we resolve it.
    const resolved = text.startsWith("noisy_softplus") ? false : expected.is_string;
    assertEquals(typeof activation === "string", resolved, text);
    assertEquals(typeof activation === "string" ? activation : activation.name, expected.name, text);
  }
});

Deno.test("assembleCustomDict and getCustomLayersDict(file) vs the toolbox's", async () => {
  const c = REF.custom_dicts;
  const wrap = (d: Record<string, unknown>): CustomObjectsDict =>
    Object.fromEntries(Object.entries(d).map(([k, value]) => [k, { kind: "value" as const, value }]));
  const merged = assembleCustomDict(...c.assemble.inputs.map(wrap));
  assertEquals(Object.keys(merged), c.assemble.keys);
  assertEquals(merged, wrap(c.assemble.merged));
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(c.file));
    const layers = getCustomLayersDict(file);
    for (const [k, v] of Object.entries(c.layers_from_file)) {
      assertEquals(layers[k], { kind: "value", value: v });
    }
    // Our pruned layers are built in (the toolbox lists them when keras_rewiring is installed).
    assertEquals(layers.Sparse, { kind: "layer", className: "Sparse" });
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("fixInputLayerShape vs the toolbox's fix_input_layer_shape", () => {
  for (const c of REF.fix_input_layer_shape) assertEquals(fixInputLayerShape(c.in), c.out);
});

// ---- names of a whole parse, and the normalization file keyed by them ------------------

/** Activation differences from the toolbox, by model and parsed layer name (see docs/porting.md). */
const ACTIVATION_DIFFERENCES: Record<string, Record<string, string | null>> = {
  // The toolbox's absorb_activation walks through the Add and gives conv_b the ReLU that follows the Add;
  // we give it to the identity-sum layer only (which the toolbox also makes relu, whatever follows).
  "residual add": { "1Conv2D_6x6x4": "linear" },
};

for (const c of REF.names) {
  Deno.test(`parsed layer names, inbound names and types equal the toolbox's: ${c.name}`, async () => {
    const { model, layers: sourceLayers } = buildModel(c.layers, {
      sequential: c.sequential,
      channelsFirst: c.channels_first,
    });
    const parser = new ModelParser(asInput(model, c.channels_first));
    const layers = parser.parse();
    assertEquals(parser.inputLayerName, c.input_layer_name);
    assertEquals(layers.map((l) => l.name), c.parsed.map((l) => l.name));
    assertEquals(layers.map((l) => l.inbound), c.parsed.map((l) => l.inbound));
    assertEquals(layers.map((l) => l.layerType as string), c.parsed.map((l) => l.layer_type));
    const diff = ACTIVATION_DIFFERENCES[c.name] ?? {};
    layers.forEach((l, i) => {
      const expected = l.name in diff ? diff[l.name] : c.parsed[i].activation;
      assertEquals(l.activation ?? null, expected, `${l.name} activation`);
    });
    assertEquals(layers.map((l) => !!l.parameters), c.parsed.map((l) => l.has_parameters));

    // The parser's per-layer methods give the toolbox's answers on the same model.
    const m = c.methods;
    assertEquals(parser.formatLayerIdx(7), m.format_layer_idx_7);
    assertEquals(parser.getInputShape(), m.get_input_shape);
    assertEquals(parser.getBatchInputShape(), m.get_batch_input_shape);
    assertTrue(m.layers_to_skip.every((t) => parser.layersToSkip.has(t)), "layersToSkip ⊇ the toolbox's");
    for (const [name, layer] of sourceLayers) {
      assertEquals(parser.getName(layer, 3), m.get_name_3[name], `${name}: getName`);
      assertEquals(parser.hasWeights(layer), m.has_weights[name], `${name}: hasWeights`);
      assertEquals(
        parser.getInboundLayersWithParameters(layer).map((l) => l.name),
        m.inbound_layers_with_parameters[name],
        `${name}: getInboundLayersWithParameters`,
      );
      if (name in m.absorb_activation) {
        const attributes: { activation?: string } = {};
        parser.absorbActivation(layer, attributes);
        assertEquals(attributes.activation, m.absorb_activation[name], `${name}: absorbActivation`);
      }
      // get_inbound_names of a layer that became one parsed layer of its own type: that layer's inbound.
      const i = parser.nameMap.get(layer);
      if (i !== undefined && layers[i].layerType === layer.getClassName()) {
        assertEquals(parser.getInboundNames(layer), c.parsed[i].inbound, `${name}: getInboundNames`);
      }
    }

    // The toolbox's normalization file for this model (keys: its input layer and parsed layer names)
    // is read back as it is: every layer finds its factor.
    const parsed = parser.buildParsedModel();
    const before = new Map(
      parsed.layers.map((l) => [l.name, l.getWeights().map((w) => w.dataSync().slice())]),
    );
    const logDir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(`${logDir}/normalization`);
      await Deno.writeTextFile(`${logDir}/normalization/99.9.json`, c.normalization_json);
      const result = await normalizeParameters(parsed, undefined, { logDir, percentile: 99.9 });
      assertTrue(result.reused, "the toolbox's file is reused");
      const factors = JSON.parse(c.normalization_json) as Record<string, number>;
      assertEquals(result.scaleFactors, factors);
      // As the toolbox's normalize_parameters: kernel × (factor of each inbound layer with parameters,
      // per input channel; the input's factor when there is none) / own factor (1 for a softmax layer).
      for (const layer of parsed.layers) {
        const w0 = before.get(layer.name);
        if (!w0 || w0.length === 0) continue;
        const own = layer.getConfig().activation === "softmax" ? 1 : factors[layer.name];
        const inbound = getInboundLayersWithParams(layer);
        const perChannel = inbound.length <= 1
          ? [factors[inbound[0]?.name ?? c.input_layer_name]]
          : inbound.flatMap((l) => new Array(l.outputShape.at(-1) as number).fill(factors[l.name]));
        const kernel = layer.getWeights()[0];
        const nIn = kernel.shape[kernel.rank - 2];
        const nOut = kernel.shape[kernel.rank - 1];
        const expected = Float32Array.from(
          w0[0],
          (v, i) => (v * perChannel[perChannel.length === 1 ? 0 : Math.floor(i / nOut) % nIn]) / own,
        );
        assertClose(kernel.dataSync(), expected, { rtol: 1e-5, atol: 1e-7, msg: layer.name });
      }
    } finally {
      await Deno.remove(logDir, { recursive: true });
    }
  });
}
