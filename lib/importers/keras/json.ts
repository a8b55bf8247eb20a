/**
 * Narrowing helpers for parsed JSON (Keras configs, tfjs `model.json`).
 *
 * @module
 */

/** A parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** Whether `v` is a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `v` as a string, or `undefined`. */
export function asString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Deep copy of a JSON value. */
export function cloneJson<T>(v: T): T {
  return structuredClone(v);
}
