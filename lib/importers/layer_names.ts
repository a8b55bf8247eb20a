/**
 * Names of the TF.js layers that the ONNX, Caffe and Lasagne libraries
 * build from a foreign graph: a valid name for each foreign layer or blob
 * name, made unique within one model.
 *
 * @module
 */

/**
 * A valid TF.js layer name for a foreign name: every character outside
 * `[A-Za-z0-9_.-]` becomes `_`, `n` is prepended unless it starts with a
 * letter, and an empty name becomes `layer` (`conv1/3x3` → `conv1_3x3`,
 * `0` → `n0`).
 */
export function safeLayerName(name: string): string {
  const base = name.replace(/[^A-Za-z0-9_.\-]/g, "_") || "layer";
  return /^[A-Za-z]/.test(base) ? base : `n${base}`;
}

/** `name`, or the first of `name_1`, `name_2`, … not in `used`; the result is added to `used`. */
export function uniqueName(name: string, used: Set<string>): string {
  let unique = name;
  for (let i = 1; used.has(unique); i++) unique = `${name}_${i}`;
  used.add(unique);
  return unique;
}

/** {@linkcode safeLayerName} of `name`, made unique among `used` (and added to it). */
export function uniqueLayerName(name: string, used: Set<string>): string {
  return uniqueName(safeLayerName(name), used);
}
