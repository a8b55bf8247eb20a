/**
 * The graph a PyTorch `forward` traces: symbolic tensors with their
 * per-sample shapes (PyTorch's NCHW), and one ONNX node per operation
 * (`Conv`, `Gemm`, `BatchNormalization`, `Relu`, `Clip`, `MaxPool`,
 * `AveragePool`, `GlobalAveragePool`, `Flatten`, `Reshape`, `Concat`,
 * `Add`, `Softmax`) with the module weights as initializers — the same
 * in-memory ONNX model `torch.onnx.export` would write, so the ONNX
 * library's builder turns it into the input model and everything after is
 * shared. Shapes are checked as each operation is added, so a mismatch is
 * reported at the script line that caused it.
 *
 * @module
 */
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from "../onnx/proto.ts";
import { ScriptError } from "../../io/python/errors.ts";
import type { HostObject } from "../../io/python/values.ts";
import { isHost } from "../../io/python/values.ts";

/** A symbolic tensor of the traced graph; `dims` leave out the batch dim. */
export interface Tensor extends HostObject {
  /** Discriminator among host objects. */
  readonly hostType: "tensor";
  /** The ONNX value name. */
  readonly value: string;
  /** Per-sample dimensions (NCHW without N). */
  readonly dims: readonly number[];
}

/** `x.size(0)`: the batch size, only usable as the first dim of `view`/`reshape`. */
export const BATCH_SIZE: HostObject = { kind: "host", hostType: "batch-size" };

/** Whether `v` is a traced tensor. */
export function isTensor(v: unknown): v is Tensor {
  return isHost(v as never, "tensor");
}

/** A weight array for an initializer. */
export interface Weight {
  /** Elements in C order. */
  data: Float32Array;
  /** Dimensions. */
  shape: number[];
}

/** Pooling arguments in PyTorch's terms. */
export interface PoolArgs {
  kernel: number[];
  stride: number[];
  padding: number[];
  ceilMode: boolean;
  countIncludePad?: boolean;
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Collects the nodes and initializers of one traced `forward`. */
export class TorchGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, OnnxTensor>();
  /** Script line of each node, by node name (to place the ONNX builder's errors). */
  readonly lines = new Map<string, number>();
  /** The line of the `nn` module being applied, when there is one: its nodes are placed there. */
  definedAt?: number;
  /** Facts worth telling the user (log_softmax computed as softmax, ...). */
  readonly notes = new Set<string>();
  #next = 0;
  readonly #names = new Set<string>();

  /** A graph for the script `file`. */
  constructor(readonly file: string) {}

  fail(line: number, msg: string): never {
    throw new ScriptError(this.file, line, msg);
  }

  /** The graph input (`[batch, ...dims]`). */
  input(dims: number[]): Tensor {
    return { kind: "host", hostType: "tensor", value: "input", dims };
  }

  #name(base: string): string {
    let name = base || "op";
    for (let i = 1; this.#names.has(name); i++) name = `${base}_${i}`;
    this.#names.add(name);
    return name;
  }

