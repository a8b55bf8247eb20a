/**
 * `snntoolbox inspect MODEL [--json]`: the input model's layers as loaded
 * (before parsing), in the source model's own layout.
 *
 * @module
 */
import { parseCommandArgs } from "./args.ts";
import type { tf } from "../../deps.ts";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "../errors.ts";
import { initBackend } from "../backend/mod.ts";
import { loadInputModel } from "../parsing/files.ts";
import { formatTable } from "./parse.ts";
import type { NirGraph, NirMetadataValue, NirNode } from "../io/nir.ts";
import { readNir } from "../io/nir_read.ts";
import type { NDArray } from "../io/ndarray.ts";
import { isNirFile } from "../pipeline/run.ts";

const USAGE = `Usage: snntoolbox inspect MODEL [--lib NAME] [--json]

List the layers of MODEL as loaded (before parsing): name, type, output
shape (source layout), parameters, activation, data format, inputs.
A NIR graph (.nir) lists its nodes (type, shape, parameters, details,
inputs), its edges and its metadata.`;

/** One layer of the input model as `inspect` reports it. */
export interface InspectedLayer {
  /** Layer name. */
  name: string;
  /** Keras class name. */
  type: string;
  /** Output shape without batch (null = undefined dimension). */
  outputShape: (number | null)[];
  /** Number of weights. */
  params: number;
  /** Activation, when the layer has one. */
  activation: string | null;
  /** `channels_first`/`channels_last` for layers that have a data format. */
  dataFormat: string | null;
  /** Names of the inbound layers. */
  inbound: string[];
}

/** Describe every layer of a TF.js layers model. */
export function inspectLayers(model: tf.LayersModel): InspectedLayer[] {
  return model.layers.map((layer) => {
    const cfg = layer.getConfig() as Record<string, unknown>;
    const shape = layer.outputShape;
    const first = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
    const df = cfg.dataFormat === "channelsFirst"
      ? "channels_first"
      : cfg.dataFormat === "channelsLast"
      ? "channels_last"
      : null;
    return {
      name: layer.name,
      type: layer.getClassName(),
      outputShape: first.slice(1),
      params: layer.countParams(),
      activation: typeof cfg.activation === "string" ? cfg.activation : null,
      dataFormat: df,
      inbound: (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => l.name),
    };
  });
}

function parseCliArgs(args: string[]) {
  return parseCommandArgs(
    "inspect",
    args,
    { lib: { type: "string" }, json: { type: "boolean", default: false } },
    USAGE,
  );
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCliArgs(args);
  if (positionals.length !== 1) throw new UsageError(`inspect: expected one MODEL file\n${USAGE}`);
  if (isNirFile(positionals[0])) return await inspectNir(positionals[0], values.json ?? false, ctx);
  await initBackend();
  const { libraryName, inputModel } = await loadInputModel(positionals[0], values.lib);
  const layers = inspectLayers(inputModel.model);
  if (values.json) {
    ctx.out(JSON.stringify({
      model: positionals[0],
      library: libraryName,
      data_format: inputModel.dataFormat,
      metadata: inputModel.metadata,
      layers: layers.map((l) => ({
        name: l.name,
        type: l.type,
        output_shape: l.outputShape,
        params: l.params,
        activation: l.activation,
        data_format: l.dataFormat,
        inbound: l.inbound,
      })),
    }));
    return 0;
  }
  if (!ctx.quiet) {
    const meta = Object.entries(inputModel.metadata).map(([k, v]) => `${k}=${v}`).join(", ");
    ctx.out(`${positionals[0]} (${libraryName}, ${inputModel.dataFormat})${meta ? `: ${meta}` : ""}`);
  }
  const total = layers.reduce((s, l) => s + l.params, 0);
  for (
    const line of formatTable(
      ["name", "type", "output shape", "params", "activation", "format", "inbound"],
      layers.map((l) => [
        l.name,
        l.type,
        l.outputShape.map((d) => d ?? "?").join("x"),
        String(l.params),
        l.activation ?? "",
        l.dataFormat ?? "",
        l.inbound.join(", "),
      ]),
    )
  ) ctx.out(line);
  if (!ctx.quiet) ctx.out(`${layers.length} layers, ${total} parameters`);
  return 0;
}

/** One node of a NIR graph as `inspect` reports it. */
export interface InspectedNirNode {
  /** Node name. */
  name: string;
  /** NIR type. */
  type: string;
  /** Output shape (NIR layout), when the node states or implies it. */
  shape: number[] | null;
  /** Number of weights and biases. */
  params: number;
  /** Kernel, stride, padding, thresholds, ... in one line. */
  details: string;
  /** Nodes with an edge into this one. */
  inbound: string[];
}

function size(a: NDArray): number {
  return a.shape.reduce((x, y) => x * y, 1);
}

/** The one value of `a`, or a range when it varies. */
function valueOf(a: NDArray): string {
  const d = Array.from(a.data as ArrayLike<number | bigint>, Number);
  if (d.length === 0) return "[]";
  const lo = Math.min(...d), hi = Math.max(...d);
  return lo === hi ? String(lo) : `${lo}..${hi}`;
}

function convOut(n: number, k: number, s: number, p: number | string, d: number): number {
  if (p === "same") return n;
  const pad = p === "valid" ? 0 : Number(p);
  return Math.floor((n + 2 * pad - d * (k - 1) - 1) / s) + 1;
}

