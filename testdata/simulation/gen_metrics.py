"""Reference for tests/simulation_metrics_test.ts: top-k membership with
ties ranked by lower class index (a stable descending argsort; the
toolbox's np.argsort(p)[:, -k:] orders ties arbitrarily) and undecided
samples (no output spike) wrong, np.argmax guesses with the toolbox's -1
for undecided samples, and np.corrcoef Pearson coefficients with the
toolbox's filtering (snntoolbox.utils.utils.get_pearson_coefficients).

Run: /usr/bin/python3 testdata/simulation/gen_metrics.py  (writes metrics_ref.json)
"""
import json
import os

import numpy as np

rng = np.random.default_rng(3)
# Spike counts with many ties (and all-zero rows).
counts = rng.integers(0, 4, (40, 10)).astype(np.float64)
counts[::7] = 0
targets = rng.integers(0, 10, 40)
topk = {}
for k in (1, 2, 5):
    top = np.argsort(-counts, kind="stable")[:, :k]
    topk[str(k)] = [bool(np.equal(p, t).any() and c.sum() > 0) for p, t, c in zip(top, targets, counts)]
guesses = np.argmax(counts, 1)
guesses[np.sum(counts, 1) == 0] = -1

# Pearson: rates and activations of a hidden layer (filtered) and of an output layer.
max_rate = 1.0
rates = rng.uniform(0, 1, (3, 50)) * (rng.uniform(0, 1, (3, 50)) > 0.3)
acts = np.clip(rates + rng.normal(0, 0.05, (3, 50)), 0, 1.2) * (rng.uniform(0, 1, (3, 50)) > 0.1)
hidden, output = [], []
for s, a in zip(rates, acts):
    keep = [(x, y) for x, y in zip(s, a) if (x > 0 or y > 0) and y < max_rate]
    hidden.append(float(np.corrcoef([k[0] for k in keep], [k[1] for k in keep])[0, 1]))
    output.append(float(np.corrcoef(s, a)[0, 1]))

ref = {
    "counts": counts.ravel().tolist(),
    "targets": targets.tolist(),
    "topk": topk,
    "guesses": guesses.tolist(),
    "rates": rates.ravel().tolist(),
    "activations": acts.ravel().tolist(),
    "max_rate": max_rate,
    "pearson_hidden": hidden,
    "pearson_output": output,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics_ref.json"), "w") as f:
    json.dump(ref, f)
