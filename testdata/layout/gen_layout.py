"""Write layout.json: numpy's results for the weight-layout conversions of
lib/io/layout.ts on fixed random arrays (C order, float32 values).

- transpose: np.transpose(a, perm) for ranks 1-6 (the rank <= 4 fast path
  and the any-rank path);
- conv: [out, in, *k] -> [*k, in, out], optionally with every spatial axis
  reversed first (a[:, :, ::-1, ::-1]), for 1-D and 2-D kernels;
- depthwise: [channels * mult, 1, kh, kw] -> [kh, kw, channels, mult]
  (reshape to [channels, mult, kh, kw], transpose (2, 3, 0, 1)), flipped too;
- dense: [out, in] -> [in, out].

Run: /usr/bin/python3 testdata/layout/gen_layout.py
"""
import json
import os

import numpy as np

rng = np.random.RandomState(7)


def arr(shape):
    return rng.randn(*shape).astype(np.float32)


def flat(a):
    return [float(v) for v in np.ascontiguousarray(a).ravel()]


cases = {"transpose": [], "conv": [], "depthwise": [], "dense": []}
for shape, perm in [
    ((5,), (0,)),
    ((3, 4), (1, 0)),
    ((2, 3, 4), (2, 0, 1)),
    ((2, 3, 4, 5), (2, 3, 1, 0)),
    ((2, 3, 4, 5), (1, 3, 0, 2)),
    ((2, 3, 2, 3, 2), (4, 2, 0, 3, 1)),
    ((2, 1, 3, 2, 2, 3), (5, 0, 3, 1, 4, 2)),
]:
    a = arr(shape)
    cases["transpose"].append(
        {"shape": list(shape), "perm": list(perm), "x": flat(a), "y": flat(np.transpose(a, perm))}
    )

for shape in [(4, 3, 5), (4, 3, 3, 2), (2, 5, 1, 4)]:
    a = arr(shape)
    spatial = tuple(range(2, len(shape)))
    perm = spatial + (1, 0)
    for flip in (False, True):
        src = np.flip(a, axis=spatial) if flip else a
        y = np.transpose(src, perm)
        cases["conv"].append(
            {"shape": list(shape), "flip": flip, "x": flat(a), "y": flat(y), "yshape": list(y.shape)}
        )

for channels, mult, kh, kw in [(3, 2, 3, 2), (4, 1, 2, 3)]:
    a = arr((channels * mult, 1, kh, kw))
    for flip in (False, True):
        src = a[:, :, ::-1, ::-1] if flip else a
        y = np.transpose(src.reshape(channels, mult, kh, kw), (2, 3, 0, 1))
        cases["depthwise"].append(
            {
                "shape": list(a.shape),
                "channels": channels,
                "flip": flip,
                "x": flat(a),
                "y": flat(y),
                "yshape": list(y.shape),
            }
        )

for out, inp in [(3, 5), (1, 4)]:
    a = arr((out, inp))
    cases["dense"].append({"outputs": out, "inputs": inp, "x": flat(a), "y": flat(a.T)})

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "layout.json"), "w") as f:
    json.dump(cases, f)
