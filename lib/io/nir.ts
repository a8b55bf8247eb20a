/**
 * NIR (Neuromorphic Intermediate Representation, neuromorphs/NIR) graphs as
 * plain records, and their HDF5 files laid out as the reference
 * implementation's `nir.write` writes them and `nir.read` reads them:
 *
 * ```text
 * /version                   NIR version, variable-length UTF-8 string
 * /node/type                 "NIRGraph"
 * /node/nodes/<name>/type    node type ("Conv2d", "IF", ...), string
 * /node/nodes/<name>/<field> one dataset per field (snake_case names)
 * /node/nodes/<name>/metadata/...  optional, only when not empty
 * /node/edges                (E, 2) strings: [source, target] per edge
 * /node/metadata/...         optional graph metadata
 * ```
 *
 * Dtypes as numpy gives them to h5py: weights and neuron parameters keep
 * their dtype (float32 here), gzip-compressed; shapes, kernel sizes and
 * pooling strides/paddings are int64 arrays (gzip); a convolution's stride,
 * padding, dilation and input shape are int64 tuples (uncompressed);
 * `groups`, `start_dim`, `end_dim` are int64 scalars. One difference h5wasm
 * imposes: variable-length strings are stored space-padded where h5py writes
 * them null-terminated (same UTF-8 character set; readers see the same text).
 *
 * Tensors are channels-first without the batch dimension, as NIR defines
 * them: an image is `[C, H, W]`, a Conv2d weight `[C_out, C_in, kH, kW]`, an
 * Affine weight `[out, in]`.
 *
 * This module holds the node types; `./nir_write.ts` writes a graph
 * ({@linkcode writeNir}), `./nir_read.ts` reads one ({@linkcode readNir}).
 *
 * @module
 */
import type { NDArray } from "./ndarray.ts";

/** The NIR version written to `/version` (the reference release whose layout this follows). */
export const NIR_VERSION = "1.0.7";

/** A metadata value: text, a float64 (`number`) or int64 (`bigint`) scalar, an array, or a nested dictionary. */
export type NirMetadataValue = string | number | bigint | NDArray | string[] | NirMetadata;

/** Metadata of a node or graph. NIR backends must not rely on it. */
export interface NirMetadata {
  /** Entry by name. */
  [key: string]: NirMetadataValue;
}

/** Fields every node may carry. */
export interface NirNodeBase {
  /** Optional metadata (written only when not empty). */
  metadata?: NirMetadata;
}

/** A graph input: data of `shape` enters here. */
export interface NirInput extends NirNodeBase {
  /** Node type. */
  type: "Input";
  /** Shape of the input, channels first, without batch. */
  shape: number[];
}

/** A graph output. */
export interface NirOutput extends NirNodeBase {
  /** Node type. */
  type: "Output";
  /** Shape of the output. */
  shape: number[];
}

/** `y = W x + b`. */
export interface NirAffine extends NirNodeBase {
  /** Node type. */
  type: "Affine";
  /** `[out, in]`. */
  weight: NDArray;
  /** `[out]`. */
  bias: NDArray;
}

/** `y = W x`. */
export interface NirLinear extends NirNodeBase {
  /** Node type. */
  type: "Linear";
  /** `[out, in]`. */
  weight: NDArray;
}

/** Padding of a convolution: per-axis symmetric zero padding, or `same` / `valid`. */
export type NirPadding = number[] | "same" | "valid";

/** A 2-D convolution (cross-correlation, as PyTorch's `Conv2d`). */
export interface NirConv2d extends NirNodeBase {
  /** Node type. */
  type: "Conv2d";
  /** Spatial input shape `[H, W]` (NIR needs it to type the graph), or `null` when not stated. */
  inputShape: [number, number] | null;
  /** `[C_out, C_in / groups, kH, kW]`. */
  weight: NDArray;
  /** `[sH, sW]`. */
  stride: [number, number];
  /** Symmetric zero padding `[pH, pW]`, or `same` / `valid`. */
  padding: [number, number] | "same" | "valid";
  /** `[dH, dW]`. */
  dilation: [number, number];
  /** Groups. */
  groups: number;
  /** `[C_out]`. */
  bias: NDArray;
}

/** A 1-D convolution. */
export interface NirConv1d extends NirNodeBase {
  /** Node type. */
  type: "Conv1d";
  /** Input length, or `null` when not stated. */
  inputShape: number | null;
  /** `[C_out, C_in / groups, k]`. */
  weight: NDArray;
  /** Stride. */
  stride: number;
  /** Symmetric zero padding, or `same` / `valid`. */
  padding: number | "same" | "valid";
  /** Dilation. */
  dilation: number;
  /** Groups. */
  groups: number;
  /** `[C_out]`. */
  bias: NDArray;
}

/** 2-D sum or average pooling (average: sum pooling scaled by one over the window size). */
export interface NirPool2d extends NirNodeBase {
  /** Node type. */
  type: "SumPool2d" | "AvgPool2d";
  /** `[kH, kW]`. */
  kernelSize: [number, number];
  /** `[sH, sW]`. */
  stride: [number, number];
  /** Symmetric zero padding `[pH, pW]`. */
  padding: [number, number];
}

/** Flatten dimensions `startDim..endDim` (inclusive; no batch dimension) of the input. */
export interface NirFlatten extends NirNodeBase {
  /** Node type. */
  type: "Flatten";
  /** Input shape, or `null` when not stated. */
  inputType: number[] | null;
  /** First dimension flattened. */
  startDim: number;
  /** Last dimension flattened (-1: the last). */
  endDim: number;
}

/**
 * Integrate-and-fire neurons: `dv/dt = R I`; a spike (output 1) where
 * `v > v_threshold`, after which `v = v_reset`.
 */
export interface NirIF extends NirNodeBase {
  /** Node type. */
  type: "IF";
  /** Resistance `R`, one per neuron. */
  r: NDArray;
  /** Firing threshold, one per neuron. */
  vThreshold: NDArray;
  /** Potential after a spike, one per neuron. */
  vReset: NDArray;
}

/** Element-wise scaling `y = s ⊙ x`. */
export interface NirScale extends NirNodeBase {
  /** Node type. */
  type: "Scale";
  /** The factors, of the signal's shape. */
  scale: NDArray;
}

/** Heaviside step: 1 where `x > threshold`. */
export interface NirThreshold extends NirNodeBase {
  /** Node type. */
  type: "Threshold";
  /** Threshold per element. */
  threshold: NDArray;
}

/** NIR node types this module reads without interpreting them (their fields kept as stored). */
export const OTHER_NIR_TYPES = ["LIF", "LI", "CubaLIF", "CubaLI", "I", "Delay"] as const;

/** A node of a type listed in {@linkcode OTHER_NIR_TYPES}: kept with its fields as stored. */
export interface NirOtherNode extends NirNodeBase {
  /** Node type. */
  type: (typeof OTHER_NIR_TYPES)[number];
  /** Fields by their file name. */
  fields: Record<string, NirMetadataValue>;
}

/** A NIR graph: named nodes and directed edges; a node's inputs are summed. */
export interface NirGraph extends NirNodeBase {
  /** Node type. */
  type: "NIRGraph";
  /** Nodes by name. */
  nodes: Record<string, NirNode>;
  /** Edges `[source, target]`. */
  edges: [string, string][];
}

/** Any NIR node. */
export type NirNode =
  | NirInput
  | NirOutput
  | NirAffine
  | NirLinear
  | NirConv2d
  | NirConv1d
  | NirPool2d
  | NirFlatten
  | NirIF
  | NirScale
  | NirThreshold
  | NirOtherNode
  | NirGraph;
