/**
 * The synaptic operation of each layer type of a parsed (channels-last)
 * model, as plain TF.js ops: what a layer of spiking neurons receives as
 * input current from the spikes of the layers before it, and how many
 * synapses each of its input neurons has into it (to count operations).
 *
 * Spiking layers (integrate-and-fire neurons on their output): Dense,
 * Conv1D, Conv2D, DepthwiseConv2D, Conv2DTranspose, UpSampling2D,
 * AveragePooling2D, MaxPooling2D. Pass-through layers (no neurons): Flatten,
 * Reshape, ZeroPadding2D, Concatenate, Dropout, and an Activation layer left
 * in the parsed model (its input's spikes pass unchanged).
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { UnsupportedLayerError } from "../errors.ts";
import { gatedMaxPool, type PoolGeometry } from "./maxpool.ts";
import {
  type AxisWindow,
  constantFanout,
  cropPadding,
  PASS_THROUGH_LAYER_TYPES,
  spatialFanout,
  SPIKING_LAYER_TYPES,
  splitConcat,
  transposeCounts,
  windowFanout,
} from "../parsing/fanout.ts";

export { PASS_THROUGH_LAYER_TYPES, SPIKING_LAYER_TYPES };

/** How one layer turns its inputs into its output (currents for spiking layers). */
export interface LayerOp {
  /** Layer name. */
  name: string;
  /** Layer class name. */
  type: string;
  /** Whether the layer has integrate-and-fire neurons. */
  spiking: boolean;
  /** Activation string of the layer's config (`linear` when absent). */
  activation: string;
  /** Output shape without the batch dimension. */
  shape: number[];
  /** Whether the op is a spiking max-pool (needs the accumulated input as gate). */
  gatedMaxPool: boolean;
  /** Input current (spiking) or output (pass-through); `gate` is the accumulated input of a spiking max-pool. */
  apply(inputs: tf.Tensor[], gate?: tf.Tensor): tf.Tensor;
  /**
   * Spiking layers: number of synapses from each input neuron into this layer
   * (one array per input, flat, input shape). Pass-through layers: map the
   * fan-out of the output neurons back onto each input.
   */
  fanout(inputShapes: number[][], outFanout: Float32Array): Float32Array[];
  /** Number of multiply-accumulates of one forward pass of the ANN layer (0 for layers without weights). */
  macs: number;
  /** Number of neurons of the layer that have a non-zero bias. */
  neuronsWithBias: number;
  /** Tensors this op owns (weights); disposed with the network. */
  owned: tf.Tensor[];
}

type Config = Record<string, unknown>;

function nums(v: unknown, n: number, fallback: number): number[] {
  if (typeof v === "number") return new Array(n).fill(v);
  if (Array.isArray(v)) return v.map(Number);
  return new Array(n).fill(fallback);
}

function padding(cfg: Config, layer: string): "valid" | "same" {
  const p = String(cfg.padding ?? "valid");
  if (p !== "valid" && p !== "same") {
    throw new UnsupportedLayerError(
      `layer '${layer}': padding '${p}' cannot be simulated (expected 'valid' or 'same')`,
    );
  }
  return p;
}

function checkChannelsLast(cfg: Config, layer: string): void {
  const f = cfg.dataFormat;
  if (f !== undefined && f !== null && f !== "channels_last" && f !== "channelsLast") {
    throw new UnsupportedLayerError(
      `layer '${layer}': data format '${f}' cannot be simulated; the parsed model must be channels_last`,
    );
  }
}

