/**
 * The pruned layers the Python toolbox parses (`keras_rewiring`'s `Sparse`,
 * `SparseConv2D`, `SparseDepthwiseConv2D`): a Dense, Conv2D or
 * DepthwiseConv2D whose kernel is multiplied by a fixed connectivity mask
 * (1 = connection, 0 = none). Saved by Keras with the weights `kernel`,
 * `bias` (when `use_bias`) and `mask`, and a `connectivity_level` argument.
 * Registered with TF.js under those class names, so a model file naming
 * them loads and runs.
 *
 * @module
 */
import { type Tensor, tf } from "../../deps.ts";
import { ModelFormatError } from "../errors.ts";
import { applyActivation } from "./activations.ts";

/** Class names of the pruned layers. */
export const SPARSE_LAYER_CLASSES: readonly string[] = ["Sparse", "SparseConv2D", "SparseDepthwiseConv2D"];

type Kwargs = Record<string, unknown>;
type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];
type Shape = (number | null)[];

function pair(v: unknown, fallback: number): [number, number] {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  return [fallback, fallback];
}

function activationName(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Kwargs).className === "string") {
    return String((v as Kwargs).className);
  }
  return "linear";
}

/** Output length of a window of `k` (dilation `d`) with stride `s` over `n`, as TF computes it. */
function windowLength(n: number | null, k: number, s: number, d: number, padding: string): number | null {
  if (n === null) return null;
  return padding === "same" ? Math.ceil(n / s) : Math.ceil((n - (k - 1) * d) / s);
}

/** What the three pruned layers share: a masked kernel, an optional bias and an activation. */
abstract class MaskedLayer extends tf.layers.Layer {
  protected readonly activationName: string;
  protected readonly useBias: boolean;
  protected readonly connectivityLevel: number | null;
  protected kernel?: tf.LayerVariable;
  protected bias?: tf.LayerVariable;
  protected mask?: tf.LayerVariable;

  constructor(args: Kwargs) {
    super(args as LayerArgs);
    this.activationName = activationName(args.activation);
    this.useBias = args.useBias !== false;
    this.connectivityLevel = typeof args.connectivityLevel === "number" ? args.connectivityLevel : null;
  }

  /** Create the weights in Keras' order: kernel, bias, mask. */
  protected addMaskedWeights(kernelShape: number[], biasSize: number): void {
    this.kernel = this.addWeight("kernel", kernelShape, "float32", tf.initializers.glorotUniform({}));
    if (this.useBias) this.bias = this.addWeight("bias", [biasSize], "float32", tf.initializers.zeros());
    this.mask = this.addWeight("mask", kernelShape, "float32", tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  /** `kernel × mask`. */
  protected maskedKernel(): Tensor {
    return tf.mul(this.kernel!.read(), this.mask!.read());
  }

  /** Bias and activation on the linear output `y`. */
  protected finish(y: Tensor): Tensor {
    const withBias = this.bias ? tf.add(y, this.bias.read()) : y;
    return this.activationName === "linear" ? withBias : applyActivation(this.activationName, withBias);
  }

  /** The input tensor of a call. */
  protected input1(inputs: Tensor | Tensor[]): Tensor {
    return Array.isArray(inputs) ? inputs[0] : inputs;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      activation: this.activationName,
      useBias: this.useBias,
      connectivityLevel: this.connectivityLevel,
    };
  }
}

/** `keras_rewiring.Sparse`: a Dense layer with a connectivity mask. */
export class SparseLayer extends MaskedLayer {
  /** TF.js class name. */
  static className = "Sparse";
  private readonly units: number;

  constructor(args: Kwargs) {
    super(args);
    this.units = Number(args.units);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.addMaskedWeights([Number(shape[shape.length - 1]), this.units], this.units);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = this.input1(inputs);
      const flat = x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1]]);
      const y = tf.matMul(flat as tf.Tensor2D, this.maskedKernel() as tf.Tensor2D);
      const out = x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.units]);
      return this.finish(out);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

/** What the two pruned convolutions share: window geometry, channels_last only. */
abstract class MaskedConv extends MaskedLayer {
  protected readonly kernelSize: [number, number];
  protected readonly strides: [number, number];
  protected readonly padding: "valid" | "same";
  protected readonly dilationRate: [number, number];

  constructor(args: Kwargs) {
    super(args);
    this.kernelSize = pair(args.kernelSize, 1);
    this.strides = pair(args.strides, 1);
    this.dilationRate = pair(args.dilationRate, 1);
    const padding = String(args.padding ?? "valid");
    if (padding !== "valid" && padding !== "same") {
      throw new ModelFormatError(`layer '${args.name}': padding '${padding}' (expected 'valid' or 'same')`);
    }
    this.padding = padding;
    const format = args.dataFormat ?? "channelsLast";
    if (format !== "channelsLast" && format !== "channels_last") {
      throw new ModelFormatError(
        `layer '${args.name}' (${(new.target as unknown as { className: string }).className}): data format ${
          String(format)
        }; ` +
          `pruned convolutions are read channels_last only`,
      );
    }
  }

  /** Output channels for `inChannels` input channels. */
  protected abstract outChannels(inChannels: number): number;

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [
      b,
      windowLength(h, this.kernelSize[0], this.strides[0], this.dilationRate[0], this.padding),
      windowLength(w, this.kernelSize[1], this.strides[1], this.dilationRate[1], this.padding),
      this.outChannels(Number(c)),
    ];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: "channelsLast",
      dilationRate: this.dilationRate,
    };
  }
}

/** `keras_rewiring.SparseConv2D`: a Conv2D layer with a connectivity mask. */
export class SparseConv2DLayer extends MaskedConv {
  /** TF.js class name. */
  static className = "SparseConv2D";
  private readonly filters: number;

  constructor(args: Kwargs) {
    super(args);
    this.filters = Number(args.filters);
  }

  protected outChannels(): number {
    return this.filters;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.addMaskedWeights([...this.kernelSize, Number(shape[3]), this.filters], this.filters);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = this.input1(inputs) as tf.Tensor4D;
      const k = this.maskedKernel() as tf.Tensor4D;
      return this.finish(tf.conv2d(x, k, this.strides, this.padding, "NHWC", this.dilationRate));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters };
  }
}

/** `keras_rewiring.SparseDepthwiseConv2D`: a DepthwiseConv2D layer with a connectivity mask. */
export class SparseDepthwiseConv2DLayer extends MaskedConv {
  /** TF.js class name. */
  static className = "SparseDepthwiseConv2D";
  private readonly depthMultiplier: number;

  constructor(args: Kwargs) {
    super(args);
    this.depthMultiplier = Number(args.depthMultiplier ?? 1);
  }

  protected outChannels(inChannels: number): number {
    return inChannels * this.depthMultiplier;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = Number(shape[3]);
    this.addMaskedWeights([...this.kernelSize, c, this.depthMultiplier], c * this.depthMultiplier);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = this.input1(inputs) as tf.Tensor4D;
      const k = this.maskedKernel() as tf.Tensor4D;
      return this.finish(tf.depthwiseConv2d(x, k, this.strides, this.padding, "NHWC", this.dilationRate));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), depthMultiplier: this.depthMultiplier };
  }
}

tf.serialization.registerClass(SparseLayer);
tf.serialization.registerClass(SparseConv2DLayer);
tf.serialization.registerClass(SparseDepthwiseConv2DLayer);
