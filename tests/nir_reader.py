#!/usr/bin/env python3
"""An independent NIR reader and simulator for the tests (h5py + numpy only).

Written from the NIR specification (neuromorphs/NIR: the primitives table,
the IF equations, and the HDF5 layout `nir.write` produces), sharing nothing
with the toolbox's writer or simulator:

- the file: /node/type = "NIRGraph"; /node/nodes/<name>/type and one dataset
  per field; /node/edges, an (E, 2) array of [source, target] names;
- a node's input is the sum of the outputs of the nodes with an edge into it;
- Input: the sample, a constant current for the whole simulation;
- Affine: W x + b; Linear: W x; Scale: s * x (element-wise);
- Conv1d / Conv2d: cross-correlation with PyTorch's conventions (weight
  [out, in / groups, k...], symmetric zero padding or 'same' / 'valid',
  stride, dilation, groups) plus bias per output channel;
- SumPool2d: sums over windows of zero-padded input; AvgPool2d: SumPool2d
  then 1 / (kH kW);
- Flatten: dimensions start_dim..end_dim of the sample (no batch dimension);
- IF: dv/dt = R I, a spike (1) where v > v_threshold, then v = v_reset.
  Forward Euler with step dt: v += dt R I. A spike is a Dirac pulse: it is
  1 / dt for one step, so it moves a downstream potential by its weight
  whatever dt is.
- Output: the spikes arriving (non-zero values) are counted per neuron; the
  prediction is the neuron with most spikes (the first on ties), -1 when no
  output neuron spiked.

With --ann the graph is evaluated once as the ANN its rates approximate:
an IF node outputs max(R I, 0) / v_threshold (its firing rate per unit
time for a constant input), everything else as above; the Output node's
values are printed.

Usage:
  nir_reader.py GRAPH.nir --x X.npz [--n N] [--steps T] [--dt DT] [--batch B] [--channels-last] [--ann]

Prints one JSON line: {"predictions": [...], "output_spikes": total, "spikes": total}
(with --ann: {"outputs": [[...], ...]}).
"""
import argparse
import json

import h5py
import numpy as np


def text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def read_graph(path):
    with h5py.File(path, "r") as f:
        root = f["node"]
        if text(root["type"][()]) != "NIRGraph":
            raise SystemExit(f"{path}: /node is not a NIRGraph")
        nodes = {}
        for name, group in root["nodes"].items():
            fields = {k: group[k][()] for k in group.keys() if isinstance(group[k], h5py.Dataset)}
            fields["type"] = text(fields["type"])
            nodes[name] = fields
        edges = [(text(a), text(b)) for a, b in root["edges"][()]]
    return nodes, edges


def topological(nodes, edges):
    indegree = {n: 0 for n in nodes}
    for _, b in edges:
        indegree[b] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    order = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for a, b in edges:
            if a == n:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
    if len(order) != len(nodes):
        raise SystemExit("the graph has a cycle; this reader simulates feed-forward graphs")
    return order


def pair(v):
    a = np.atleast_1d(np.asarray(v)).astype(int)
    return (int(a[0]), int(a[0])) if a.size == 1 else (int(a[0]), int(a[1]))


