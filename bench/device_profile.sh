#!/usr/bin/env bash
# Where the simulator's time goes on the GPU machine (docs/benchmarks.md, "WebGPU on a GPU"): one profiled
# time step per model (GPU milliseconds by kernel, from WebGPU timestamp queries, against wall time) and the
# throughput under tfjs-backend-webgpu flags that trade submission batching and convolution lowering.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PY:-$(command -v python3)}
$py -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.device/device_bench.js.xz'), open('/tmp/device_bench.js', 'wb'))"
sim() { timeout 90 deno run -A /tmp/device_bench.js --demo testdata/demo --vgg .device/vgg_cifar10.onnx --backend webgpu "$@" || echo "{\"error\": \"$*\"}"; }
sim --model vgg --batch 128 --steps 100 --profile
sim --model vgg --batch 512 --steps 50 --profile
sim --model mnist --batch 128 --steps 100 --profile
sim --model vgg --batch 128 --steps 100 --flags WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=100
sim --model vgg --batch 128 --steps 100 --flags WEBGPU_CONV_SEPARATE_IM2COL_SHADER=true
sim --model vgg --batch 512 --steps 50 --flags WEBGPU_CONV_SEPARATE_IM2COL_SHADER=true
sim --model mnist --batch 128 --steps 100 --flags WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=100
echo '{"done": true}'
