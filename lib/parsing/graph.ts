/**
 * The parsed model while it is being built: the list of parsed layers, and
 * references to the tensors of the input model as they exist in it (with
 * the layout change between the two, see `./layout.ts`). The parse rules
 * (`./rules/`) append layers here and pass {@linkcode TensorRef}s along.
 *
 * @module
 */
import type { Float32NDArray } from "../io/ndarray.ts";
import type { LayerAttributes, ParsedLayerConfigs, ParsedLayerOf, ParsedLayerType } from "./attributes.ts";
import { identity, isIdentity, permuteShape, samePerm } from "./layout.ts";

/** A tensor of the input model as it exists in the parsed model. */
export interface TensorRef {
  /** Id of the parsed layer producing it (its name once parsing has finished), or the input's name. */
  id: string;
  /** Shape in the input model (without batch). */
  srcShape: number[];
  /** Parsed tensor = transpose(source tensor, perm); `undefined` = identical. */
  perm?: number[];
  /** Flat tensor whose element `j` holds source flat element `rowMap[j]`. */
  rowMap?: Int32Array;
  /** The parsed layer producing it, when it is one (not the input). */
  producer?: LayerAttributes;
  /** Nothing else in the input model reads this tensor (so the producer may be changed). */
  exclusive: boolean;
}

/** Extra fields of a parsed layer made by the parser itself. */
export type EmitExtra<T extends ParsedLayerType> = Partial<Omit<ParsedLayerOf<T>, "layerType" | "config">>;

/** A parsed layer of some type (the supertype of every {@linkcode LayerAttributes} member). */
export type AnyParsedLayer = ParsedLayerOf<ParsedLayerType>;

/** The parsed layers in order, with the operations the parse rules build them with. */
export class ParsedGraph {
  /** The parsed layers, in order. */
  readonly layers: LayerAttributes[] = [];
  private readonly byId = new Map<string, LayerAttributes>();
  private nextId = 0;

  /** The parsed layer with id (or final name) `id`. */
  get(id: string): LayerAttributes | undefined {
    return this.byId.get(id);
  }

  /** Append a parsed layer made by the parser itself (not read from a source layer). */
  emit<T extends ParsedLayerType>(
    layerType: T,
    config: ParsedLayerConfigs[T],
    inbound: readonly TensorRef[],
    outputShape: number[],
    extra: EmitExtra<T> = {},
  ): ParsedLayerOf<T> {
    const attrs: ParsedLayerOf<T> = {
      name: "",
      inbound: inbound.map((r) => r.id),
      absorbed: [],
      outputShape,
      ...extra,
      layerType,
      config,
    };
    this.add(attrs);
    return attrs;
  }

  /** Append parsed attributes built from a source layer; returns the reference to its output. */
  push(attrs: AnyParsedLayer, srcShape: number[], perm: number[] | undefined, exclusive: boolean): TensorRef {
    this.add(attrs);
    return this.refFor(attrs, srcShape, perm, exclusive);
  }

  /** Give `attrs` a fresh id and append it. */
  private add(attrs: AnyParsedLayer): void {
    attrs.name = `#${this.nextId++}`;
    // Every parsed layer is built with the config of its own layer type.
    const layer = attrs as LayerAttributes;
    this.layers.push(layer);
    this.byId.set(attrs.name, layer);
  }

  /** Remove a parsed layer (folded into another one). */
  remove(attrs: LayerAttributes): void {
    this.layers.splice(this.layers.indexOf(attrs), 1);
    this.byId.delete(attrs.name);
  }

  /** Rename every layer by `name(attrs, index)` and rewrite the references; returns old → new names. */
  rename(name: (attrs: LayerAttributes, index: number) => string): Map<string, string> {
    const renamed = new Map<string, string>();
    this.layers.forEach((a, i) => {
      const n = name(a, i);
      renamed.set(a.name, n);
      a.name = n;
    });
    for (const a of this.layers) a.inbound = a.inbound.map((id) => renamed.get(id) ?? id);
    this.byId.clear();
    for (const a of this.layers) this.byId.set(a.name, a);
    return renamed;
  }

  /** The tensor reference for the output of a parsed layer. */
  refFor(
    attrs: AnyParsedLayer,
    srcShape: number[],
    perm: number[] | undefined,
    exclusive: boolean,
  ): TensorRef {
    return {
      id: attrs.name,
      srcShape,
      perm: isIdentity(perm) ? undefined : perm,
      producer: attrs as LayerAttributes,
      exclusive,
    };
  }

  /** Shape of a tensor in the parsed (channels-last) model. */
  parsedShape(ref: TensorRef): number[] {
    return permuteShape(ref.srcShape, ref.perm);
  }

  /** Map a source axis (with batch = 0) to the parsed layout's axis. */
  mapAxis(ref: TensorRef, axis: number): number {
    if (!ref.perm) return axis;
    return ref.perm.indexOf(axis - 1) + 1;
  }

  /** Bring `ref` to layout `want` (transpose of the source tensor), inserting one Permute if needed. */
  ensurePerm(ref: TensorRef, want: number[] | undefined): TensorRef {
    ref = this.materializeFlat(ref);
    if (samePerm(ref.perm, want)) return ref;
    const n = ref.srcShape.length;
    const p = ref.perm ?? identity(n);
    const w = want ?? identity(n);
    const inv = new Array(n);
    p.forEach((a, k) => (inv[a] = k));
    const dims = w.map((a) => inv[a] + 1);
    const attrs = this.emit("Permute", { dims }, [ref], permuteShape(ref.srcShape, w), {
      absorbed: ["layout change (no exact rewrite available)"],
    });
    return this.refFor(attrs, ref.srcShape, w, ref.exclusive);
  }

  /** A flat tensor still in a pending row order becomes an ordinary tensor (a permuting Dense). */
  materializeFlat(ref: TensorRef): TensorRef {
    if (!ref.rowMap) return ref;
    const n = ref.rowMap.length;
    // A Dense with a permutation matrix reorders exactly.
    const kernel = new Float32Array(n * n);
    for (let j = 0; j < n; j++) kernel[j * n + ref.rowMap[j]] = 1;
    const vec = (data: Float32Array, shape: number[]): Float32NDArray => ({ data, shape, dtype: "float32" });
    const attrs = this.emit("Dense", { units: n }, [ref], [n], {
      parameters: [vec(kernel, [n, n]), vec(new Float32Array(n), [n])],
      activation: "linear",
      absorbed: ["reorder of a channels_first flatten"],
    });
    return this.refFor(attrs, ref.srcShape, undefined, ref.exclusive);
  }
}
