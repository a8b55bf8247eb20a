/**
 * The `torch.nn` modules a PyTorch model script may build, as the static
 * reader sees them: each module class's constructor signature (parameter
 * names and defaults, as in PyTorch), the state_dict entries it owns and
 * their shapes, and the records a constructed module becomes.
 *
 * @module
 */
import type { HostObject, InstanceValue, ScriptValue } from "../../io/python/values.ts";
import { isHost, sequenceItems } from "../../io/python/values.ts";

/** A `torch.nn` module built by the script (`nn.Conv2d(...)`, `nn.Sequential(...)`). */
export interface TorchModule extends HostObject {
  /** Discriminator among host objects. */
  readonly hostType: "torch-module";
  /** The class name (`Conv2d`). */
  readonly type: string;
  /** Constructor arguments bound by name, defaults filled in. */
  readonly args: Record<string, ScriptValue>;
  /** Child modules (Sequential, ModuleList), in order. */
  readonly children: Map<string, Module>;
  /** Line of the constructor call. */
  readonly line: number;
}

/** A module: a `torch.nn` module or an instance of a script class derived from `nn.Module`. */
export type Module = TorchModule | InstanceValue;

/** Whether `v` is a `torch.nn` module record. */
export function isTorchModule(v: ScriptValue | undefined): v is TorchModule {
  return isHost(v, "torch-module");
}

type Signature = [string, ScriptValue | undefined][];

const REQUIRED = undefined;
const CONV: Signature = [
  ["in_channels", REQUIRED],
  ["out_channels", REQUIRED],
  ["kernel_size", REQUIRED],
  ["stride", 1],
  ["padding", 0],
  ["dilation", 1],
  ["groups", 1],
  ["bias", true],
  ["padding_mode", "zeros"],
  ["device", null],
  ["dtype", null],
];
const BATCH_NORM: Signature = [
  ["num_features", REQUIRED],
  ["eps", 1e-5],
  ["momentum", 0.1],
  ["affine", true],
  ["track_running_stats", true],
  ["device", null],
  ["dtype", null],
];
const DROPOUT: Signature = [["p", 0.5], ["inplace", false]];

/** Constructor signatures of the supported `torch.nn` classes (`undefined` default: required). */
export const SIGNATURES: Readonly<Record<string, Signature>> = {
  Conv1d: CONV,
  Conv2d: CONV,
  Linear: [["in_features", REQUIRED], ["out_features", REQUIRED], ["bias", true], ["device", null], [
    "dtype",
    null,
  ]],
  BatchNorm1d: BATCH_NORM,
  BatchNorm2d: BATCH_NORM,
  ReLU: [["inplace", false]],
  ReLU6: [["inplace", false]],
  Dropout: DROPOUT,
  Dropout1d: DROPOUT,
  Dropout2d: DROPOUT,
  AvgPool2d: [
    ["kernel_size", REQUIRED],
    ["stride", null],
    ["padding", 0],
    ["ceil_mode", false],
    ["count_include_pad", true],
    ["divisor_override", null],
  ],
  MaxPool2d: [
    ["kernel_size", REQUIRED],
    ["stride", null],
    ["padding", 0],
    ["dilation", 1],
    ["return_indices", false],
    ["ceil_mode", false],
  ],
  AdaptiveAvgPool2d: [["output_size", REQUIRED]],
  Flatten: [["start_dim", 1], ["end_dim", -1]],
  Softmax: [["dim", null]],
  LogSoftmax: [["dim", null]],
  Identity: [],
};

/** Container classes: their children are modules. */
export const CONTAINERS: readonly string[] = ["Sequential", "ModuleList"];

/** Every `torch.nn` class the reader builds. */
export const SUPPORTED_MODULES: readonly string[] = [...Object.keys(SIGNATURES), ...CONTAINERS];

/** Bind constructor arguments to a signature; returns an error sentence instead when they do not fit. */
export function bindModuleArgs(
  type: string,
  args: ScriptValue[],
  kwargs: Map<string, ScriptValue>,
): Record<string, ScriptValue> | string {
  const sig = SIGNATURES[type];
  if (type === "Identity") return {}; // nn.Identity accepts and ignores any arguments
  if (args.length > sig.length) return `nn.${type} takes at most ${sig.length} positional arguments`;
  const bound: Record<string, ScriptValue> = {};
  sig.forEach(([name], i) => {
    if (i < args.length) bound[name] = args[i];
  });
  for (const [k, v] of kwargs) {
    if (!sig.some(([n]) => n === k)) return `nn.${type} got an unexpected keyword argument '${k}'`;
    if (k in bound) return `nn.${type} got two values for '${k}'`;
    bound[k] = v;
  }
  for (const [n, d] of sig) {
    if (n in bound) continue;
    if (d === undefined) return `nn.${type} is missing the argument '${n}'`;
    bound[n] = d;
  }
  return bound;
}

