/**
 * ONNX pooling operators: MaxPool and AveragePool (1-D and 2-D, floor and
 * ceil mode, through the shared pooling lowering,
 * `lib/importers/lowering/pool.ts`), GlobalAveragePool/GlobalMaxPool, and
 * ReduceMean/ReduceMax over all spatial axes (global pooling, with or
 * without keepdims).
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { makeChannelsFirstPooling1D } from "../../layers/tfjs_fixes.ts";
import { normAxis } from "./constants.ts";
import { applyPool, planPool, pooledSize } from "../lowering/pool.ts";
import { type GraphBuilder, identity, intAttr, intsAttr, type TensorValue } from "./graph.ts";
import { nodePads } from "./ops_linear.ts";

/** MaxPool / AveragePool. */
function pool(b: GraphBuilder, method: "max" | "avg"): void {
  const x = b.plainInput(0);
  const shape = b.shapeOf(x);
  if (shape.length !== 3 && shape.length !== 4) {
    b.fail(`${b.node.opType} on a rank-${shape.length} input; expected NCW or NCHW`);
  }
  const spatial = shape.slice(2);
  if (spatial.some((d) => d === null)) b.fail(`${b.node.opType} needs static spatial dims`);
  const nsp = spatial.length;
  const kernel = intsAttr(b.node, "kernel_shape") ?? b.fail("kernel_shape missing");
  if (kernel.length !== nsp) b.fail(`kernel_shape [${kernel}] for ${nsp} spatial dims`);
  const strides = intsAttr(b.node, "strides") ?? new Array<number>(nsp).fill(1);
  const dil = intsAttr(b.node, "dilations") ?? new Array<number>(nsp).fill(1);
  if (dil.some((d) => d !== 1)) b.fail(`pooling dilations [${dil}]; expected 1`);
  const ceil = intAttr(b.node, "ceil_mode", 0) !== 0;
  const size = spatial as number[];
  const pads = nodePads(b, size, kernel, strides, dil);
  const countIncludePad = method === "avg" && intAttr(b.node, "count_include_pad", 0) === 1;
  const spec = {
    method,
    inputSize: size,
    kernel,
    strides,
    pads,
    outputSize: size.map((n, i) => pooledSize(n, kernel[i], strides[i], pads[i][0], pads[i][1], ceil)),
    padsAreZeros: countIncludePad,
    nonNegative: x.nonNegative,
  };
  if (spec.outputSize.some((o) => o < 1)) b.fail(`kernel_shape [${kernel}] does not fit the input [${size}]`);
  const plan = planPool(spec);
  if (!plan.exact) {
    const what = method === "max"
      ? "an input that may be negative (zero padding would change the max)"
      : `count_include_pad=${countIncludePad ? 1 : 0} (TF.js cannot average over these windows)`;
    b.fail(`${b.node.opType} pads [${pads.flat()}]${ceil ? " in ceil mode" : ""} on ${what}`);
  }
  const sym = applyPool(plan, spec, x.sym, {
    name: b.layerName(),
    padName: () => b.name(`${b.node.name}_pad`),
  });
  b.tensorOut(sym, x.nonNegative);
}

/** MaxPool. */
export function maxPool(b: GraphBuilder): void {
  pool(b, "max");
}

/** AveragePool. */
export function averagePool(b: GraphBuilder): void {
  pool(b, "avg");
}

/** Pool `x` (NCW/NCHW) over all its spatial axes; the output keeps `keep` trailing size-1 dims. */
function globalPool(b: GraphBuilder, x: TensorValue, method: "max" | "avg", keep: boolean): void {
  const rank = b.shapeOf(x).length;
  const name = b.layerName();
  let layer: tf.layers.Layer;
  if (rank === 4) {
    const args = { dataFormat: "channelsFirst" as const, name };
    layer = method === "max" ? tf.layers.globalMaxPooling2d(args) : tf.layers.globalAveragePooling2d(args);
  } else if (rank === 3) {
    layer = makeChannelsFirstPooling1D(method === "max" ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D", {
      name,
    });
  } else b.fail(`global pooling of a rank-${rank} input; expected NCW or NCHW`);
  b.tensorOut(b.apply(layer, x), x.nonNegative, keep ? rank - 2 : 0);
}

/** GlobalAveragePool. */
export function globalAveragePool(b: GraphBuilder): void {
  globalPool(b, b.plainInput(0), "avg", true);
}

/** GlobalMaxPool. */
export function globalMaxPool(b: GraphBuilder): void {
  globalPool(b, b.plainInput(0), "max", true);
}

/** ReduceMean/ReduceMax over every spatial axis: global pooling. */
function reduce(b: GraphBuilder, method: "max" | "avg"): void {
  const x = b.plainInput(0);
  const shape = b.shapeOf(x);
  const rank = shape.length;
  // Opset 18 moved `axes` from an attribute to input 1.
  const axesIn = b.opset >= 18 ? b.optionalInts(1) : intsAttr(b.node, "axes");
  const keep = intAttr(b.node, "keepdims", 1) !== 0;
  let axes: number[];
  if (axesIn === undefined || axesIn.length === 0) {
    if (b.opset >= 18 && intAttr(b.node, "noop_with_empty_axes", 0) !== 0) {
      b.out(x);
      return;
    }
    axes = identity(rank);
  } else axes = [...new Set(axesIn.map((a) => normAxis(a, rank, "axis")))].sort((p, q) => p - q);
  const spatial = identity(rank).slice(2);
  if (rank >= 3 && axes.length === spatial.length && axes.every((a, i) => a === spatial[i])) {
    globalPool(b, x, method, keep);
  } else if (keep && axes.every((a) => shape[a] === 1)) {
    b.out(x); // axes of size 1 reduce to themselves
  } else {
    b.fail(
      `${b.node.opType} over axes [${axesIn ?? "all"}] of a rank-${rank} input; ` +
        `only all spatial axes (global pooling) are supported`,
    );
  }
}

/** ReduceMean. */
export function reduceMean(b: GraphBuilder): void {
  reduce(b, "avg");
}

/** ReduceMax. */
export function reduceMax(b: GraphBuilder): void {
  reduce(b, "max");
}