  #node(
    opType: string,
    name: string,
    inputs: string[],
    attrs: Record<string, OnnxAttribute>,
    dims: number[],
    line: number,
  ): Tensor {
    const nodeName = this.#name(name);
    const value = `t${this.#next++}`;
    this.nodes.push({
      name: nodeName,
      opType,
      domain: "",
      inputs,
      outputs: [value],
      attributes: new Map(Object.entries(attrs)),
    });
    this.lines.set(nodeName, this.definedAt ?? line);
    return { kind: "host", hostType: "tensor", value, dims };
  }

  #init(name: string, data: Float32Array | Float64Array, dims: number[], dataType = 1): string {
    if (!this.initializers.has(name)) this.initializers.set(name, { name, dataType, dims, data });
    return name;
  }

  #rank(x: Tensor, ranks: number[], what: string, line: number): void {
    if (!ranks.includes(x.dims.length + 1)) {
      this.fail(
        line,
        `${what} expects a ${ranks.map((r) => `${r}-D`).join(" or ")} input (with the batch dim), ` +
          `got shape [N, ${x.dims.join(", ")}]`,
      );
    }
  }

  /** `nn.Conv1d`/`nn.Conv2d` with its weight `[out, in/groups, ...k]` and optional bias. */
  conv(
    name: string,
    x: Tensor,
    w: Weight,
    b: Weight | undefined,
    o: { stride: number[]; padding: number[] | "same" | "valid"; dilation: number[]; groups: number },
    line: number,
  ): Tensor {
    const n = w.shape.length - 2;
    this.#rank(x, [n + 2], `nn.Conv${n}d`, line);
    const inC = w.shape[1] * o.groups;
    if (x.dims[0] !== inC) {
      this.fail(line, `nn.Conv${n}d expects ${inC} input channels, the input has ${x.dims[0]}`);
    }
    const k = w.shape.slice(2);
    const pads = o.padding === "valid"
      ? { begin: k.map(() => 0), end: k.map(() => 0) }
      : o.padding === "same"
      ? {
        begin: k.map((kk, i) => Math.floor((o.dilation[i] * (kk - 1)) / 2)),
        end: k.map((kk, i) => o.dilation[i] * (kk - 1) - Math.floor((o.dilation[i] * (kk - 1)) / 2)),
      }
      : { begin: o.padding, end: o.padding };
    const out = k.map((kk, i) =>
      Math.floor((x.dims[i + 1] + pads.begin[i] + pads.end[i] - o.dilation[i] * (kk - 1) - 1) / o.stride[i]) +
      1
    );
    if (out.some((d) => d < 1)) {
      this.fail(line, `nn.Conv${n}d with kernel [${k}] does not fit the input [${x.dims.slice(1)}]`);
    }
    const inputs = [x.value, this.#init(`${name}.weight`, w.data, w.shape)];
    if (b) inputs.push(this.#init(`${name}.bias`, b.data, b.shape));
    return this.#node(
      "Conv",
      name,
      inputs,
      {
        kernel_shape: k,
        strides: o.stride,
        pads: [...pads.begin, ...pads.end],
        dilations: o.dilation,
        group: o.groups,
      },
      [w.shape[0], ...out],
      line,
    );
  }

  /** `nn.Linear` (weight `[out, in]`) on a `[N, in]` input. */
  linear(name: string, x: Tensor, w: Weight, b: Weight | undefined, line: number): Tensor {
    if (x.dims.length !== 1) {
      this.fail(
        line,
        `nn.Linear on an input of shape [N, ${x.dims.join(", ")}]; flatten it to [N, features] first`,
      );
    }
    const [out, inF] = w.shape;
    if (x.dims[0] !== inF) {
      this.fail(line, `nn.Linear expects ${inF} input features, the input has ${x.dims[0]}`);
    }
    const bias = b ?? { data: new Float32Array(out), shape: [out] };
    return this.#node(
      "Gemm",
      name,
      [
        x.value,
        this.#init(`${name}.weight`, w.data, w.shape),
        this.#init(`${name}.bias`, bias.data, bias.shape),
      ],
      { transB: 1 },
      [out],
      line,
    );
  }

  /** `nn.BatchNorm1d/2d` in eval mode (running statistics). */
  batchNorm(
    name: string,
    x: Tensor,
    p: { weight?: Weight; bias?: Weight; mean: Weight; variance: Weight; eps: number; twoD: boolean },
    line: number,
  ): Tensor {
    this.#rank(x, p.twoD ? [4] : [2, 3], p.twoD ? "nn.BatchNorm2d" : "nn.BatchNorm1d", line);
    const c = p.mean.shape[0];
    if (x.dims[0] !== c) this.fail(line, `batch norm over ${c} channels, the input has ${x.dims[0]}`);
    const ones = { data: new Float32Array(c).fill(1), shape: [c] };
    const zeros = { data: new Float32Array(c), shape: [c] };
    const w = p.weight ?? ones;
    const b = p.bias ?? zeros;
    return this.#node(
      "BatchNormalization",
      name,
      [
        x.value,
        this.#init(`${name}.weight`, w.data, w.shape),
        this.#init(`${name}.bias`, b.data, b.shape),
        this.#init(`${name}.running_mean`, p.mean.data, p.mean.shape),
        this.#init(`${name}.running_var`, p.variance.data, p.variance.shape),
      ],
      { epsilon: p.eps },
      [...x.dims],
      line,
    );
  }

  relu(name: string, x: Tensor, line: number): Tensor {
    return this.#node("Relu", name, [x.value], {}, [...x.dims], line);
  }

  /** `ReLU6`: `Clip(0, 6)`. */
  relu6(name: string, x: Tensor, line: number): Tensor {
    const lo = this.#init("relu6.min", new Float32Array([0]), []);
    const hi = this.#init("relu6.max", new Float32Array([6]), []);
    return this.#node("Clip", name, [x.value, lo, hi], {}, [...x.dims], line);
  }

  /** Output size of one pooled dim, as PyTorch computes it (`ceil_mode` included). */
  #pooled(size: number, k: number, s: number, p: number, ceil: boolean): number {
    const span = size + 2 * p - k;
    let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceil && (out - 1) * s >= size + p) out--;
    return out;
  }

  /** `MaxPool2d` / `AvgPool2d` (and their functional forms). */
  pool(kind: "max" | "avg", name: string, x: Tensor, a: PoolArgs, line: number): Tensor {
    const what = kind === "max" ? "max pooling" : "average pooling";
    this.#rank(x, [4], what, line);
    if (a.padding.some((p, i) => p > a.kernel[i] / 2)) {
      this.fail(line, `${what} padding [${a.padding}] is more than half the kernel [${a.kernel}]`);
    }
    const out = [0, 1].map((i) => this.#pooled(x.dims[i + 1], a.kernel[i], a.stride[i], a.padding[i], false));
    if (a.ceilMode) {
      const ceil = [0, 1].map((i) =>
        this.#pooled(x.dims[i + 1], a.kernel[i], a.stride[i], a.padding[i], true)
      );
      if (ceil.some((d, i) => d !== out[i])) {
        this.fail(
          line,
          `${what} with ceil_mode=True on [${x.dims.slice(1)}] adds a partial window (not supported)`,
        );
      }
    }
    if (out.some((d) => d < 1)) {
      this.fail(line, `${what} kernel [${a.kernel}] does not fit the input [${x.dims.slice(1)}]`);
    }
    const attrs: Record<string, OnnxAttribute> = {
      kernel_shape: a.kernel,
      strides: a.stride,
      pads: [...a.padding, ...a.padding],
    };
    if (kind === "avg") attrs.count_include_pad = a.countIncludePad === false ? 0 : 1;
    return this.#node(
      kind === "max" ? "MaxPool" : "AveragePool",
      name,
      [x.value],
      attrs,
      [x.dims[0], ...out],
      line,
    );
  }

  /** `AdaptiveAvgPool2d(out)`: global average pooling for 1×1, else an exact average pooling. */
  adaptiveAvgPool(name: string, x: Tensor, size: (number | null)[], line: number): Tensor {
    this.#rank(x, [4], "adaptive average pooling", line);
    const target = size.map((s, i) => s ?? x.dims[i + 1]);
    if (target.every((s) => s === 1)) {
      return this.#node("GlobalAveragePool", name, [x.value], {}, [x.dims[0], 1, 1], line);
    }
    if (target.some((s, i) => x.dims[i + 1] % s !== 0)) {
      this.fail(
        line,
        `adaptive average pooling of [${
          x.dims.slice(1)
        }] to [${target}] has uneven windows (supported: sizes that divide the input)`,
      );
    }
    const kernel = target.map((s, i) => x.dims[i + 1] / s);
    return this.pool("avg", name, x, { kernel, stride: kernel, padding: [0, 0], ceilMode: false }, line);
  }

  /** `flatten(start_dim, end_dim)`; only flattening every dim after the batch is supported. */
  flatten(name: string, x: Tensor, start: number, end: number, line: number): Tensor {
    const rank = x.dims.length + 1;
    const s = start < 0 ? start + rank : start;
    const e = end < 0 ? end + rank : end;
    if (s < 0 || s >= rank || e < 0 || e >= rank || e < s) {
      this.fail(line, `flatten(start_dim=${start}, end_dim=${end}) is out of range for a ${rank}-D tensor`);
    }
    if (s === e) return x;
    if (s === 0) {
      this.fail(
        line,
        "flatten from dim 0 also flattens the batch dim; flatten from dim 1 (torch.flatten(x, 1))",
      );
    }
    if (s !== 1 || e !== rank - 1) {
      this.fail(
        line,
        `flatten(start_dim=${start}, end_dim=${end}) keeps several dims; only flattening all dims after the batch is supported`,
      );
    }
    if (x.dims.length === 1) return x;
    return this.#node("Flatten", name, [x.value], { axis: 1 }, [product(x.dims)], line);
  }

  /** `view`/`reshape`: the first dim must stay the batch (`-1` or `x.size(0)`). */
  reshape(name: string, x: Tensor, target: (number | HostObject)[], line: number): Tensor {
    const total = product(x.dims);
    const shown = `(${target.map((d) => (typeof d === "number" ? d : "x.size(0)")).join(", ")})`;
    const [first, ...rest] = target;
    if (!rest.every((d): d is number => typeof d === "number" && Number.isInteger(d) && d >= -1 && d !== 0)) {
      return this.fail(line, `view/reshape${shown}: only the first dim may be the batch size`);
    }
    let dims: number[];
    if (first === -1) {
      if (rest.includes(-1)) this.fail(line, `view/reshape${shown} has more than one -1`);
      if (product(rest) !== total) {
        this.fail(
          line,
          `view/reshape${shown} of [N, ${
            x.dims.join(", ")
          }] (${total} values per sample) changes the batch size`,
        );
      }
      dims = rest;
    } else if (first === BATCH_SIZE) {
      const known = product(rest.filter((d) => d !== -1));
      if (rest.filter((d) => d === -1).length > 1) {
        this.fail(line, `view/reshape${shown} has more than one -1`);
      }
      dims = rest.map((d) => (d === -1 ? total / known : d));
      if (!dims.every(Number.isInteger) || product(dims) !== total) {
        this.fail(line, `view/reshape${shown} does not fit [N, ${x.dims.join(", ")}]`);
      }
    } else {
      return this.fail(
        line,
        `view/reshape${shown} must keep the batch dim first: write -1 or x.size(0) there`,
      );
    }
    if (dims.length === x.dims.length && dims.every((d, i) => d === x.dims[i])) return x;
    const shape = this.#init(`${name}.shape`, Float64Array.from([0, ...dims]), [dims.length + 1], 7);
    return this.#node("Reshape", name, [x.value, shape], {}, dims, line);
  }

  /** `torch.cat(tensors, dim)` along the channel (or feature) dim. */
  concat(name: string, xs: Tensor[], dim: number, line: number): Tensor {
    if (!xs.length) this.fail(line, "torch.cat of no tensors");
    const rank = xs[0].dims.length + 1;
    const d = dim < 0 ? dim + rank : dim;
    if (d !== 1) {
      this.fail(
        line,
        `torch.cat along dim ${dim} of ${rank}-D tensors; only the channel dim (1) is supported`,
      );
    }
    for (const t of xs) {
      if (t.dims.length + 1 !== rank || t.dims.some((s, i) => i > 0 && s !== xs[0].dims[i])) {
        this.fail(line, `torch.cat of shapes [N, ${xs[0].dims.join(", ")}] and [N, ${t.dims.join(", ")}]`);
      }
    }
    if (xs.length === 1) return xs[0];
    const channels = xs.reduce((a, t) => a + t.dims[0], 0);
    return this.#node(
      "Concat",
      name,
      xs.map((t) => t.value),
      { axis: 1 },
      [channels, ...xs[0].dims.slice(1)],
      line,
    );
  }

  /** `a + b` of two tensors of one shape (residual connections). */
  add(name: string, a: Tensor, b: Tensor, line: number): Tensor {
    if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
      this.fail(
        line,
        `adding tensors of shapes [N, ${a.dims.join(", ")}] and [N, ${
          b.dims.join(", ")
        }] (broadcasting is not supported)`,
      );
    }
    return this.#node("Add", name, [a.value, b.value], {}, [...a.dims], line);
  }

  /** `softmax(dim)`; `log` (log_softmax) is computed as softmax: the same order, hence the same predictions. */
  softmax(name: string, x: Tensor, dim: number | null, log: boolean, line: number): Tensor {
    const rank = x.dims.length + 1;
    // PyTorch's implicit dim (dim=None): 0 for 0-, 1- and 3-D inputs, else 1.
    const d0 = dim ?? ([0, 1, 3].includes(rank) ? 0 : 1);
    const d = d0 < 0 ? d0 + rank : d0;
    if (d <= 0 || d >= rank) {
      this.fail(line, `softmax over dim ${d0} of a ${rank}-D tensor (the batch dim or out of range)`);
    }
    if (log) this.notes.add("log_softmax is computed as softmax (monotonic: the same predictions)");
    return this.#node("Softmax", name, [x.value], { axis: d }, [...x.dims], line);
  }

  /** The ONNX model of the traced graph, with `output` as its only output. */
  model(path: string, inputDims: number[], output: Tensor): OnnxModel {
    return {
      path,
      irVersion: 8,
      producer: "snntoolbox pytorch script reader",
      opset: 13,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: [{ name: "input", elemType: 1, shape: [null, ...inputDims] }],
      outputs: [{ name: output.value, elemType: 1, shape: [null, ...output.dims] }],
    };
  }
}
