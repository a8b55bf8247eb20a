/**
 * Put stored Keras weights into a tfjs-layers model built from the same
 * config: match each layer by name (falling back to the order of layers
 * with weights, as Keras itself loads full models), convert Keras 1
 * kernel layouts, flip Theano kernels, and check every shape first.
 *
 * @module
 */
import { tf } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import type { StoredWeight, WeightTable } from "./weights.ts";

/** How stored weights are converted on the way in. */
export interface AssignOptions {
  /** Flip convolution kernels spatially (Theano-trained models). */
  flipKernels: boolean;
  /** The source was written by Keras 1 (kernel layouts differ). */
  keras1: boolean;
}

type Layer = InstanceType<typeof tf.layers.Layer>;
type Variable = Layer["weights"][number];

/** Classes whose first weight is a convolution kernel with leading spatial axes. */
const CONV_CLASSES = new Set([
  "Conv1D",
  "Conv2D",
  "Conv3D",
  "Conv2DTranspose",
  "Conv3DTranspose",
  "DepthwiseConv2D",
  "SeparableConv1D",
  "SeparableConv2D",
  "SparseConv2D",
  "SparseDepthwiseConv2D",
]);

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.join(", ")}]`;
}

function isContainer(layer: Layer): layer is Layer & { layers: Layer[] } {
  return Array.isArray((layer as { layers?: unknown }).layers);
}

/** Which weights of `layer` (a leaf or a nested model) are convolution kernels. */
function kernelVariables(layer: Layer): Set<Variable> {
  const out = new Set<Variable>();
  const visit = (l: Layer): void => {
    if (isContainer(l)) {
      l.layers.forEach(visit);
      return;
    }
    const cls = l.getClassName();
    if (CONV_CLASSES.has(cls) && l.weights.length > 0) out.add(l.weights[0]);
    if (cls === "Bidirectional" || cls === "TimeDistributed") {
      const inner = (l as unknown as { layer?: Layer }).layer;
      if (inner) visit(inner);
    }
  };
  visit(layer);
  return out;
}

/** `name` without the `:0` suffix TensorFlow adds to variable names. */
function bareName(name: string): string {
  return name.replace(/:\d+$/, "");
}

/** Pair the variables of `layer` with `stored`: by name when every name matches, else by position. */
function pairWeights(vars: Variable[], stored: StoredWeight[]): StoredWeight[] {
  const byName = new Map(stored.map((s) => [bareName(s.name), s]));
  const named = vars.map((v) => byName.get(v.originalName));
  if (named.every((s) => s !== undefined)) return named as StoredWeight[];
  return stored;
}

/** Convert a stored array to the layout tfjs expects for `v`; `undefined` when no conversion fits. */
function convert(
  s: StoredWeight,
  v: Variable,
  isKernel: boolean,
  opts: AssignOptions,
): InstanceType<typeof tf.Tensor> | undefined {
  const want = v.shape as number[];
  const same = (a: readonly number[]) => a.length === want.length && a.every((d, i) => d === want[i]);
  let plan: "as-is" | "th2tf" | "th2tf1d" | "tf1d" | undefined;
  if (same(s.shape)) plan = "as-is";
  else if (opts.keras1 && isKernel && s.shape.length === 4) {
    const [a, b, c, d] = s.shape;
    if (want.length === 4 && same([c, d, b, a])) plan = "th2tf"; // (filters, stack, rows, cols) → (rows, cols, stack, filters)
    else if (want.length === 3 && b === 1 && same([a, c, d])) plan = "tf1d"; // (len, 1, in, filters)
    else if (want.length === 3 && d === 1 && same([c, b, a])) plan = "th2tf1d"; // (filters, in, len, 1)
  }
  if (plan === undefined) return undefined;
  const values = s.read();
  return tf.tidy(() => {
    let t = tf.tensor(values, s.shape, "float32");
    if (plan === "th2tf") t = tf.transpose(t, [2, 3, 1, 0]);
    else if (plan === "tf1d") t = tf.squeeze(t, [1]);
    else if (plan === "th2tf1d") t = tf.squeeze(tf.transpose(t, [2, 3, 1, 0]), [1]);
    if (isKernel && opts.flipKernels) {
      const spatial = Array.from({ length: t.rank - 2 }, (_, i) => i);
      if (spatial.length > 0) t = tf.reverse(t, spatial);
    }
    return t;
  });
}

/**
 * The layers to fill: every layer with weights, except that a nested model
 * the file does not store as one group (Keras 3 stores each of its layers)
 * is replaced by its own layers.
 */
function assignmentUnits(layers: Layer[], table: WeightTable): Layer[] {
  const out: Layer[] = [];
  for (const layer of layers) {
    if (layer.weights.length === 0) continue;
    if (
      isContainer(layer) && !table.layers.has(layer.name) &&
      layer.layers.some((l) => table.layers.has(l.name))
    ) {
      out.push(...assignmentUnits(layer.layers, table));
    } else {
      out.push(layer);
    }
  }
  return out;
}

/**
 * Assign the weights in `table` to every layer of `model` that has weights.
 * Throws {@linkcode ModelFormatError} naming the file, the layer and the
 * expected vs found count or shape when anything does not fit. Returns the
 * number of kernels flipped.
 */
export function assignWeights(model: tf.LayersModel, table: WeightTable, opts: AssignOptions): number {
  const file = table.file;
  const withWeights = assignmentUnits(model.layers, table);
  const storedWithWeights = [...table.layers.entries()].filter(([, w]) => w.length > 0);
  const anyNameMatches = withWeights.some((l) => table.layers.has(l.name));
  const allByName = new Map<string, StoredWeight>();
  for (const list of table.layers.values()) for (const s of list) allByName.set(bareName(s.name), s);
  if (!anyNameMatches && withWeights.length > 0 && storedWithWeights.length !== withWeights.length) {
    const byVar = withWeights.every((l) => l.weights.every((v) => allByName.has(v.originalName)));
    if (!byVar) {
      throw new ModelFormatError(
        `${file}: the model has ${withWeights.length} layers with weights (${
          withWeights.map((l) => l.name).join(", ")
        }) but the weights file has ${storedWithWeights.length} (${
          storedWithWeights.map(([n]) => n).join(", ")
        })`,
        { file },
      );
    }
  }
  let flipped = 0;
  withWeights.forEach((layer, index) => {
    const vars = layer.weights;
    let stored = table.layers.get(layer.name);
    if (stored === undefined || stored.length === 0) {
      const named = vars.map((v) => allByName.get(v.originalName));
      if (named.every((s) => s !== undefined)) stored = named as StoredWeight[];
      else if (!anyNameMatches) stored = storedWithWeights[index]?.[1];
    }
    const cls = layer.getClassName();
    if (stored === undefined || stored.length === 0) {
      throw new ModelFormatError(
        `${file}: no weights stored for layer '${layer.name}' (${cls}); expected ${vars.length} arrays ` +
          vars.map((v) => shapeText(v.shape)).join(", "),
        { file },
      );
    }
    if (stored.length !== vars.length) {
      throw new ModelFormatError(
        `${file}: layer '${layer.name}' (${cls}) expects ${vars.length} weight arrays (${
          vars.map((v) => shapeText(v.shape)).join(", ")
        }), the file stores ${stored.length} (${
          stored.map((s) => `${s.name} ${shapeText(s.shape)}`).join(", ")
        })`,
        { file },
      );
    }
    const paired = pairWeights(vars, stored);
    const kernels = kernelVariables(layer);
    const tensors: InstanceType<typeof tf.Tensor>[] = [];
    try {
      vars.forEach((v, i) => {
        const isKernel = kernels.has(v);
        const t = convert(paired[i], v, isKernel, opts);
        if (t === undefined) {
          throw new ModelFormatError(
            `${file}: weight '${paired[i].name}' of layer '${layer.name}' (${cls}) has shape ${
              shapeText(paired[i].shape)
            }; expected ${shapeText(v.shape)}`,
            { file },
          );
        }
        if (isKernel && opts.flipKernels && t.rank > 2) flipped++;
        tensors.push(t);
      });
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  });
  return flipped;
}
