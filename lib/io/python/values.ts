/**
 * The values a script evaluates to when the toolbox runs it statically
 * (see `evaluator.ts`): Python scalars and containers, functions and
 * classes the script defines, references into imported modules, and host
 * objects a reader defines (Lasagne layers, PyTorch modules and tensors).
 *
 * @module
 */
import type { Stmt } from "./ast.ts";

/** A tuple. */
export interface TupleValue {
  /** Discriminator. */
  readonly kind: "tuple";
  /** Items. */
  readonly items: ScriptValue[];
}

/** A dict (string or number keys, insertion order). */
export interface DictValue {
  /** Discriminator. */
  readonly kind: "dict";
  /** Entries in insertion order. */
  readonly map: Map<string | number, ScriptValue>;
}

/** The value of `range(...)` (bounded: see the evaluator's limits). */
export interface RangeValue {
  /** Discriminator. */
  readonly kind: "range";
  /** The numbers. */
  readonly items: number[];
}

/** A dotted reference to something in an imported module (`lasagne.nonlinearities.rectify`, `torch.nn.Conv2d`). */
export interface Ref {
  /** Discriminator. */
  readonly kind: "ref";
  /** Full dotted path. */
  readonly path: string;
  /** The object a method reference is bound to (`nn.Module.__init__` called on `self`). */
  readonly self?: ScriptValue;
}

/** An opaque value the reader does not use (initializers, Theano variables). */
export interface Opaque {
  /** Discriminator. */
  readonly kind: "opaque";
  /** What it is. */
  readonly what: string;
}

/** A function (or lambda) defined by the script. */
export interface FunctionValue {
  /** Discriminator. */
  readonly kind: "function";
  /** Its definition. */
  readonly def: Extract<Stmt, { t: "def" }>;
  /** Default values of its parameters, by parameter index (`undefined`: none). */
  readonly defaults: (ScriptValue | undefined)[];
  /** The scope it was defined in. */
  readonly closure: Scope;
  /** The class whose body defined it (for `super()`). */
  readonly owner?: ClassValue;
}

/** A class defined by the script. */
export interface ClassValue {
  /** Discriminator. */
  readonly kind: "class";
  /** Name. */
  readonly name: string;
  /** Base classes: classes of the script or references into modules (`torch.nn.Module`). */
  readonly bases: (ClassValue | Ref)[];
  /** Class attributes and methods. */
  readonly attrs: Map<string, ScriptValue>;
  /** Line of the `class` statement. */
  readonly line: number;
}

/** An instance of a class of the script. */
export interface InstanceValue {
  /** Discriminator. */
  readonly kind: "instance";
  /** Its class. */
  readonly cls: ClassValue;
  /** Instance attributes, in assignment order. */
  readonly attrs: Map<string, ScriptValue>;
}

/** A function of the script bound to an instance (`self.method`). */
export interface BoundMethod {
  /** Discriminator. */
  readonly kind: "method";
  /** The instance. */
  readonly self: ScriptValue;
  /** The function. */
  readonly fn: FunctionValue;
}

/** `super()` inside a method: attribute lookups start after `cls` in the instance's class order. */
export interface SuperValue {
  /** Discriminator. */
  readonly kind: "super";
  /** The class whose method called `super()`. */
  readonly cls: ClassValue;
  /** The instance. */
  readonly self: ScriptValue;
}

/** An object a reader defines; `hostType` tells readers' objects apart. */
export interface HostObject {
  /** Discriminator. */
  readonly kind: "host";
  /** The reader's type tag (`lasagne-layer`, `torch-module`, `tensor`, ...). */
  readonly hostType: string;
}

/** A value of a script run statically. */
export type ScriptValue =
  | null
  | boolean
  | number
  | string
  | ScriptValue[]
  | TupleValue
  | DictValue
  | RangeValue
  | Ref
  | Opaque
  | FunctionValue
  | ClassValue
  | InstanceValue
  | BoundMethod
  | SuperValue
  | HostObject;

/** Names bound in one scope (module, function call, class body). */
export type Scope = Map<string, ScriptValue>;

/** Whether `v` is an object value of kind `kind`. */
export function isKind<K extends string>(
  v: ScriptValue | undefined,
  kind: K,
): v is Extract<ScriptValue, { kind: K }> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && v.kind === kind;
}

/** Whether `v` is a host object of type `hostType`. */
export function isHost(v: ScriptValue | undefined, hostType?: string): v is HostObject {
  return isKind(v, "host") && (hostType === undefined || v.hostType === hostType);
}

/** The items of a list or tuple, or `undefined`. */
export function sequenceItems(v: ScriptValue | undefined): ScriptValue[] | undefined {
  if (Array.isArray(v)) return v;
  if (isKind(v, "tuple")) return v.items;
  return undefined;
}

/** Python truthiness of a value. */
export function truthy(v: ScriptValue): boolean {
  if (v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isKind(v, "tuple") || isKind(v, "range")) return v.items.length > 0;
  if (isKind(v, "dict")) return v.map.size > 0;
  return true;
}

/** How a value reads in an error message (`None`, `a list`, `layer DenseLayer`, `torch.nn.LSTM`, ...). */
export function describeValue(v: ScriptValue | undefined, host?: (h: HostObject) => string): string {
  if (v === null) return "None";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v !== "object") return `${typeof v} ${JSON.stringify(v)}`;
  switch (v.kind) {
    case "ref":
      return v.path;
    case "opaque":
      return v.what;
    case "function":
      return `function ${v.def.name}`;
    case "class":
      return `class ${v.name}`;
    case "instance":
      return `a ${v.cls.name} object`;
    case "method":
      return `method ${v.fn.def.name}`;
    case "super":
      return "super()";
    case "host":
      return host ? host(v) : v.hostType;
    default:
      return `a ${v.kind}`;
  }
}
