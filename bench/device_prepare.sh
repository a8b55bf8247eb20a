#!/usr/bin/env bash
# Fill .device/ (ignored) with what bench/device_run.sh needs on the GPU machine, within its 64 MiB:
# Deno and the Vulkan loaders (../shared/device/prepare.sh), the simulator benchmark bundled and
# xz-compressed, the VGG-like CIFAR-10 ONNX file, ResNet-18's ONNX graph without its weights (filled with
# random values there), and onnxruntime-web's WebGPU build with its WASM binary (compressed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ../shared/device/prepare.sh
deno bundle --no-config --unstable-raw-imports --platform deno --quiet -o .device/device_bench.js scripts/device_bench.ts
xz -T0 -6 -f .device/device_bench.js
/usr/bin/python3 bench/snn_peer.py --export-vgg .device >/dev/null
resnet=${TMPDIR:-/tmp}/snntoolbox-onnx-bench/resnet18.onnx
[ -s "$resnet" ] || /usr/bin/python3 testdata/onnx/gen_models.py --resnet "$(dirname "$resnet")"
/usr/bin/python3 bench/onnx_weights.py --strip "$resnet" .device/resnet18.stripped.onnx
ort=$(deno info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["npmCache"])')/registry.npmjs.org/onnxruntime-web/1.20.1/dist
[ -d "$ort" ] || deno cache --lock=tests/deno.lock bench/webgpu_bench.ts
mkdir -p .device/ort
cp "$ort/ort.webgpu.bundle.min.mjs" .device/ort/
xz -T0 -6 -c "$ort/ort-wasm-simd-threaded.jsep.wasm" > .device/ort/ort-wasm-simd-threaded.jsep.wasm.xz
du -sh .device
