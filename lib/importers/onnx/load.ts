/**
 * The ONNX input library (`[input] model_lib = onnx`): loads a `.onnx` file
 * into a runnable TensorFlow.js layers model that computes in the source's
 * NCHW layout (`dataFormat: 'channelsFirst'` layers, BatchNormalization on
 * axis 1), with the weights converted to the TF.js layouts.
 *
 * The graph is walked once in its (topological) node order by the
 * {@linkcode GraphBuilder} (`graph.ts`), each node through its operator
 * function (`ops.ts`). Values are either constants — initializers and
 * everything computed from them and from static shapes, folded on the spot
 * (so the `x.view(x.size(0), -1)` chain Shape→Gather→Unsqueeze→Concat→Reshape
 * becomes a plain flatten) — or symbolic tensors produced by TF.js layers.
 * Operators that cannot be mapped are collected and reported together in
 * one {@linkcode UnsupportedLayerError}; multiplicative gating (SiLU,
 * HardSwish, squeeze-and-excitation) with the reason it cannot be
 * rate-coded.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { applyTfjsFixes } from "../../layers/tfjs_fixes.ts";
import { requireBackend } from "../../backend/mod.ts";
import { ModelFormatError, SnnToolboxError, UnsupportedLayerError } from "../../errors.ts";
import { isFileSync } from "../../io/paths.ts";
import { type OnnxModel, readOnnxModel } from "./proto.ts";
import type { DataFormat, InputModel, LoadOptions } from "../input_model.ts";
import { GraphBuilder, intsAttr, type NodeProblem } from "./graph.ts";
import { GATING_OPERATORS, ONNX_OPERATORS } from "./ops.ts";

/** Newest default-domain opset this library knows. */
export const MAX_ONNX_OPSET = 21;

/** ONNX operators (default domain) this library maps onto TF.js layers or folds as constants. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(ONNX_OPERATORS)
  .filter((op) => !GATING_OPERATORS.includes(op))
  .sort();

/** Why multiplicative gating has no spiking equivalent (part of the error listing gating nodes). */
export const GATING_EXPLANATION =
  "multiplicative gating (SiLU/Swish x·sigmoid(x), HardSwish x·hardsigmoid(x), squeeze-and-excitation " +
  "x·sigmoid(f(x)): EfficientNet, MobileNetV3, RegNetY) multiplies one activation by another; a rate-coded " +
  "spiking neuron's rate is a weighted sum of its input rates, so a product of two rates has no spiking " +
  "equivalent and such models cannot be converted";

/** Describe the problems as the lines of one error message. */
function problemLines(model: OnnxModel, problems: NodeProblem[]): string {
  return problems.map(({ node, reason }) => {
    const domain = node.domain && node.domain !== "ai.onnx" ? `${node.domain}:` : "";
    return `  - node '${node.name}' (op_type ${domain}${node.opType}, opset ${model.opset}): ${reason}`;
  }).join("\n");
}

/** One error naming every node that cannot be converted, gating nodes first with the reason. */
function problemsError(model: OnnxModel, problems: NodeProblem[]): UnsupportedLayerError {
  const gating = problems.filter((p) => p.gating);
  const other = problems.filter((p) => !p.gating);
  const n = problems.length;
  const parts = [`${model.path}: ${n} ONNX node${n === 1 ? "" : "s"} cannot be converted:`];
  if (gating.length > 0) {
    parts.push(`${gating.length} gate one signal by another — ${GATING_EXPLANATION}:`);
    parts.push(problemLines(model, gating));
    if (other.length > 0) parts.push("other nodes:");
  }
  if (other.length > 0) parts.push(problemLines(model, other));
  parts.push(`supported operators: ${SUPPORTED_ONNX_OPS.join(", ")}`);
  return new UnsupportedLayerError(parts.join("\n"), { file: model.path });
}

/** Shape of a graph input without the batch dim, from the file or `options.inputShape`. */
function inputShapeOf(model: OnnxModel, index: number, options: LoadOptions): number[] {
  const info = model.inputs[index];
  const fromFile = info.shape?.slice(1);
  if (fromFile && fromFile.every((d) => d !== null && d > 0)) return fromFile as number[];
  if (options.inputShape && index === 0) return [...options.inputShape];
  throw new ModelFormatError(
    `${model.path}: graph input '${info.name}' has shape [${
      info.shape?.map((d) => d ?? "?").join(", ") ?? "unknown"
    }]; give the input shape without the batch dim (LoadOptions.inputShape)`,
    { file: model.path },
  );
}