function shapeOf(layer: tf.layers.Layer): number[] {
  const s = layer.outputShape as (number | null)[];
  return s.slice(1).map((d) => d ?? 1);
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Average pooling of a float32 `[batch, h, w, c]` tensor: the backend's
 * `AvgPool` kernel, as `tf.avgPool` runs it but without the op's final cast
 * to the input's dtype (float32 already; on WASM that cast is a copy).
 */
function avgPool(x: tf.Tensor, geo: PoolGeometry): tf.Tensor {
  return tf.engine().runKernel(
    tf.AvgPool,
    { x } as unknown as tf.NamedTensorMap,
    { filterSize: geo.poolSize, strides: geo.strides, pad: geo.padding } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor;
}

/** Build the op of `layer`; biases are multiplied by `dt` (the input current per time step). */
export function layerOp(layer: tf.layers.Layer, dt: number, max2avgPool: boolean): LayerOp {
  const type = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  const name = layer.name;
  const act = typeof cfg.activation === "string" ? cfg.activation : "linear";
  const shape = shapeOf(layer);
  const base = {
    name,
    type,
    activation: act,
    shape,
    gatedMaxPool: false,
    macs: 0,
    neuronsWithBias: 0,
    owned: [],
  };
  checkChannelsLast(cfg, name);
  const identity = (_: number[][], out: Float32Array) => [out];
  switch (type) {
    case "Dense":
    case "Conv1D":
    case "Conv2D":
    case "DepthwiseConv2D":
    case "Conv2DTranspose":
      return { ...base, spiking: true, ...parametricOp(layer, type, cfg, dt) };
    case "AveragePooling2D":
    case "MaxPooling2D": {
      const geo: PoolGeometry = {
        poolSize: nums(cfg.poolSize, 2, 2) as [number, number],
        strides: nums(cfg.strides ?? cfg.poolSize, 2, 2) as [number, number],
        padding: padding(cfg, name),
      };
      const windows = [0, 1].map((a) => ({
        k: geo.poolSize[a],
        s: geo.strides[a],
        d: 1,
        padding: geo.padding,
      }));
      const avg = type === "AveragePooling2D" || max2avgPool;
      return {
        ...base,
        spiking: true,
        gatedMaxPool: !avg,
        apply: avg
          ? ([x]) => avgPool(x, geo)
          : ([x], gate) => gatedMaxPool(x as tf.Tensor4D, gate as tf.Tensor4D, geo),
        fanout: ([inShape]) => [windowFanout(inShape, shape, windows, 1)],
      };
    }
    case "UpSampling2D": {
      const size = nums(cfg.size, 2, 2);
      if ((cfg.interpolation ?? "nearest") !== "nearest") {
        throw new UnsupportedLayerError(
          `layer '${name}': UpSampling2D interpolation '${cfg.interpolation}' cannot be simulated (expected 'nearest')`,
        );
      }
      return {
        ...base,
        spiking: true,
        apply: ([x]) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [shape[0], shape[1]]),
        fanout: ([inShape]) => [constantFanout(inShape, size[0] * size[1])],
      };
    }
    case "Flatten":
      return { ...base, spiking: false, apply: ([x]) => tf.reshape(x, [x.shape[0], -1]), fanout: identity };
    case "Reshape": {
      // TF.js keeps a -1 of `targetShape` as null (also in the output shape): infer it from the input size.
      const target = (Array.isArray(cfg.targetShape) ? cfg.targetShape : []).map((
        d,
      ) => (d === null ? -1 : Number(d)));
      const inSize = sizeOf((layer.input as tf.SymbolicTensor).shape.slice(1).map((d) => d ?? 1));
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const resolved = target.map((d) => (d === -1 ? inSize / known : d));
      return {
        ...base,
        shape: resolved,
        spiking: false,
        apply: ([x]) => tf.reshape(x, [x.shape[0], ...resolved]),
        fanout: identity,
      };
    }
    case "Dropout":
    // An Activation layer the parser could not absorb (e.g. a softmax after a Reshape) passes the spikes on:
    // the spiking layer before it is the output, and a monotonic activation keeps its spike-count ranking.
    case "Activation":
      return { ...base, spiking: false, apply: ([x]) => x, fanout: identity };
    case "ZeroPadding2D": {
      const p = cfg.padding;
      const pads: [number, number][] = Array.isArray(p) && Array.isArray(p[0])
        ? (p as number[][]).map((q) => [Number(q[0]), Number(q[1])] as [number, number])
        : nums(p, 2, 1).map((q) => [q, q] as [number, number]);
      return {
        ...base,
        spiking: false,
        apply: ([x]) => tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]]),
        fanout: ([inShape], out) => [cropPadding(out, inShape, pads[0][0], pads[1][0], shape[1])],
      };
    }
    case "Concatenate": {
      const axis = Number(cfg.axis ?? -1);
      return {
        ...base,
        spiking: false,
        apply: (xs) => tf.concat(xs, axis),
        fanout: (inShapes, out) => splitConcat(out, inShapes, axis),
      };
    }
  }
  throw new UnsupportedLayerError(
    `layer '${name}' of type ${type} cannot be simulated; supported: ${
      [...SPIKING_LAYER_TYPES, ...PASS_THROUGH_LAYER_TYPES].join(", ")
    } (the parsed model must not contain ${type})`,
  );
}

