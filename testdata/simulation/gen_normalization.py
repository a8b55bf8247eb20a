"""Reference for tests/conversion_normalize_test.ts: numpy computes the
toolbox's data-based normalization (snntoolbox.conversion.utils:
normalize_parameters / get_scale_fac / apply_normalization_schedule) for a
small ReLU MLP, 8 -> 6 (relu) -> 5 (relu) -> 3 (softmax).

Also an int64 normalization set (x_norm_int64.npz, written by np.savez like a
dataset_path file) and numpy's factors for it (normalization_int64_ref.json):
the set is fed as float32, as Keras casts a model's inputs.

Run: /usr/bin/python3 testdata/simulation/gen_normalization.py
(writes normalization_ref.json, x_norm_int64.npz, normalization_int64_ref.json)
"""
import json
import os

import numpy as np

rng = np.random.default_rng(7)
sizes = [8, 6, 5, 3]
names = ["dense_a", "dense_b", "dense_c"]
acts = ["relu", "relu", "softmax"]
weights = []
for i in range(3):
    w = rng.normal(0, 0.6, (sizes[i], sizes[i + 1])).astype(np.float32)
    b = rng.normal(0, 0.2, sizes[i + 1]).astype(np.float32)
    weights.append((w, b))
x_norm = rng.uniform(0, 1, (23, 8)).astype(np.float32)
batch_size = 5


def forward(x, params):
    outs = []
    for (w, b), a in zip(params, acts):
        z = x @ w + b
        if a == "relu":
            x = np.maximum(z, 0)
        else:
            e = np.exp(z - z.max(1, keepdims=True))
            x = e / e.sum(1, keepdims=True)
        outs.append(x)
    return outs


def normalize(perc, schedule, x_set=x_norm):
    x = x_set[: len(x_set) - len(x_set) % batch_size]  # toolbox truncation
    acts_ = forward(x, weights)
    facs = {"input": 1.0}
    for i, (name, a) in enumerate(zip(names, acts_)):
        p = int(perc - i * 0.02) if schedule else perc
        nz = a[np.nonzero(a)]
        facs[name] = float(np.percentile(nz, p)) if nz.size else 1.0
    prev = "input"
    out = []
    for name, (w, b), a in zip(names, weights, acts):
        own = 1.0 if a == "softmax" else facs[name]
        out.append({"w": (w * facs[prev] / own).ravel().tolist(), "b": (b / own).ravel().tolist()})
        prev = name
    return facs, out


ref = {
    "sizes": sizes,
    "names": names,
    "activations": acts,
    "batch_size": batch_size,
    "x_norm": x_norm.ravel().tolist(),
    "weights": [{"w": w.ravel().tolist(), "b": b.ravel().tolist()} for w, b in weights],
    "percentile_tests": [
        {"values": v.tolist(), "p": p, "expected": float(np.percentile(v, p))}
        for v, p in [
            (rng.uniform(0, 5, 1001).astype(np.float32), 99.9),
            (rng.uniform(0, 5, 7).astype(np.float32), 50),
            (rng.uniform(0, 5, 10).astype(np.float32), 99),
            (rng.uniform(0, 5, 1).astype(np.float32), 99.9),
            (rng.uniform(0, 5, 4).astype(np.float32), 100),
        ]
    ],
    "cases": [],
}
for perc, schedule in [(99.9, False), (99.9, True), (50.0, False)]:
    facs, normed = normalize(perc, schedule)
    ref["cases"].append({"percentile": perc, "schedule": schedule, "scale_factors": facs, "normalized": normed})

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "normalization_ref.json"), "w") as f:
    json.dump(ref, f)

# Drawn after everything above, so the values above do not change.
x_norm_int64 = rng.integers(0, 4, (23, 8), dtype=np.int64)
np.savez(os.path.join(HERE, "x_norm_int64.npz"), x_norm_int64)
facs, normed = normalize(99.9, False, x_norm_int64.astype(np.float32))
with open(os.path.join(HERE, "normalization_int64_ref.json"), "w") as f:
    json.dump({"percentile": 99.9, "scale_factors": facs, "normalized": normed}, f)