def conv2d(x, w, b, stride, padding, dilation, groups):
    """x [B, C, H, W], w [O, C / groups, kh, kw] (cross-correlation)."""
    bsz, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        else:  # 'same' (stride 1): total padding d (k - 1), the smaller half first
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    else:
        ph, pw = padding
        pads = ((ph, ph), (pw, pw))
    xp = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    hp, wp = xp.shape[2], xp.shape[3]
    ho = (hp - dh * (kh - 1) - 1) // sh + 1
    wo = (wp - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.empty((bsz, o, ho, wo), dtype=np.float32)
    for g in range(groups):
        xg = xp[:, g * cg:(g + 1) * cg]
        cols = np.empty((bsz, ho, wo, cg, kh, kw), dtype=np.float32)
        for i in range(kh):
            for j in range(kw):
                win = xg[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
                cols[:, :, :, :, i, j] = win.transpose(0, 2, 3, 1)
        wg = w[g * og:(g + 1) * og].reshape(og, -1).astype(np.float32)
        y = cols.reshape(bsz * ho * wo, -1) @ wg.T
        out[:, g * og:(g + 1) * og] = y.reshape(bsz, ho, wo, og).transpose(0, 3, 1, 2)
    return out + np.asarray(b, dtype=np.float32)[None, :, None, None]


def sum_pool2d(x, kernel, stride, padding):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (xp.shape[2] - kh) // sh + 1
    wo = (xp.shape[3] - kw) // sw + 1
    out = np.zeros((x.shape[0], x.shape[1], ho, wo), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            out += xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
    return out


def flatten(x, start, end):
    shape = x.shape[1:]
    end = end if end >= 0 else len(shape) + end
    new = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    return x.reshape((x.shape[0],) + new)


class Simulator:
    def __init__(self, nodes, edges, dt):
        self.nodes, self.dt = nodes, dt
        self.order = topological(nodes, edges)
        self.preds = {n: [a for a, b in edges if b == n] for n in nodes}
        inputs = [n for n in nodes if nodes[n]["type"] == "Input"]
        outputs = [n for n in nodes if nodes[n]["type"] == "Output"]
        if len(inputs) != 1 or len(outputs) != 1:
            raise SystemExit("this reader simulates graphs with one Input and one Output node")
        self.input, self.output = inputs[0], outputs[0]

    def run(self, x, steps, ann=False):
        """x [B, ...input shape]; returns (output spike counts [B, ...], total spikes), or with
        `ann` the Output node's values of the rate-approximating ANN."""
        v = {n: None for n in self.nodes if self.nodes[n]["type"] == "IF"}
        counts = None
        spikes = 0
        for _ in range(1 if ann else steps):
            out = {}
            for name in self.order:
                node = self.nodes[name]
                t = node["type"]
                if t == "Input":
                    out[name] = x
                    continue
                ins = [out[p] for p in self.preds[name]]
                inp = ins[0] if len(ins) == 1 else sum(ins)
                if t == "Affine":
                    out[name] = inp @ node["weight"].T.astype(np.float32) + node["bias"].astype(np.float32)
                elif t == "Linear":
                    out[name] = inp @ node["weight"].T.astype(np.float32)
                elif t == "Conv2d":
                    pad = node["padding"]
                    pad = text(pad) if isinstance(pad, bytes) else pair(pad)
                    out[name] = conv2d(inp, node["weight"], node["bias"], pair(node["stride"]), pad,
                                       pair(node["dilation"]), int(node["groups"]))
                elif t == "Conv1d":
                    pad = node["padding"]
                    pad = text(pad) if isinstance(pad, bytes) else (0, int(np.atleast_1d(pad)[0]))
                    y = conv2d(inp[:, :, None, :], node["weight"][:, :, None, :], node["bias"],
                               (1, int(np.atleast_1d(node["stride"])[0])), pad,
                               (1, int(np.atleast_1d(node["dilation"])[0])), int(node["groups"]))
                    out[name] = y[:, :, 0, :]
                elif t == "SumPool2d":
                    out[name] = sum_pool2d(inp, pair(node["kernel_size"]), pair(node["stride"]),
                                           pair(node["padding"]))
                elif t == "AvgPool2d":
                    k = pair(node["kernel_size"])
                    out[name] = sum_pool2d(inp, k, pair(node["stride"]), pair(node["padding"])) / (k[0] * k[1])
                elif t == "Scale":
                    out[name] = inp * node["scale"].astype(np.float32)
                elif t == "Flatten":
                    out[name] = flatten(inp, int(node.get("start_dim", 1)), int(node.get("end_dim", -1)))
                elif t == "IF" and ann:
                    out[name] = np.maximum(node["r"] * inp, 0) / node["v_threshold"]
                elif t == "IF":
                    if v[name] is None:
                        v[name] = np.zeros(inp.shape, dtype=np.float32)
                    v[name] += np.float32(self.dt) * node["r"].astype(np.float32) * inp
                    fired = v[name] > node["v_threshold"]
                    v[name] = np.where(fired, node["v_reset"].astype(np.float32), v[name])
                    spikes += int(fired.sum())
                    out[name] = fired.astype(np.float32) / np.float32(self.dt)
                elif t == "Output" and ann:
                    return inp, 0
                elif t == "Output":
                    arrived = (inp != 0).astype(np.int64)
                    counts = arrived if counts is None else counts + arrived
                    out[name] = inp
                else:
                    raise SystemExit(f"node '{name}': this reader does not simulate {t}")
        return counts, spikes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("graph")
    ap.add_argument("--x", required=True)
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--dt", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--ann", action="store_true")
    args = ap.parse_args()
    nodes, edges = read_graph(args.graph)
    sim = Simulator(nodes, edges, args.dt)
    with np.load(args.x) as z:
        x = z[z.files[0]].astype(np.float32)
    if args.n is not None:
        x = x[:args.n]
    if args.channels_last and x.ndim >= 3:
        x = np.moveaxis(x, -1, 1)
    expected = tuple(int(d) for d in nodes[sim.input]["shape"])
    if x.shape[1:] != expected:
        raise SystemExit(f"samples of shape {x.shape[1:]} do not fit the Input {expected}")
    if args.ann:
        outputs = [sim.run(x[s:s + args.batch], 1, ann=True)[0] for s in range(0, len(x), args.batch)]
        flat = np.concatenate(outputs).reshape(len(x), -1)
        print(json.dumps({"outputs": flat.astype(float).tolist()}))
        return
    predictions, total_out, total = [], 0, 0
    for start in range(0, len(x), args.batch):
        counts, spikes = sim.run(x[start:start + args.batch], args.steps)
        counts = counts.reshape(counts.shape[0], -1)
        total_out += int(counts.sum())
        total += spikes
        best = counts.argmax(axis=1)
        predictions += [int(p) if counts[i].max() > 0 else -1 for i, p in enumerate(best)]
    print(json.dumps({"predictions": predictions, "output_spikes": total_out, "spikes": total}))


if __name__ == "__main__":
    main()
