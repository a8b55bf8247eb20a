/**
 * Protobuf binary (wire format) decoding into a {@linkcode PbMessage} tree,
 * driven by a small schema: field number → name and type. Unknown fields
 * are skipped, packed and unpacked repeated numbers both accepted, packed
 * floats and doubles kept as typed arrays (a `.caffemodel` is mostly one
 * large packed float array per blob).
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";
import { addField, type PbMessage } from "./message.ts";

/** Scalar protobuf types the decoder understands. */
export type ScalarType = "string" | "bytes" | "int64" | "uint64" | "int32" | "bool" | "float" | "double";

/** Type of one field: a scalar, a nested message (by schema name) or an enum (number → name). */
export type FieldType = ScalarType | { message: string } | { enum: Record<number, string> };

/** One message type: field number → `[name, type]`. */
export type MessageSchema = Record<number, readonly [string, FieldType]>;

/** A set of message types by name. */
export type Schema = Record<string, MessageSchema>;

class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start: number, readonly end: number, readonly file: string) {
    this.pos = start;
  }

  fail(msg: string): never {
    throw new ModelFormatError(`${this.file}: corrupt protobuf at byte ${this.pos}: ${msg}`, {
      file: this.file,
    });
  }

  /** A varint as a number; values past 2^53 (rare: negative int64s) go through BigInt. */
  varint(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
    this.pos = start;
    let big = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.bytes[this.pos++];
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return Number(BigInt.asIntN(64, big));
    }
    return this.fail("varint longer than 10 bytes");
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) this.fail(`field of ${n} bytes runs past the end`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.take(8);
    else if (wireType === 2) this.take(this.varint());
    else if (wireType === 5) this.take(4);
    else this.fail(`unsupported wire type ${wireType}`);
  }
}

function copyFloats(raw: Uint8Array, bytesPer: 4 | 8): Float32Array | Float64Array {
  const buf = raw.slice().buffer; // aligned copy
  return bytesPer === 4 ? new Float32Array(buf) : new Float64Array(buf);
}

function decodeScalar(r: Reader, type: ScalarType, wireType: number): string | number | boolean | Uint8Array {
  switch (type) {
    case "string":
      return new TextDecoder().decode(r.take(r.varint()));
    case "bytes":
      return r.take(r.varint());
    case "float": {
      const b = r.take(4);
      return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
    }
    case "double": {
      const b = r.take(8);
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    }
    case "bool":
      return r.varint() !== 0;
    case "int32":
    case "int64": {
      if (wireType !== 0) r.fail(`expected a varint for an ${type} field, found wire type ${wireType}`);
      return r.varint();
    }
    case "uint64":
      return r.varint();
  }
}

function decodeInto(r: Reader, schema: Schema, typeName: string): PbMessage {
  const fields = schema[typeName];
  const msg: PbMessage = {};
  while (r.pos < r.end) {
    const key = r.varint();
    const fieldNo = Math.floor(key / 8);
    const wireType = key % 8;
    const def = fields[fieldNo];
    if (!def) {
      r.skip(wireType);
      continue;
    }
    const [name, type] = def;
    if (typeof type === "object" && "message" in type) {
      if (wireType !== 2) {
        r.fail(`field '${name}' of ${typeName}: expected a message, found wire type ${wireType}`);
      }
      const len = r.varint();
      const sub = new Reader(r.bytes, r.pos, r.pos + len, r.file);
      if (sub.end > r.end) r.fail(`message '${name}' runs past the end`);
      addField(msg, name, decodeInto(sub, schema, type.message));
      r.pos += len;
      continue;
    }
    const scalar: ScalarType = typeof type === "object" ? "int32" : type;
    const packable = scalar !== "string" && scalar !== "bytes";
    if (packable && wireType === 2) {
      const raw = r.take(r.varint());
      if (scalar === "float" || scalar === "double") {
        const size = scalar === "float" ? 4 : 8;
        if (raw.length % size) r.fail(`packed ${scalar} field '${name}' has ${raw.length} bytes`);
        addField(msg, name, copyFloats(raw, size));
      } else {
        const sub = new Reader(raw, 0, raw.length, r.file);
        while (sub.pos < sub.end) addField(msg, name, enumOr(type, decodeScalar(sub, scalar, 0)));
      }
      continue;
    }
    const value = decodeScalar(r, scalar, wireType);
    if (value instanceof Uint8Array) addField(msg, name, new TextDecoder().decode(value));
    else addField(msg, name, enumOr(type, value));
  }
  return msg;
}

function enumOr(type: FieldType, value: string | number | boolean | Uint8Array): string | number | boolean {
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (typeof type === "object" && "enum" in type && typeof value === "number") {
    return type.enum[value] ?? value;
  }
  return value;
}

/**
 * Decode `bytes` as message `typeName` of `schema`. `file` names the source
 * in error messages.
 */
export function decodeMessage(
  bytes: Uint8Array,
  schema: Schema,
  typeName: string,
  file = "<bytes>",
): PbMessage {
  if (!schema[typeName]) throw new RangeError(`no message type '${typeName}' in the schema`);
  return decodeInto(new Reader(bytes, 0, bytes.length, file), schema, typeName);
}