/** An int or a tuple of `n` ints (`kernel_size=3` or `(3, 3)`); `undefined` when it is neither. */
export function intTuple(v: ScriptValue, n: number): number[] | undefined {
  if (typeof v === "number" && Number.isInteger(v)) return new Array<number>(n).fill(v);
  const items = sequenceItems(v);
  if (items && items.length === n && items.every((x) => typeof x === "number" && Number.isInteger(x))) {
    return items as number[];
  }
  return undefined;
}

/** State-dict entries of a module with their shapes (`weight: [out, in, kh, kw]`), in PyTorch's order. */
export function parameterShapes(m: TorchModule): [string, number[]][] {
  const a = m.args;
  switch (m.type) {
    case "Conv1d":
    case "Conv2d": {
      const n = m.type === "Conv1d" ? 1 : 2;
      const k = intTuple(a.kernel_size, n) ?? [];
      const out = a.out_channels as number;
      const perGroup = (a.in_channels as number) / (a.groups as number);
      return [["weight", [out, perGroup, ...k]], ...(a.bias ? [["bias", [out]] as [string, number[]]] : [])];
    }
    case "Linear": {
      const out = a.out_features as number;
      return [
        ["weight", [out, a.in_features as number]],
        ...(a.bias ? [["bias", [out]] as [string, number[]]] : []),
      ];
    }
    case "BatchNorm1d":
    case "BatchNorm2d": {
      const c = [a.num_features as number];
      const affine: [string, number[]][] = a.affine ? [["weight", c], ["bias", c]] : [];
      const stats: [string, number[]][] = a.track_running_stats
        ? [["running_mean", c], ["running_var", c], ["num_batches_tracked", []]]
        : [];
      return [...affine, ...stats];
    }
    default:
      return [];
  }
}

function posInt(v: ScriptValue): boolean {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}

/** Why a module's arguments are outside what the reader converts, or `undefined` when they are fine. */
export function moduleProblem(m: TorchModule): string | undefined {
  const a = m.args;
  switch (m.type) {
    case "Conv1d":
    case "Conv2d": {
      const n = m.type === "Conv1d" ? 1 : 2;
      if (!posInt(a.in_channels) || !posInt(a.out_channels)) {
        return "in_channels and out_channels must be positive ints";
      }
      if (!intTuple(a.kernel_size, n)?.every((k) => k > 0)) return `kernel_size must be an int or ${n} ints`;
      if (!intTuple(a.stride, n)?.every((k) => k > 0)) return `stride must be an int or ${n} ints`;
      if (!intTuple(a.dilation, n)?.every((k) => k > 0)) return `dilation must be an int or ${n} ints`;
      if (a.padding !== "same" && a.padding !== "valid" && !intTuple(a.padding, n)?.every((k) => k >= 0)) {
        return `padding must be 'same', 'valid', an int or ${n} ints`;
      }
      const g = a.groups;
      if (
        !posInt(g) || (a.in_channels as number) % (g as number) || (a.out_channels as number) % (g as number)
      ) {
        return "groups must divide in_channels and out_channels";
      }
      if (a.padding_mode !== "zeros") return `padding_mode='${a.padding_mode}' (only 'zeros' is supported)`;
      return undefined;
    }
    case "Linear":
      return posInt(a.in_features) && posInt(a.out_features)
        ? undefined
        : "in_features and out_features must be positive ints";
    case "BatchNorm1d":
    case "BatchNorm2d":
      if (!posInt(a.num_features)) return "num_features must be a positive int";
      if (typeof a.eps !== "number") return "eps must be a number";
      if (!a.track_running_stats) {
        return "track_running_stats=False (eval mode then normalizes with batch statistics, which a converted network cannot)";
      }
      return undefined;
    case "MaxPool2d":
      if (a.return_indices) return "return_indices=True";
      if (!intTuple(a.dilation, 2)?.every((d) => d === 1)) return "dilation other than 1";
      return poolProblem(a);
    case "AvgPool2d":
      if (a.divisor_override !== null) return "divisor_override";
      return poolProblem(a);
    case "AdaptiveAvgPool2d": {
      const o = a.output_size;
      const ok = posInt(o) ||
        (sequenceItems(o)?.length === 2 && sequenceItems(o)!.every((x) => x === null || posInt(x)));
      return ok ? undefined : "output_size must be an int or two ints (or None)";
    }
    case "Softmax":
    case "LogSoftmax":
      return a.dim === null || (typeof a.dim === "number" && Number.isInteger(a.dim))
        ? undefined
        : "dim must be an int";
    case "Flatten":
      return Number.isInteger(a.start_dim) && Number.isInteger(a.end_dim)
        ? undefined
        : "start_dim and end_dim must be ints";
  }
  return undefined;
}

function poolProblem(a: Record<string, ScriptValue>): string | undefined {
  if (!intTuple(a.kernel_size, 2)?.every((k) => k > 0)) return "kernel_size must be an int or 2 ints";
  if (a.stride !== null && !intTuple(a.stride, 2)?.every((k) => k > 0)) {
    return "stride must be an int or 2 ints";
  }
  if (!intTuple(a.padding, 2)?.every((k) => k >= 0)) return "padding must be an int or 2 ints";
  return undefined;
}
