#!/usr/bin/env bash
# The GPU-machine benchmark (docs/benchmarks.md, "WebGPU on a GPU"): run from the project root on the device
# through ../shared/device/bootstrap.sh, after bench/device_prepare.sh filled .device/ here. Prints one JSON
# line per measurement, most important first (the machine's time is short; each line is kept as it comes):
# the simulator on WebGPU and PyTorch's CUDA IF loop for the VGG-like CIFAR-10 network and the demo CNN, the
# parsed ResNet-18 on WebGPU against onnxruntime-web's WebGPU EP (and PyTorch CUDA), then WASM (one thread,
# one per core) and PyTorch on the CPU. QUICK=1 shrinks every count (a dry run on a machine without a GPU).
set -uo pipefail
cd "$(dirname "$0")/.."
q=${QUICK:-0}
n() { if [ "$q" = 1 ]; then echo 1; else echo "$1"; fi; }
py=${PY:-$(command -v python3)}
# unpack what travels compressed
$py - <<'PY'
import lzma, os, shutil
for src, dst in ((".device/device_bench.js.xz", "/tmp/device_bench.js"),
                 (".device/ort/ort-wasm-simd-threaded.jsep.wasm.xz", "/tmp/ort/ort-wasm-simd-threaded.jsep.wasm")):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with lzma.open(src) as f, open(dst, "wb") as g:
        shutil.copyfileobj(f, g)
shutil.copy(".device/ort/ort.webgpu.bundle.min.mjs", "/tmp/ort/")
PY
$py bench/onnx_weights.py --fill .device/resnet18.stripped.onnx /tmp/resnet18.onnx || echo '{"error": "resnet18 fill failed"}'
sim() { timeout 120 deno run -A /tmp/device_bench.js --demo testdata/demo --vgg .device/vgg_cifar10.onnx "$@" || echo "{\"error\": \"device_bench $*: exit $?\"}"; }
peer() { timeout 120 $py bench/snn_peer.py "$@" 2>/dev/null || echo "{\"error\": \"snn_peer $*: exit $?\"}"; }
cores=$(nproc)
has_torch=0; $py -c 'import torch' 2>/dev/null && has_torch=1
for model in vgg mnist; do
  for batch in 128 32; do
    sim --backend webgpu --model "$model" --batch "$batch" --steps "$(n 100)"
    [ $has_torch = 1 ] && peer --measure "$model" "$batch" "$(n 100)" cuda
  done
done
sim --backend webgpu --model resnet18 --onnx /tmp/resnet18.onnx --batch 32 --steps "$(n 20)"
timeout 120 deno run -A --no-config bench/device_ort.ts --ort /tmp/ort --onnx /tmp/resnet18.onnx --batch 32 \
  --reps "$(n 20)" || echo '{"error": "onnxruntime-web webgpu failed"}'
[ $has_torch = 1 ] && peer --infer-resnet 32 "$(n 20)" cuda
for model in vgg mnist; do
  sim --backend wasm --model "$model" --batch 32 --steps "$(n 5)" --threads 1
  sim --backend wasm --model "$model" --batch 32 --steps "$(n 5)" --threads "$cores"
  [ $has_torch = 1 ] && peer --measure "$model" 32 "$(n 20)" cpu
done
echo '{"done": true}'
