/**
 * The ONNX operators (default domain) the library maps onto TF.js layers or
 * folds as constants: one function per operator, grouped by kind in
 * `ops_linear.ts`, `ops_pool.ts`, `ops_elementwise.ts` and `ops_shape.ts`.
 * Adding an operator is one function and one line here.
 *
 * @module
 */
import type { OperatorFn } from "./graph.ts";
export { GATING_OPERATORS } from "./graph.ts";
import { conv, convTranspose, gemm, matMul } from "./ops_linear.ts";
import { averagePool, globalAveragePool, globalMaxPool, maxPool, reduceMax, reduceMean } from "./ops_pool.ts";
import { batchNorm, binary, clip, gate, hardSwish, logSoftmax, relu, softmax } from "./ops_elementwise.ts";
import {
  cast,
  concat,
  constant,
  constantOfShape,
  flatten,
  gather,
  pad,
  passThrough,
  reshape,
  shapeOp,
  slice,
  split,
  squeeze,
  transpose,
  unsqueeze,
  upsample,
} from "./ops_shape.ts";

/** Operator functions by ONNX op_type. */
export const ONNX_OPERATORS: Readonly<Record<string, OperatorFn>> = {
  Add: binary,
  AveragePool: averagePool,
  BatchNormalization: batchNorm,
  Cast: cast,
  Clip: clip,
  Concat: concat,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Conv: conv,
  ConvTranspose: convTranspose,
  Div: binary,
  Dropout: passThrough,
  Flatten: flatten,
  Gather: gather,
  Gemm: gemm,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  // Gating operators: read only by multiplicative gating, which is refused with its own explanation.
  HardSigmoid: gate,
  HardSwish: hardSwish,
  Identity: passThrough,
  LogSoftmax: logSoftmax,
  MatMul: matMul,
  MaxPool: maxPool,
  Mul: binary,
  Pad: pad,
  ReduceMax: reduceMax,
  ReduceMean: reduceMean,
  Relu: relu,
  Reshape: reshape,
  Resize: upsample,
  Shape: shapeOp,
  Sigmoid: gate,
  Slice: slice,
  Softmax: softmax,
  Split: split,
  Squeeze: squeeze,
  Sub: binary,
  Transpose: transpose,
  Unsqueeze: unsqueeze,
  Upsample: upsample,
};