function describeNirNode(node: NirNode): Omit<InspectedNirNode, "name" | "inbound"> {
  const x = (v: number[] | number | string) => (Array.isArray(v) ? v.join("x") : String(v));
  switch (node.type) {
    case "Input":
    case "Output":
      return { type: node.type, shape: node.shape, params: 0, details: "" };
    case "Affine":
    case "Linear":
      return {
        type: node.type,
        shape: [node.weight.shape[0]],
        params: size(node.weight) + (node.type === "Affine" ? size(node.bias) : 0),
        details: `weight ${x(node.weight.shape)}`,
      };
    case "Conv2d":
    case "Conv1d": {
      const k = node.weight.shape.slice(2);
      const arr = (v: number | number[]) => (typeof v === "number" ? k.map(() => v) : v);
      const pad = typeof node.padding === "string" ? k.map(() => node.padding as string) : arr(node.padding);
      const inShape = node.inputShape === null ? null : arr(node.inputShape);
      const shape = inShape
        ? [
          node.weight.shape[0],
          ...inShape.map((n, a) => convOut(n, k[a], arr(node.stride)[a], pad[a], arr(node.dilation)[a])),
        ]
        : null;
      return {
        type: node.type,
        shape,
        params: size(node.weight) + size(node.bias),
        details: `weight ${x(node.weight.shape)}, stride ${x(node.stride)}, padding ${x(node.padding)}, ` +
          `dilation ${x(node.dilation)}, groups ${node.groups}`,
      };
    }
    case "AvgPool2d":
    case "SumPool2d":
      return {
        type: node.type,
        shape: null,
        params: 0,
        details: `kernel ${x(node.kernelSize)}, stride ${x(node.stride)}, padding ${x(node.padding)}`,
      };
    case "Flatten":
      return {
        type: node.type,
        shape: node.inputType ? [node.inputType.reduce((a, b) => a * b, 1)] : null,
        params: 0,
        details: `dims ${node.startDim}..${node.endDim}${node.inputType ? ` of ${x(node.inputType)}` : ""}`,
      };
    case "IF":
      return {
        type: node.type,
        shape: node.r.shape,
        params: 0,
        details: `v_threshold ${valueOf(node.vThreshold)}, v_reset ${valueOf(node.vReset)}, R ${
          valueOf(node.r)
        }`,
      };
    case "Scale":
      return { type: node.type, shape: node.scale.shape, params: 0, details: `scale ${valueOf(node.scale)}` };
    case "Threshold":
      return {
        type: node.type,
        shape: node.threshold.shape,
        params: 0,
        details: `threshold ${valueOf(node.threshold)}`,
      };
    case "NIRGraph":
      return {
        type: node.type,
        shape: null,
        params: 0,
        details: `subgraph of ${Object.keys(node.nodes).length} nodes`,
      };
    default:
      return {
        type: node.type,
        shape: null,
        params: 0,
        details: `fields ${Object.keys(node.fields).join(", ")}`,
      };
  }
}

/** Describe every node of a NIR graph, inputs before the nodes they feed. */
export function inspectNirGraph(graph: NirGraph): InspectedNirNode[] {
  const names = Object.keys(graph.nodes);
  const placed = new Set<string>();
  const order: string[] = [];
  // Input-first order (edges' order among ready nodes); nodes on cycles follow in file order.
  for (let progress = true; progress;) {
    progress = false;
    for (const n of names) {
      if (placed.has(n)) continue;
      if (graph.edges.every(([a, b]) => b !== n || placed.has(a) || a === n)) {
        placed.add(n);
        order.push(n);
        progress = true;
      }
    }
  }
  order.push(...names.filter((n) => !placed.has(n)));
  return order.map((name) => ({
    name,
    ...describeNirNode(graph.nodes[name]),
    inbound: graph.edges.filter(([, b]) => b === name).map(([a]) => a),
  }));
}

function metadataText(v: NirMetadataValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return v.join(", ");
  if ("data" in v && "shape" in v) return `array ${(v as NDArray).shape.join("x")}`;
  return JSON.stringify(Object.keys(v));
}

async function inspectNir(path: string, json: boolean, ctx: CommandContext): Promise<number> {
  const { graph, version } = await readNir(path);
  const nodes = inspectNirGraph(graph);
  const metadata = Object.fromEntries(
    Object.entries(graph.metadata ?? {}).map(([k, v]) => [k, metadataText(v)]),
  );
  if (json) {
    ctx.out(JSON.stringify({
      model: path,
      format: "nir",
      version,
      metadata,
      nodes: nodes.map((n) => ({
        name: n.name,
        type: n.type,
        shape: n.shape,
        params: n.params,
        details: n.details,
        inbound: n.inbound,
      })),
      edges: graph.edges,
    }));
    return 0;
  }
  if (!ctx.quiet) {
    ctx.out(
      `${path} (NIR ${version ?? "without version"}): ${nodes.length} nodes, ${graph.edges.length} edges`,
    );
    for (const [k, v] of Object.entries(metadata)) ctx.out(`  ${k}: ${v.replaceAll("\n", "\n    ")}`);
  }
  for (
    const line of formatTable(
      ["name", "type", "shape", "params", "details", "inbound"],
      nodes.map((
        n,
      ) => [n.name, n.type, n.shape?.join("x") ?? "", String(n.params), n.details, n.inbound.join(", ")]),
    )
  ) ctx.out(line);
  if (!ctx.quiet) ctx.out(`${nodes.reduce((s, n) => s + n.params, 0)} parameters`);
  return 0;
}

/** The `inspect` command. */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "list the layers of a model as loaded (before parsing), or the nodes of a NIR graph",
  usage: USAGE,
  run,
};
