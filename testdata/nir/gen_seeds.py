#!/usr/bin/python3
"""Write small NIR graphs with the reference implementation (neuromorphs/NIR's `nir` package), the
seeds of the fuzz harness's `nir` kind (tests/fuzz/seeds.ts):

    PYTHONPATH=/work/ref/NIR /usr/bin/python3 testdata/nir/gen_seeds.py

- small_cnn.nir: Input (1, 6, 6) -> Conv2d (2 filters 3x3, bias) -> IF -> Flatten -> Affine
  (32 -> 3) -> IF -> Output, with random weights (seeded): the shape of graph `snntoolbox export`
  writes, written by another writer.
- small_cnn.in.npy: 4 inputs for it, (4, 1, 6, 6) as NIR lays tensors out.
"""
import os

import nir
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if not hasattr(nir, "version"):
    nir.version = "1.0.7"  # a source checkout has no package metadata, which nir.write reads

rng = np.random.default_rng(5)
f32 = np.float32
nodes = {
    "input": nir.Input(input_type={"input": np.array([1, 6, 6])}),
    "conv": nir.Conv2d(
        input_shape=(6, 6), weight=rng.normal(0, 0.6, (2, 1, 3, 3)).astype(f32), stride=1, padding=0,
        dilation=1, groups=1, bias=rng.normal(0.2, 0.1, 2).astype(f32)),
    "if1": nir.IF(r=np.ones((2, 4, 4), f32), v_threshold=np.ones((2, 4, 4), f32),
                  v_reset=np.zeros((2, 4, 4), f32)),
    "flat": nir.Flatten(input_type={"input": np.array([2, 4, 4])}, start_dim=0, end_dim=-1),
    "fc": nir.Affine(weight=rng.normal(0, 0.4, (3, 32)).astype(f32), bias=np.full(3, 0.1, f32)),
    "if2": nir.IF(r=np.ones(3, f32), v_threshold=np.ones(3, f32), v_reset=np.zeros(3, f32)),
    "output": nir.Output(output_type={"output": np.array([3])}),
}
order = list(nodes)
edges = list(zip(order, order[1:]))
graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
nir.write(os.path.join(HERE, "small_cnn.nir"), graph)
np.save(os.path.join(HERE, "small_cnn.in.npy"), rng.uniform(0, 1, (4, 1, 6, 6)).astype(f32))
print("wrote small_cnn.nir, small_cnn.in.npy")
