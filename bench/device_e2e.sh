#!/usr/bin/env bash
# The whole pipeline on the GPU machine (docs/benchmarks.md, "WebGPU on a GPU"), after bench/device_prepare.sh
# and `deno task bundle` (dist/snntoolbox.js, carried xz-compressed as .device/snntoolbox.js.xz): which
# backend `auto` picks there, the demo experiment end to end on WebGPU and on WASM (accuracies must agree;
# wall time of each), and the VGG-like network's simulator throughput at larger batches beside PyTorch CUDA.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PY:-$(command -v python3)}
$py - <<'PY'
import lzma, shutil
for name in ("snntoolbox.js", "device_bench.js"):
    with lzma.open(f".device/{name}.xz") as f, open(f"/tmp/{name}", "wb") as g:
        shutil.copyfileobj(f, g)
PY
env -u SNNTOOLBOX_BACKEND deno run -A /tmp/snntoolbox.js --version
for backend in webgpu wasm; do
  rm -rf "/tmp/demo-$backend" && cp -r testdata/demo "/tmp/demo-$backend"
  start=$EPOCHREALTIME
  SNNTOOLBOX_BACKEND=$backend timeout 150 deno run -A /tmp/snntoolbox.js run "/tmp/demo-$backend/mnist_keras.ini" \
    --json | tail -1 > "/tmp/demo-$backend.json"
  end=$EPOCHREALTIME
  $py -c "import json,sys; r=json.load(open('/tmp/demo-$backend.json')); print(json.dumps({'demo': '$backend', 'wall_s': round($end-$start, 2), **{k: r.get(k) for k in ('num_tested', 'ann_accuracy', 'parsed_accuracy', 'snn_accuracy')}}))" \
    || { echo "{\"error\": \"demo on $backend\"}"; tail -c 600 "/tmp/demo-$backend.json"; }
done
for batch in 512 1024; do
  timeout 120 deno run -A /tmp/device_bench.js --demo testdata/demo --vgg .device/vgg_cifar10.onnx --backend webgpu \
    --model vgg --batch "$batch" --steps 50 || echo "{\"error\": \"vgg webgpu b$batch\"}"
  timeout 120 $py bench/snn_peer.py --measure vgg "$batch" 50 cuda 2>/dev/null || echo "{\"error\": \"vgg cuda b$batch\"}"
done
echo '{"done": true}'