type ParametricParts = Pick<LayerOp, "apply" | "fanout" | "macs" | "neuronsWithBias" | "owned">;

function parametricOp(layer: tf.layers.Layer, type: string, cfg: Config, dt: number): ParametricParts {
  const name = layer.name;
  const weights = layer.getWeights();
  const kernel = tf.keep(weights[0].clone());
  const biasVals = weights.length > 1 ? weights[1].dataSync() : undefined;
  const bias = biasVals ? tf.keep(tf.mul(weights[1], dt)) : undefined;
  const owned = [kernel, ...(bias ? [bias] : [])];
  const shape = shapeOf(layer);
  const neuronsWithBias = biasVals && biasVals.some((v) => v !== 0) ? sizeOf(shape) : 0;
  const inShape = (layer.input as tf.SymbolicTensor).shape.slice(1).map((d) => d ?? 1);
  const ks = kernel.shape as number[];
  const spatial = inShape.length - 1;
  const strides = nums(cfg.strides, spatial, 1);
  const dil = nums(cfg.dilationRate, spatial, 1);
  const pad = type === "Dense" ? "valid" : padding(cfg, name);
  const windows: AxisWindow[] = strides.map((s, a) => ({ k: ks[a], s, d: dil[a], padding: pad }));
  // The synaptic op with the bias added, fused into one kernel where TF.js has one.
  let apply: (x: tf.Tensor) => tf.Tensor;
  const plusBias = (y: tf.Tensor) => (bias ? tf.add(y, bias) : y);
  let fan: Float32Array;
  switch (type) {
    case "Dense": {
      apply = (x) => {
        const flat = x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1]]);
        const y = tf.fused.matMul({ a: flat as tf.Tensor2D, b: kernel as tf.Tensor2D, bias });
        return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), ks[1]]);
      };
      fan = constantFanout(inShape, ks[1]);
      break;
    }
    case "Conv1D":
      apply = (x) =>
        plusBias(tf.conv1d(x as tf.Tensor3D, kernel as tf.Tensor3D, strides[0], pad, "NWC", dil[0]));
      fan = windowFanout(inShape, shape, windows, ks[2]);
      break;
    case "Conv2D":
      apply = (x) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: kernel as tf.Tensor4D,
          strides: strides as [number, number],
          pad,
          dataFormat: "NHWC",
          dilations: dil as [number, number],
          bias,
        });
      fan = windowFanout(inShape, shape, windows, ks[3]);
      break;
    case "DepthwiseConv2D":
      apply = (x) =>
        tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: kernel as tf.Tensor4D,
          strides: strides as [number, number],
          pad,
          dataFormat: "NHWC",
          dilations: dil as [number, number],
          bias,
        });
      fan = windowFanout(inShape, shape, windows, ks[3]);
      break;
    case "Conv2DTranspose": {
      apply = (x) =>
        plusBias(tf.conv2dTranspose(
          x as tf.Tensor4D,
          kernel as tf.Tensor4D,
          [x.shape[0], shape[0], shape[1], shape[2]],
          strides as [number, number],
          pad,
        ));
      const axes = windows.map((w, a) => transposeCounts(inShape[a], shape[a], w));
      fan = spatialFanout(axes, inShape[inShape.length - 1], ks[2]);
      break;
    }
    default:
      throw new UnsupportedLayerError(`layer '${name}' of type ${type} has no synaptic op`);
  }
  // Exact MACs of the ANN layer: its number of connections.
  const macs = fan.reduce((a, b) => a + b, 0);
  return {
    apply: ([x]) => apply(x),
    fanout: () => [fan],
    macs,
    neuronsWithBias,
    owned,
  };
}