/** Whether the first graph input is transposed NHWC→NCHW right away (Keras models converted to ONNX). */
function inputIsChannelsLast(model: OnnxModel): boolean {
  const name = model.inputs[0]?.name;
  const users = model.nodes.filter((n) => n.inputs.includes(name));
  return users.length > 0 && users.every((n) => {
    const perm = n.opType === "Transpose" ? intsAttr(n, "perm") : undefined;
    return perm !== undefined && perm.join(",") === "0,3,1,2";
  });
}

/**
 * Build the runnable TF.js model of a decoded ONNX graph (NCHW layout).
 * Throws {@linkcode UnsupportedLayerError} listing every node that cannot be
 * mapped, {@linkcode ModelFormatError} for inconsistent graphs.
 */
export function buildOnnxInputModel(model: OnnxModel, options: LoadOptions = {}): InputModel {
  if (model.opset > MAX_ONNX_OPSET) {
    throw new ModelFormatError(
      `${model.path}: default-domain opset ${model.opset} is newer than the newest supported (${MAX_ONNX_OPSET})`,
      { file: model.path },
    );
  }
  if (model.inputs.length === 0) {
    throw new ModelFormatError(`${model.path}: the graph has no inputs`, { file: model.path });
  }
  const b = new GraphBuilder(model);
  const first = model.inputs[0].shape?.[0];
  b.staticBatch = typeof first === "number" ? first : null;
  const inputs: tf.SymbolicTensor[] = model.inputs.map((info, i) => {
    const sym = tf.input({ shape: inputShapeOf(model, i, options), name: b.name(info.name || `input_${i}`) });
    b.values.set(info.name, { kind: "tensor", sym, ones: 0, nonNegative: false });
    return sym;
  });
  b.run(ONNX_OPERATORS);
  const outputs: tf.SymbolicTensor[] = [];
  for (const o of model.outputs) {
    const v = b.values.get(o.name);
    if (v?.kind === "tensor") {
      b.node = { name: o.name, opType: "Output", domain: "", inputs: [], outputs: [], attributes: new Map() };
      outputs.push(b.materialize(v).sym);
    } else if (v === undefined || v.kind === "const") {
      throw new ModelFormatError(
        `${model.path}: graph output '${o.name}' is ${v ? "a constant" : "never produced"}`,
        {
          file: model.path,
        },
      );
    }
  }
  if (b.problems.length > 0) throw problemsError(model, b.problems);
  let tfModel: tf.LayersModel;
  try {
    tfModel = tf.model({ inputs, outputs, name: "onnx_model" });
    applyTfjsFixes(tfModel); // BN on axis 1, channelsFirst Conv1D
    for (const rec of b.records.values()) {
      const ts = rec.weights.map((w) => tf.tensor(w.data, w.shape, "float32"));
      rec.layer.setWeights(ts);
      tf.dispose(ts);
    }
  } catch (err) {
    if (err instanceof SnnToolboxError) throw err;
    throw new ModelFormatError(
      `${model.path}: the converted graph cannot be built as a TF.js model (${
        err instanceof Error ? err.message : err
      })`,
      { file: model.path, cause: err },
    );
  }
  const dataFormat: DataFormat = inputIsChannelsLast(model) ? "channels_last" : "channels_first";
  return {
    model: tfModel,
    library: "onnx",
    path: model.path,
    dataFormat,
    metadata: {
      producer: model.producer,
      ir_version: String(model.irVersion),
      opset: String(model.opset),
      ...(b.notes.length ? { notes: b.notes.join("; ") } : {}),
    },
  };
}

/** `path` when it exists, else `path + ".onnx"` when that exists (the toolbox's `filename_ann` has no extension). */
export function resolveOnnxPath(path: string): string {
  return !isFileSync(path) && !path.toLowerCase().endsWith(".onnx") && isFileSync(`${path}.onnx`)
    ? `${path}.onnx`
    : path;
}

/**
 * Load a `.onnx` file as the toolbox's input model (a TF.js layers model
 * taking NCHW input like the source).
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend/mod.ts";
 * import { loadOnnxModel } from "./load.ts";
 * await initBackend();
 * const { model } = await loadOnnxModel("testdata/demo/mnist_torch.onnx");
 * model.summary();
 * ```
 */
export async function loadOnnxModel(path: string, options: LoadOptions = {}): Promise<InputModel> {
  const decoded = await readOnnxModel(resolveOnnxPath(path));
  requireBackend(decoded.path);
  return buildOnnxInputModel(decoded, options);
}
