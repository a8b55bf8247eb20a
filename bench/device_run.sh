#!/usr/bin/env bash
# The GPU-machine benchmark (see docs/benchmarks.md, "WebGPU on a GPU"): run from the project root on
# the device, after .device/ was prepared here (../shared/device/prepare.sh, the device_bench bundle,
# .device/vgg_cifar10.onnx). Prints one JSON line per measurement: the simulator on WebGPU and on WASM
# (one thread, and one per core) for the demo MNIST CNN and the VGG-like CIFAR-10 network, and PyTorch
# running the same integrate-and-fire loop on CUDA (and the CPU) when python3 with torch is there.
set -uo pipefail
cd "$(dirname "$0")/.."
bench() { deno run -A .device/device_bench.js --demo testdata/demo --vgg .device/vgg_cifar10.onnx "$@" || true; }
cores=$(nproc)
for model in mnist vgg; do
  for batch in 32 128; do
    bench --backend webgpu --model "$model" --batch "$batch" --steps 50
    bench --backend wasm --model "$model" --batch "$batch" --steps 5 --threads 1
    bench --backend wasm --model "$model" --batch "$batch" --steps 5 --threads "$cores"
    if python3 -c 'import torch' 2>/dev/null; then
      python3 bench/snn_peer.py --measure "$model" "$batch" 50 cuda 2>/dev/null || true
      python3 bench/snn_peer.py --measure "$model" "$batch" 5 cpu 2>/dev/null || true
    fi
  done
done
