#!/usr/bin/python3
"""Generate the small Lasagne test cases.

Run: /usr/bin/python3 testdata/lasagne/gen_small.py  (numpy only; Lasagne/Theano not needed)

The network is small_net.py beside this file (committed, read by the tests):
a build script using the interpreter's subset (aliases, dict subscripts, a for
loop over range, batch_norm wrapper, keyword arguments, ConcatLayer,
ElemwiseSumLayer, PadLayer, Pool2DLayer average mode, GlobalPoolLayer, a
function returning a tuple). This script writes:

- small_net.pkl (protocol 2, {'param values': [...]}), small_net_list.pkl
  (protocol 4, bare list) and small_net.npz (np.savez(*params)): its
  parameters in get_all_param_values order.
- small_x.npy / small_y.npy: inputs and outputs of a numpy implementation of
  the same network with Lasagne/Theano semantics (Conv2DLayer flips
  filters: true convolution; BatchNormLayer uses inv_std = 1/sqrt(var+eps)).
- pickle_cases.pkl + pickle_cases.json: dtypes, byte orders, Fortran
  order, numpy scalars and containers, with the expected values as JSON.
- evil.pkl: a pickle that would call os.system: must be refused.
"""
import json
import os
import pickle
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)
f32 = np.float32

# Parameters in get_all_param_values order: c0 (W, b); branch0 conv W (bias removed by
# batch_norm), branch0 BN (beta, gamma, mean, inv_std); branch1 the same; dense (W, b).
eps = 1e-4
c0_W = rng.normal(0, 0.5, (3, 2, 3, 3)).astype(f32)
c0_b = rng.normal(0, 0.1, 3).astype(f32)
branches = []
for _ in range(2):
    W = rng.normal(0, 0.5, (4, 3, 3, 3)).astype(f32)
    beta = rng.normal(0, 0.2, 4).astype(f32)
    gamma = rng.uniform(0.5, 1.5, 4).astype(f32)
    mean = rng.normal(0, 0.3, 4).astype(f32)
    var = rng.uniform(0.5, 2.0, 4).astype(f32)
    inv_std = (1.0 / np.sqrt(var + eps)).astype(f32)
    branches.append((W, beta, gamma, mean, inv_std))
d_W = rng.normal(0, 0.5, (7, 5)).astype(f32)
d_b = rng.normal(0, 0.1, 5).astype(f32)
params = [c0_W, c0_b]
for W, beta, gamma, mean, inv_std in branches:
    params += [W, beta, gamma, mean, inv_std]
params += [d_W, d_b]

with open(os.path.join(HERE, "small_net.pkl"), "wb") as f:
    pickle.dump({"param values": params}, f, protocol=2)
with open(os.path.join(HERE, "small_net_list.pkl"), "wb") as f:
    pickle.dump(params, f, protocol=4)
np.savez(os.path.join(HERE, "small_net.npz"), *params)


# --- forward pass with Lasagne/Theano semantics ---
def conv_true(x, W, pad):
    """Theano conv2d (true convolution: the filter is flipped), 'pad' zeros each side."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Wf = W[:, :, ::-1, ::-1]
    n, c, h, w = xp.shape
    o, _, kh, kw = W.shape
    y = np.zeros((n, o, h - kh + 1, w - kw + 1))
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            y[:, :, i, j] = np.tensordot(xp[:, :, i:i + kh, j:j + kw], Wf, axes=([1, 2, 3], [1, 2, 3]))
    return y


x = rng.uniform(-1, 1, (4, 2, 6, 6)).astype(f32)
a = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
c0 = np.maximum(conv_true(a, c0_W, 0) + c0_b[None, :, None, None], 0)
s = 0
for W, beta, gamma, mean, inv_std in branches:
    z = conv_true(c0, W, 1)
    z = (z - mean[None, :, None, None]) * (gamma * inv_std)[None, :, None, None] + beta[None, :, None, None]
    s = s + np.maximum(z, 0)
cat = np.concatenate([c0, s], axis=1)  # (4, 7, 6, 6)
pool = cat.reshape(4, 7, 3, 2, 3, 2).mean(axis=(3, 5))  # 2x2 average, stride 2
mp = np.zeros((4, 7, 2, 2))
for i in range(2):
    for j in range(2):
        mp[:, :, i, j] = pool[:, :, i:i + 2, j:j + 2].max(axis=(2, 3))
gp = mp.mean(axis=(2, 3))
logits = gp @ d_W + d_b
e = np.exp(logits - logits.max(axis=1, keepdims=True))
np.save(os.path.join(HERE, "small_x.npy"), x)
np.save(os.path.join(HERE, "small_y.npy"), (e / e.sum(axis=1, keepdims=True)).astype(f32))

# --- pickle cases ---
cases = OrderedDict()
cases["f4"] = rng.normal(size=(2, 3)).astype("<f4")
cases["f8_big_endian"] = rng.normal(size=(3,)).astype(">f8")
cases["i8"] = np.array([[-3, 2**40], [7, -1]], dtype="<i8")
cases["u1"] = np.arange(6, dtype="u1").reshape(3, 2)
cases["bool"] = np.array([True, False, True])
cases["fortran"] = np.asfortranarray(np.arange(12, dtype="f4").reshape(3, 4))
cases["scalar_f4"] = np.float32(2.5)
cases["zero_d"] = np.array(7.0, dtype="f4")
payload = {"arrays": cases, "meta": ("tuple", 1, 2.5, None, True, "text", b"raw"), "n": 2**70}
expected = {
    k: {"shape": list(np.shape(v)), "values": np.asarray(v).ravel(order="C").astype(float).tolist()}
    for k, v in cases.items()
}
for proto in (2, 3, 4, 5):
    with open(os.path.join(HERE, f"pickle_cases_p{proto}.pkl"), "wb") as f:
        pickle.dump(payload, f, protocol=proto)
with open(os.path.join(HERE, "pickle_cases.json"), "w") as f:
    json.dump(expected, f, indent=1)


class Py2StylePickler(pickle._Pickler):
    """Writes str and bytes as Python 2 `str` (BINSTRING opcodes), as Lasagne-era pickles are."""

    def _binstring(self, data):
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + len(data).to_bytes(4, "little") + data)
        self.memoize(data)

    def save_bytes(self, obj):
        self._binstring(obj)

    def save_str(self, obj):
        self._binstring(obj.encode("latin1"))

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


with open(os.path.join(HERE, "small_net_py2.pkl"), "wb") as f:
    Py2StylePickler(f, protocol=2).dump({"param values": params})


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


with open(os.path.join(HERE, "evil.pkl"), "wb") as f:
    pickle.dump({"param values": [Evil()]}, f, protocol=2)
print("params:", [p.shape for p in params])
