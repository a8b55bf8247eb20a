/**
 * A decoded protobuf message as a plain tree, shared by the text-format
 * parser and the binary decoder: every field is a list of values (repeated
 * and optional fields alike), enum values are their names, packed float
 * arrays stay typed arrays.
 *
 * @module
 */

/** One field value of a {@linkcode PbMessage}. */
export type PbValue = string | number | boolean | PbMessage | Float32Array | Float64Array;

/** A decoded message: field name → values in file order. */
export interface PbMessage {
  /** The values of field `field`, in file order. */
  [field: string]: PbValue[];
}

/** Whether `v` is a nested message. */
export function isMessage(v: PbValue | undefined): v is PbMessage {
  return typeof v === "object" && v !== null && !ArrayBuffer.isView(v);
}

/** Append `value` to field `name` of `msg`. */
export function addField(msg: PbMessage, name: string, value: PbValue): void {
  const list = Object.hasOwn(msg, name) ? msg[name] : (msg[name] = []);
  list.push(value);
}

/** All values of field `name` (empty when absent). */
export function fieldValues(msg: PbMessage | undefined, name: string): PbValue[] {
  return msg && Object.hasOwn(msg, name) ? msg[name] : [];
}

/** The nested messages of field `name`. */
export function messages(msg: PbMessage | undefined, name: string): PbMessage[] {
  return fieldValues(msg, name).filter(isMessage);
}

/** The last nested message of field `name` (protobuf "last one wins"), or `undefined`. */
export function message(msg: PbMessage | undefined, name: string): PbMessage | undefined {
  const all = messages(msg, name);
  return all.length ? all[all.length - 1] : undefined;
}

/** All numbers of field `name`, with packed arrays flattened. */
export function numbers(msg: PbMessage | undefined, name: string): number[] {
  const out: number[] = [];
  for (const v of fieldValues(msg, name)) {
    if (typeof v === "number") out.push(v);
    else if (v instanceof Float32Array || v instanceof Float64Array) { for (const x of v) out.push(x); }
    else if (typeof v === "boolean") out.push(v ? 1 : 0);
  }
  return out;
}

/** The last number of field `name`, or `fallback`. */
export function num(msg: PbMessage | undefined, name: string, fallback: number): number;
/** The last number of field `name`, or `undefined`. */
export function num(msg: PbMessage | undefined, name: string): number | undefined;
export function num(msg: PbMessage | undefined, name: string, fallback?: number): number | undefined {
  const all = numbers(msg, name);
  return all.length ? all[all.length - 1] : fallback;
}

/** The last string (or enum name) of field `name`, or `fallback`. */
export function str(msg: PbMessage | undefined, name: string, fallback = ""): string {
  const all = fieldValues(msg, name);
  const last = all[all.length - 1];
  if (typeof last === "string") return last;
  if (typeof last === "number") return String(last);
  return fallback;
}

/** All strings of field `name`. */
export function strings(msg: PbMessage | undefined, name: string): string[] {
  return fieldValues(msg, name).filter((v): v is string => typeof v === "string");
}

/** The last boolean of field `name` (`true`/`false`, `1`/`0`, `True`/`t`...), or `fallback`. */
export function bool(msg: PbMessage | undefined, name: string, fallback: boolean): boolean {
  const all = fieldValues(msg, name);
  if (!all.length) return fallback;
  const last = all[all.length - 1];
  if (typeof last === "boolean") return last;
  if (typeof last === "number") return last !== 0;
  if (typeof last === "string") return ["true", "t", "1"].includes(last.toLowerCase());
  return fallback;
}
