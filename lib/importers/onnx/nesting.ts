/**
 * How deeply the messages of ONNX model bytes nest, measured on the
 * protobuf wire format before decoding: the decoder recurses once per
 * nested message, so subgraphs nested thousands deep (an `If` whose branch
 * holds an `If`, ...) would otherwise end in a stack overflow inside it.
 * Only the fields through which ONNX messages can nest are followed (graphs,
 * nodes, attributes, functions, training info, value infos, type protos);
 * tensors and other leaf messages are skipped by their length.
 *
 * @module
 */

/** How deeply ONNX messages may nest (a model is 1; each subgraph adds 3: node, attribute, graph). */
export const MAX_ONNX_NESTING = 100;

/** Message kinds through which nesting continues. */
type Kind =
  | "model"
  | "graph"
  | "node"
  | "attribute"
  | "function"
  | "training"
  | "valueInfo"
  | "type"
  | "typeElem"
  | "typeMap";

/** Per message kind: the field numbers holding a nested message, and that message's kind. */
const NESTED: Record<Kind, Readonly<Record<number, Kind>>> = {
  model: { 7: "graph", 20: "training", 25: "function" },
  graph: { 1: "node", 11: "valueInfo", 12: "valueInfo", 13: "valueInfo" },
  node: { 5: "attribute" },
  attribute: { 6: "graph", 11: "graph", 14: "type", 15: "type" },
  function: { 6: "attribute", 7: "node" },
  training: { 1: "graph", 2: "graph" },
  valueInfo: { 2: "type" },
  // TypeProto: sequence_type (4) and optional_type (9) hold elem_type = 1, map_type (5) value_type = 2.
  type: { 4: "typeElem", 5: "typeMap", 9: "typeElem" },
  typeElem: { 1: "type" },
  typeMap: { 2: "type" },
};

/** A varint at `pos`: its value and the position after it; `undefined` when the bytes end first. */
function varint(bytes: Uint8Array, pos: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && pos < bytes.length; i++) {
    const b = bytes[pos++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  return undefined;
}

/**
 * The deepest message nesting in `bytes[start, end)` read as a message of
 * `kind` at depth `depth`, stopping as soon as it exceeds `limit`. Malformed
 * bytes end the scan quietly: the decoder reports them.
 */
function deepest(
  bytes: Uint8Array,
  start: number,
  end: number,
  kind: Kind,
  depth: number,
  limit: number,
): number {
  if (depth > limit) return depth;
  let max = depth;
  let groups = 0;
  let pos = start;
  const nested = NESTED[kind];
  while (pos < end) {
    const key = varint(bytes, pos);
    if (!key) return max;
    pos = key[1];
    const field = Math.floor(key[0] / 8);
    switch (key[0] % 8) {
      case 0: {
        const v = varint(bytes, pos);
        if (!v) return max;
        pos = v[1];
        break;
      }
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const len = varint(bytes, pos);
        if (!len || len[1] + len[0] > end) return max;
        const inner = nested[field];
        if (inner) max = Math.max(max, deepest(bytes, len[1], len[1] + len[0], inner, depth + 1, limit));
        if (max > limit) return max;
        pos = len[1] + len[0];
        break;
      }
      case 3: // start of a (deprecated) group: the decoder recurses into it too
        groups++;
        max = Math.max(max, depth + groups);
        if (max > limit) return max;
        break;
      case 4:
        groups--;
        break;
      default:
        return max; // invalid wire types: left to the decoder
    }
  }
  return max;
}

/**
 * How deeply the messages of ONNX model bytes nest (the model itself is
 * depth 1), counted up to just past `limit`.
 */
export function onnxNestingDepth(bytes: Uint8Array, limit: number = MAX_ONNX_NESTING): number {
  return deepest(bytes, 0, bytes.length, "model", 1, limit);
}
