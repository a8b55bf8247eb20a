/**
 * Caffe's own layer geometry and output-shape rules, independent of any
 * runtime: convolution and pooling settings as Caffe resolves them
 * (scalar or `_h`/`_w` forms, defaults, global pooling), pooling output
 * sizes with Caffe's ceil mode, and blob shapes through a whole net.
 *
 * @module
 */
import { ModelFormatError, UnsupportedLayerError } from "../../errors.ts";
import { bool, message, num, numbers, type PbMessage, str } from "./message.ts";
import type { CaffeLayer, CaffeNet } from "./net.ts";

/** Convolution settings of a Caffe layer, resolved to per-dimension `[h, w]` pairs. */
export interface ConvGeometry {
  /** Number of output channels. */
  numOutput: number;
  /** Kernel size. */
  kernel: [number, number];
  /** Stride. */
  stride: [number, number];
  /** Zero padding on each side. */
  pad: [number, number];
  /** Dilation. */
  dilation: [number, number];
  /** Number of groups. */
  group: number;
  /** Whether there is a bias blob. */
  biasTerm: boolean;
}

/** Pooling settings of a Caffe layer, resolved for a given input size. */
export interface PoolGeometry {
  /** `MAX` or `AVE` (Caffe's STOCHASTIC is not supported). */
  method: "MAX" | "AVE";
  /** Window size (the whole input for global pooling). */
  kernel: [number, number];
  /** Stride. */
  stride: [number, number];
  /** Padding on each side. */
  pad: [number, number];
  /** `global_pooling: true`. */
  global: boolean;
}

/** Layer types that only feed data into the net (their first top is a net input). */
export const DATA_LAYER_TYPES: ReadonlySet<string> = new Set([
  "Input",
  "Data",
  "ImageData",
  "HDF5Data",
  "MemoryData",
  "WindowData",
  "DummyData",
  "AnnotatedData",
]);

/** Whether a layer type has no role in inference (losses, accuracy, silence). */
export function isTrainingOnlyType(type: string): boolean {
  return type === "Accuracy" || type === "Silence" || type.endsWith("Loss") || type === "HDF5Output";
}

/** Layer types whose output has the shape of their (first) input. */
const SHAPE_PRESERVING = new Set([
  "ReLU",
  "Sigmoid",
  "TanH",
  "Dropout",
  "BatchNorm",
  "Scale",
  "Bias",
  "LRN",
  "Power",
  "AbsVal",
  "BNLL",
  "ELU",
  "PReLU",
  "Exp",
  "Log",
  "MVN",
  "Threshold",
  "Softmax",
  "Eltwise",
]);

function pair(
  p: PbMessage | undefined,
  list: string,
  h: string,
  w: string,
  fallback: number,
  layer: string,
): [number, number] {
  const hv = num(p, h);
  const wv = num(p, w);
  if (hv !== undefined || wv !== undefined) {
    if (hv === undefined || wv === undefined) {
      throw new ModelFormatError(`Caffe layer '${layer}': ${h} and ${w} must be given together`);
    }
    return [hv, wv];
  }
  const vals = numbers(p, list);
  if (vals.length === 0) return [fallback, fallback];
  if (vals.length === 1) return [vals[0], vals[0]];
  if (vals.length === 2) return [vals[0], vals[1]];
  throw new UnsupportedLayerError(
    `Caffe layer '${layer}': ${vals.length} values for ${list}; only 2-D (one or two values) is supported`,
  );
}

/** Resolve the convolution settings of a Convolution layer. */
export function convGeometry(layer: CaffeLayer): ConvGeometry {
  const p = message(layer.param, "convolution_param");
  const kernel = pair(p, "kernel_size", "kernel_h", "kernel_w", 0, layer.name);
  if (kernel[0] <= 0 || kernel[1] <= 0) {
    throw new ModelFormatError(`Caffe layer '${layer.name}': convolution_param has no kernel_size`);
  }
  return {
    numOutput: num(p, "num_output", 0),
    kernel,
    stride: pair(p, "stride", "stride_h", "stride_w", 1, layer.name),
    pad: pair(p, "pad", "pad_h", "pad_w", 0, layer.name),
    dilation: pair(p, "dilation", "__none_h", "__none_w", 1, layer.name),
    group: num(p, "group", 1),
    biasTerm: bool(p, "bias_term", true),
  };
}

/** Resolve the pooling settings of a Pooling layer for an input of spatial size `hw`. */
export function poolGeometry(layer: CaffeLayer, hw: [number, number]): PoolGeometry {
  const p = message(layer.param, "pooling_param");
  const method = str(p, "pool", "MAX");
  const m = method === "0" ? "MAX" : method === "1" ? "AVE" : method;
  if (m !== "MAX" && m !== "AVE") {
    throw new UnsupportedLayerError(
      `Caffe layer '${layer.name}': pooling method ${method} is not supported; supported: MAX, AVE`,
    );
  }
  const global = bool(p, "global_pooling", false);
  if (global) return { method: m, kernel: [...hw], stride: [1, 1], pad: [0, 0], global };
  const kernel = pair(p, "kernel_size", "kernel_h", "kernel_w", 0, layer.name);
  if (kernel[0] <= 0 || kernel[1] <= 0) {
    throw new ModelFormatError(`Caffe layer '${layer.name}': pooling_param has no kernel_size`);
  }
  return {
    method: m,
    kernel,
    stride: pair(p, "stride", "stride_h", "stride_w", 1, layer.name),
    pad: pair(p, "pad", "pad_h", "pad_w", 0, layer.name),
    global,
  };
}

