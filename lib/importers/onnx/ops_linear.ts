/**
 * ONNX operators with weights: Conv (through the shared convolution
 * lowering, `lib/importers/lowering/conv.ts`), ConvTranspose, Gemm, MatMul.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { exceedsCeiling } from "../../io/limits.ts";
import { sizeOf } from "../../io/ndarray.ts";
import { convKernelToTf, denseKernelToTf } from "../../io/layout.ts";
import { applyConv, convWeights, planConv, samePadding } from "../lowering/conv.ts";
import {
  floatAttr,
  type GraphBuilder,
  intAttr,
  intsAttr,
  isConst,
  stringAttr,
  type TensorValue,
} from "./graph.ts";

/** Weights are set from the file after building: skip the random initialisation (costly for large models). */
const NO_INIT = { kernelInitializer: "zeros", biasInitializer: "zeros" } as const;

/**
 * The zero padding `[before, after]` per spatial dim of a Conv/Pool node on
 * an input of spatial size `spatial`, from `auto_pad` or `pads`.
 */
export function nodePads(
  b: GraphBuilder,
  spatial: readonly (number | null)[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): [number, number][] {
  const autoPad = stringAttr(b.node, "auto_pad", "NOTSET");
  const n = spatial.length;
  if (autoPad === "VALID") return spatial.map(() => [0, 0]);
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    return spatial.map((s, i) => {
      const p = samePadding(s, kernel[i], strides[i], dilations[i]) ??
        b.fail(`auto_pad ${autoPad} needs static spatial dims`);
      return autoPad === "SAME_UPPER" ? p : [p[1], p[0]];
    });
  }
  if (autoPad !== "NOTSET") {
    b.fail(`auto_pad '${autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  }
  const pads = intsAttr(b.node, "pads") ?? intsAttr(b.node, "paddings") ?? [];
  const pairs = spatial.map((_, i) => [pads[i] ?? 0, pads[i + n] ?? 0] as [number, number]);
  if (pairs.some(([a, c]) => a < 0 || c < 0)) b.fail(`negative pads [${pads}]`);
  return pairs;
}

/**
 * A grouped kernel `[out, in, ...k]` read through a channel gather: the
 * kernel over the gathered tensor's own channels (`physical` of them).
 */
function gatherKernel(w: Float32Array, out: number, source: Int32Array, physical: number, ksize: number) {
  const full = new Float32Array(out * physical * ksize);
  const inC = source.length;
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inC; i++) {
      const dst = (o * physical + source[i]) * ksize;
      const src = (o * inC + i) * ksize;
      for (let k = 0; k < ksize; k++) full[dst + k] += w[src + k];
    }
  }
  return full;
}

/** Conv: 1-D/2-D, any groups, dilations, strides and pads (see the convolution lowering). */
export function conv(b: GraphBuilder): void {
  let x = b.tensorInput(0);
  const w = b.constInput(1, "weight");
  const bias = b.input(2);
  const group = intAttr(b.node, "group", 1);
  // A channel gather (ShuffleNet's split) folds into the kernel of an ungrouped convolution.
  const gather = x.channels && x.channels.dims.length === 1 && group === 1 ? x.channels : undefined;
  if (!gather) x = b.materialize(x);
  const shape = b.shapeOf(x);
  const rank = shape.length;
  if (rank !== 3 && rank !== 4) b.fail(`Conv on a rank-${rank} input; expected 1-D (NCW) or 2-D (NCHW)`);
  const nsp = rank - 2;
  const [outC, inPerGroup] = w.shape;
  const kernel = intsAttr(b.node, "kernel_shape") ?? w.shape.slice(2);
  const strides = intsAttr(b.node, "strides") ?? new Array<number>(nsp).fill(1);
  const dilations = intsAttr(b.node, "dilations") ?? new Array<number>(nsp).fill(1);
  const inC = shape[1];
  // Checked before TF.js builds the layer: it allocates the kernel from these sizes.
  if (typeof inC === "number" && inC !== inPerGroup * group) {
    b.fail(
      `weight [${w.shape.join(", ")}] expects ${inPerGroup * group} input channels ` +
        `(${inPerGroup} per group x ${group} groups), the input has ${inC}`,
    );
  }
  if (kernel.length !== nsp || kernel.some((k, i) => k !== w.shape[2 + i])) {
    b.fail(`kernel_shape [${kernel.join(", ")}] does not match the weight [${w.shape.join(", ")}]`);
  }
  if (bias !== undefined && !isConst(bias)) b.fail("bias must be a constant");
  let kernelData = Float32Array.from(w.data);
  let inChannels = inPerGroup * group;
  if (gather) {
    inChannels = x.sym.shape[1] as number;
    kernelData = gatherKernel(kernelData, outC, gather.source, inChannels, sizeOf(kernel));
  }
  const spatial = shape.slice(2);
  const plan = planConv({
    inChannels,
    outChannels: outC,
    kernel,
    strides,
    dilations,
    groups: group,
    pads: nodePads(b, spatial, kernel, strides, dilations),
    inputSize: spatial,
  }, (reason) => b.fail(reason));
  const { output, layer } = applyConv(plan, x.sym, {
    name: b.layerName(),
    padName: () => b.name(`${b.node.name}_pad`),
  });
  const biasData = bias ? Float32Array.from(bias.data) : new Float32Array(outC);
  b.tensorOut(output);
  b.record({ layer, weights: convWeights(plan, kernelData, biasData), kind: "linear", channels: outC });
}

/** ConvTranspose: 2-D, group 1, no dilation; pads and output_padding as a crop of the full output. */
export function convTranspose(b: GraphBuilder): void {
  const x = b.plainInput(0);
  const w = b.constInput(1, "weight");
  const bias = b.input(2);
  if (b.shapeOf(x).length !== 4) b.fail("ConvTranspose supported on 2-D (NCHW) inputs only");
  const [, outPerGroup, kh, kw] = w.shape;
  const group = intAttr(b.node, "group", 1);
  if (group !== 1) b.fail(`ConvTranspose with group=${group}; expected 1`);
  const kernel = intsAttr(b.node, "kernel_shape") ?? [kh, kw];
  const stride = intsAttr(b.node, "strides") ?? [1, 1];
  const dil = intsAttr(b.node, "dilations") ?? [1, 1];
  if (dil.some((d) => d !== 1)) b.fail(`ConvTranspose dilations [${dil}]; expected 1`);
  if (intsAttr(b.node, "output_shape")) b.fail("ConvTranspose output_shape attribute is not supported");
  const autoPad = stringAttr(b.node, "auto_pad", "NOTSET");
  if (autoPad !== "NOTSET" && autoPad !== "VALID") b.fail(`ConvTranspose auto_pad ${autoPad}`);
  const pads = intsAttr(b.node, "pads") ?? [0, 0, 0, 0];
  const outPad = intsAttr(b.node, "output_padding") ?? [0, 0];
  for (let i = 0; i < 2; i++) {
    if (kernel[i] < stride[i]) b.fail(`ConvTranspose kernel ${kernel[i]} smaller than stride ${stride[i]}`);
    if (outPad[i] > pads[i + 2]) b.fail(`ConvTranspose output_padding ${outPad[i]} larger than end pad`);
  }
  const layer = tf.layers.conv2dTranspose({
    filters: outPerGroup,
    kernelSize: kernel,
    strides: stride,
    padding: "valid",
    dataFormat: "channelsFirst",
    useBias: true,
    ...NO_INIT,
    name: b.layerName(),
  });
  let sym = b.apply(layer, x);
  const crop: [[number, number], [number, number]] = [
    [pads[0], pads[2] - outPad[0]],
    [pads[1], pads[3] - outPad[1]],
  ];
  if (crop.flat().some((c) => c !== 0)) {
    sym = tf.layers.cropping2D({
      cropping: crop,
      dataFormat: "channelsFirst",
      name: b.name(`${b.node.name}_crop`),
    })
      .apply(sym) as tf.SymbolicTensor;
  }
  if (bias !== undefined && !isConst(bias)) b.fail("bias must be a constant");
  const biasData = bias ? Float32Array.from(bias.data) : new Float32Array(outPerGroup);
  b.tensorOut(sym);
  // ONNX [in, out, kh, kw] → TF.js [kh, kw, out, in]: the axis order of a Conv kernel's conversion.
  const kernelW = convKernelToTf(Float32Array.from(w.data), w.shape);
  b.record({ layer, weights: [kernelW, { data: biasData, shape: [outPerGroup] }], channels: outPerGroup });
}

/** A Dense layer `[inUnits, units]` on `x` (a channel gather of `x` folds into the kernel rows). */
function dense(
  b: GraphBuilder,
  kernel: Float32Array,
  inUnits: number,
  units: number,
  bias: Float32Array,
): void {
  let x: TensorValue = b.tensorInput(0);
  const gather = x.channels && x.channels.dims.length === 1 && x.sym.shape.length === 2
    ? x.channels
    : undefined;
  if (gather) {
    const physical = x.sym.shape[1] as number;
    if (gather.source.length !== inUnits) {
      b.fail(
        `weight of shape [${inUnits}, ${units}] does not fit an input of ${gather.source.length} features`,
      );
    }
    const full = new Float32Array(physical * units);
    gather.source.forEach((c, i) => {
      for (let u = 0; u < units; u++) full[c * units + u] += kernel[i * units + u];
    });
    kernel = full;
    inUnits = physical;
  } else x = b.materialize(x);
  if (b.shapeOf(x).length !== 2 && b.node.opType === "Gemm") {
    b.fail(`Gemm on a rank-${b.shapeOf(x).length} input; expected rank 2`);
  }
  // TF.js builds (allocates) the kernel from the input size before the weights are set:
  // refuse an input size that does not fit the weight and would blow the memory ceiling.
  const last = x.sym.shape.at(-1);
  const tooBig = typeof last === "number" && last !== inUnits ? exceedsCeiling(last * units * 4) : undefined;
  if (tooBig) {
    b.fail(`weight of shape [${inUnits}, ${units}] does not fit an input of ${last} features (${tooBig})`);
  }
  const layer = tf.layers.dense({ units, useBias: true, ...NO_INIT, name: b.layerName() });
  b.tensorOut(b.apply(layer, x));
  b.record({
    layer,
    weights: [{ data: kernel, shape: [inUnits, units] }, { data: bias, shape: [units] }],
    kind: "linear",
    channels: units,
  });
}

/** Gemm with a constant B (and C): a Dense layer; alpha/beta/transB folded into the weights. */
export function gemm(b: GraphBuilder): void {
  const w = b.constInput(1, "B");
  if (intAttr(b.node, "transA", 0) !== 0) b.fail("Gemm with transA=1 on a tensor input (batch not first)");
  const transB = intAttr(b.node, "transB", 0) !== 0;
  const alpha = floatAttr(b.node, "alpha", 1);
  const beta = floatAttr(b.node, "beta", 1);
  const [r, c] = w.shape;
  let kernel: Float32Array = Float32Array.from(w.data);
  if (transB) kernel = denseKernelToTf(kernel, r, c).data;
  const inUnits = transB ? c : r;
  const units = transB ? r : c;
  if (alpha !== 1) { for (let i = 0; i < kernel.length; i++) kernel[i] *= alpha; }
  const bias = new Float32Array(units);
  const cv = b.input(2);
  if (cv !== undefined) {
    if (!isConst(cv)) b.fail("C must be a constant");
    if (sizeOf(cv.shape) === 1) bias.fill(cv.data[0] * beta);
    else if (sizeOf(cv.shape) === units && cv.shape[cv.shape.length - 1] === units) {
      for (let i = 0; i < units; i++) bias[i] = cv.data[i] * beta;
    } else b.fail(`C of shape [${cv.shape}] does not broadcast as a per-unit bias of ${units} units`);
  }
  dense(b, kernel, inUnits, units, bias);
}

/** MatMul with a constant 2-D right operand: a Dense layer without bias (a following Add folds into it). */
export function matMul(b: GraphBuilder): void {
  const w = b.constInput(1, "B");
  if (w.shape.length !== 2) b.fail(`MatMul with a rank-${w.shape.length} constant; expected a 2-D weight`);
  dense(b, Float32Array.from(w.data), w.shape[0], w.shape[1], new Float32Array(w.shape[1]));
}