/** Caffe's pooling output size: ceil mode, with the last window starting inside the padded input. */
export function caffePoolOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  let out = Math.ceil((size + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** Convolution output size (floor mode, with dilation). */
export function convOutputSize(
  size: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation = 1,
): number {
  const k = dilation * (kernel - 1) + 1;
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/** Caffe's Reshape rule on a full shape (batch included): 0 copies, -1 infers; `axis`/`num_axes` select the span. */
export function caffeReshape(layer: CaffeLayer, input: number[]): number[] {
  const p = message(layer.param, "reshape_param");
  const dims = numbers(message(p, "shape"), "dim");
  const rank = input.length;
  let axis = num(p, "axis", 0);
  if (axis < 0) axis += rank + 1;
  const numAxes = num(p, "num_axes", -1);
  const end = numAxes === -1 ? rank : axis + numAxes;
  const out = [
    ...input.slice(0, axis),
    ...dims.map((d, i) => (d === 0 ? input[axis + i] : d)),
    ...input.slice(end),
  ];
  const total = input.reduce((a, b) => a * b, 1);
  const inferred = out.indexOf(-1);
  if (inferred >= 0) {
    const known = out.reduce((a, b, i) => (i === inferred ? a : a * b), 1);
    out[inferred] = total / known;
  }
  if (out.reduce((a, b) => a * b, 1) !== total || out.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ModelFormatError(
      `Caffe layer '${layer.name}': cannot reshape [${input}] to [${dims}] (axis ${axis}, num_axes ${numAxes})`,
    );
  }
  return out;
}

/** Concatenation axis of a Concat layer (`axis`, or the deprecated `concat_dim`), in a full shape of `rank`. */
export function concatAxis(layer: CaffeLayer, rank: number): number {
  const p = message(layer.param, "concat_param");
  const axis = num(p, "axis") ?? num(p, "concat_dim", 1);
  return axis < 0 ? axis + rank : axis;
}

/**
 * The shape of every blob of `net` as Caffe computes it, batch dimension
 * excluded, from the shapes of its inputs (blob name → shape without
 * batch). Returns, for each layer, the shapes of its tops.
 */
export function inferCaffeShapes(net: CaffeNet, inputs: Map<string, number[]>): Map<string, number[][]> {
  const blobs = new Map<string, number[]>(inputs);
  const result = new Map<string, number[][]>();
  const get = (layer: CaffeLayer, name: string): number[] => {
    const s = blobs.get(name);
    if (!s) {
      throw new ModelFormatError(
        `${net.file}: layer '${layer.name}' reads blob '${name}', which no layer produces`,
        {
          file: net.file,
        },
      );
    }
    return s;
  };
  for (const layer of net.layers) {
    if (isTrainingOnlyType(layer.type)) continue;
    if (DATA_LAYER_TYPES.has(layer.type)) {
      const shapes = layer.tops.map((t) => blobs.get(t) ?? []);
      result.set(layer.name, shapes);
      continue;
    }
    const ins = layer.bottoms.map((b) => get(layer, b));
    const x = ins[0] ?? [];
    let outs: number[][];
    switch (layer.type) {
      case "Convolution": {
        const g = convGeometry(layer);
        outs = [[
          g.numOutput,
          convOutputSize(x[1], g.kernel[0], g.stride[0], g.pad[0], g.dilation[0]),
          convOutputSize(x[2], g.kernel[1], g.stride[1], g.pad[1], g.dilation[1]),
        ]];
        break;
      }
      case "Pooling": {
        const g = poolGeometry(layer, [x[1], x[2]]);
        outs = [[
          x[0],
          caffePoolOutputSize(x[1], g.kernel[0], g.stride[0], g.pad[0]),
          caffePoolOutputSize(x[2], g.kernel[1], g.stride[1], g.pad[1]),
        ]];
        break;
      }
      case "InnerProduct": {
        const p = message(layer.param, "inner_product_param");
        const axis = num(p, "axis", 1);
        const full = [1, ...x];
        const a = axis < 0 ? axis + full.length : axis;
        outs = [[...full.slice(1, a), num(p, "num_output", 0)]];
        break;
      }
      case "Concat": {
        if (ins.length === 0) {
          throw new ModelFormatError(`${net.file}: Caffe layer '${layer.name}' (Concat) has no bottom`, {
            file: net.file,
          });
        }
        const full = ins.map((s) => [1, ...s]);
        const axis = concatAxis(layer, full[0].length);
        const out = [...full[0]];
        out[axis] = full.reduce((acc, s) => acc + s[axis], 0);
        outs = [out.slice(1)];
        break;
      }
      case "Flatten": {
        const p = message(layer.param, "flatten_param");
        const full = [1, ...x];
        const a = ((num(p, "axis", 1) % full.length) + full.length) % full.length;
        const e = ((num(p, "end_axis", -1) % full.length) + full.length) % full.length;
        const mid = full.slice(a, e + 1).reduce((u, v) => u * v, 1);
        outs = [[...full.slice(0, a), mid, ...full.slice(e + 1)].slice(1)];
        break;
      }
      case "Reshape":
        outs = [caffeReshape(layer, [1, ...x]).slice(1)];
        break;
      case "Split":
        outs = layer.tops.map(() => [...x]);
        break;
      default:
        if (!SHAPE_PRESERVING.has(layer.type)) {
          throw new UnsupportedLayerError(
            `${net.file}: Caffe layer '${layer.name}' has type '${layer.type}', which has no known output shape`,
            { file: net.file },
          );
        }
        outs = [[...x]];
    }
    layer.tops.forEach((t, i) => blobs.set(t, outs[i] ?? outs[0]));
    result.set(layer.name, outs);
  }
  return result;
}
