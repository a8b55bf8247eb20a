/**
 * The seed files of the fuzz harness: every input kind the toolbox reads,
 * taken from testdata/ and the shared real-model fixtures (absent ones are
 * skipped), each with the files it needs beside it and the CLI command that
 * loads it.
 *
 * @module
 */
import type { Layout } from "./mutate.ts";

/** The input kinds the harness covers. */
export const KINDS = [
  "keras-h5",
  "keras-json",
  "keras-zip",
  "tfjs-json",
  "onnx",
  "prototxt",
  "caffemodel",
  "lasagne-pkl",
  "lasagne-npz",
  "lasagne-py",
  "npy",
  "ini",
  "pytorch-pth",
  "pytorch-pkl",
  "pytorch-py",
  "nir",
] as const;

/** One input kind. */
export type Kind = typeof KINDS[number];

/** A file of a case: where it comes from and its name in the case folder. */
export interface SeedFile {
  /** `testdata/...` (repository-relative) or `fixtures:...` (relative to the shared fixtures). */
  src: string;
  /** File name inside the case folder. */
  name: string;
}

/** A seed: the files of one loadable input, the one to mutate, and how to load it. */
export interface Seed {
  /** Input kind. */
  kind: Kind;
  /** Layout of the mutated file (for format-aware mutations). */
  layout: Layout;
  /** All files of the case; `files[0]` is the one mutated. */
  files: SeedFile[];
  /**
   * CLI arguments with placeholders: `{in}` (the mutated file's path after
   * any renaming), `{dir}` (the case folder), `{out}` (the output folder).
   */
  argv: string[];
}

/** Repository root (two levels above this file). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The shared fixtures folder, when present. */
export function fixturesRoot(): string | undefined {
  let dir: string;
  try {
    dir = Deno.env.get("SNNTOOLBOX_FIXTURES") ?? `${REPO_ROOT}/../shared/fixtures`;
  } catch {
    dir = `${REPO_ROOT}/../shared/fixtures`;
  }
  try {
    return Deno.statSync(dir).isDirectory ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Absolute path of a seed file source, or `undefined` when it is a fixture and fixtures are absent. */
export function resolveSrc(src: string): string | undefined {
  if (src.startsWith("fixtures:")) {
    const root = fixturesRoot();
    return root ? `${root}/${src.slice("fixtures:".length)}` : undefined;
  }
  return `${REPO_ROOT}/${src}`;
}

const PARSE = ["parse", "{in}", "--out", "{out}"];

function seed(kind: Kind, layout: Layout, files: [string, string][], argv = PARSE): Seed {
  return { kind, layout, files: files.map(([src, name]) => ({ src, name })), argv };
}

/** A valid experiment INI (for the `ini` kind) next to the demo model. */
export const BASE_INI = `[paths]
path_wd = .
dataset_path = ${REPO_ROOT}/testdata/demo/data
filename_ann = mnist_cnn

[input]
model_lib = keras

[tools]
evaluate_ann = False
parse = True
normalize = False
convert = False
simulate = False

[simulation]
duration = 50
batch_size = 10
num_to_test = 100

[conversion]
spike_code = temporal_mean_rate
`;

/** Every seed whose files exist. `base.ini` is written by {@linkcode materializeBaseIni}. */
export function allSeeds(): Seed[] {
  const s: Seed[] = [
    seed("keras-h5", "hdf5", [["testdata/keras/keras1_merge.h5", "m.h5"]]),
    seed("keras-h5", "hdf5", [["fixtures:keras-h5/snn_mnist_tiny_keras2.2.4.h5", "m.h5"]]),
    seed("keras-h5", "hdf5", [["fixtures:keras-h5/hls4ml_conv1d_1layer_keras2.11.h5", "m.h5"]]),
    seed("keras-h5", "hdf5", [["fixtures:keras-h5/st_miniresnet_1stack_residual_keras2.9.h5", "m.h5"]]),
    seed("keras-h5", "hdf5", [["fixtures:keras-h5/snn_lenet5_keras2.2.4_tf_chfirst.h5", "m.h5"]]),
    seed("keras-json", "text", [
      ["testdata/keras/keras1_th_cnn.json", "m.json"],
      ["testdata/keras/keras1_th_cnn_weights.h5", "m_weights.h5"],
    ]),
    seed("keras-json", "hdf5", [
      ["testdata/keras/keras1_th_cnn_weights.h5", "m_weights.h5"],
      ["testdata/keras/keras1_th_cnn.json", "m.json"],
    ], ["parse", "{dir}/m.json", "--out", "{out}"]),
    seed("keras-json", "text", [
      ["fixtures:keras-h5-weights-json/hls4ml_KERAS_conv2d_model.json", "m.json"],
      ["fixtures:keras-h5-weights-json/hls4ml_KERAS_conv2d_model_weights.h5", "m_weights.h5"],
    ]),
    seed("keras-zip", "zip", [["testdata/keras/keras3_sequential.keras", "m.keras"]]),
    seed("keras-zip", "zip", [["testdata/keras/keras3_nested.keras", "m.keras"]]),
    seed("keras-zip", "zip", [["testdata/keras/keras3_functional.keras", "m.keras"]]),
    seed("tfjs-json", "text", [
      ["testdata/demo/mnist_cnn.json", "mnist_cnn.json"],
      ["testdata/demo/mnist_cnn.weights.bin", "mnist_cnn.weights.bin"],
    ]),
    seed("tfjs-json", "binary", [
      ["testdata/demo/mnist_cnn.weights.bin", "mnist_cnn.weights.bin"],
      ["testdata/demo/mnist_cnn.json", "mnist_cnn.json"],
    ], ["parse", "{dir}/mnist_cnn.json", "--out", "{out}"]),
    seed("tfjs-json", "text", [
      ["fixtures:tfjs-layers/tfjs-examples-abalone/model.json", "model.json"],
      ["fixtures:tfjs-layers/tfjs-examples-abalone/weights.bin", "weights.bin"],
    ]),
    seed("onnx", "protobuf", [["testdata/onnx/mlp_op13.onnx", "m.onnx"]]),
    seed("onnx", "protobuf", [["testdata/onnx/residual_op9.onnx", "m.onnx"]]),
    seed("onnx", "protobuf", [["testdata/onnx/pools_op17.onnx", "m.onnx"]]),
    seed("onnx", "protobuf", [["testdata/onnx/groups_op11.onnx", "m.onnx"]]),
    seed("onnx", "protobuf", [["fixtures:onnx/hls4ml_three_layer_bn_pytorch.onnx", "m.onnx"]]),
    seed("onnx", "protobuf", [["fixtures:onnx/hls4ml_conv2d_small_keras.onnx", "m.onnx"]]),
    seed("prototxt", "text", [
      ["testdata/caffe/small.prototxt", "m.prototxt"],
      ["testdata/caffe/small.caffemodel", "m.caffemodel"],
    ]),
    seed("prototxt", "text", [
      ["testdata/caffe/small3.prototxt", "m.prototxt"],
      ["testdata/caffe/small3.caffemodel", "m.caffemodel"],
    ]),
    seed("prototxt", "text", [
      ["fixtures:caffe/lenet.prototxt", "m.prototxt"],
      ["fixtures:caffe/lenet_iter_10000.caffemodel", "m.caffemodel"],
    ]),
    seed("caffemodel", "protobuf", [
      ["testdata/caffe/small.caffemodel", "m.caffemodel"],
      ["testdata/caffe/small.prototxt", "m.prototxt"],
    ], ["parse", "{dir}/m.prototxt", "--out", "{out}"]),
    seed("caffemodel", "protobuf", [
      ["testdata/caffe/small3.caffemodel", "m.caffemodel"],
      ["testdata/caffe/small3.prototxt", "m.prototxt"],
    ], ["parse", "{dir}/m.prototxt", "--out", "{out}"]),
    seed("lasagne-pkl", "pickle", [
      ["testdata/lasagne/small_net.pkl", "m.pkl"],
      ["testdata/lasagne/small_net.py", "m.py"],
    ], ["parse", "{dir}/m.py", "--out", "{out}"]),
    seed("lasagne-pkl", "pickle", [
      ["testdata/lasagne/small_net_py2.pkl", "m.pkl"],
      ["testdata/lasagne/small_net.py", "m.py"],
    ], ["parse", "{dir}/m.py", "--out", "{out}"]),
    seed("lasagne-npz", "zip", [
      ["testdata/lasagne/small_net.npz", "m.npz"],
      ["testdata/lasagne/small_net.py", "m.py"],
    ], ["parse", "{dir}/m.py", "--out", "{out}"]),
    seed("lasagne-py", "text", [
      ["testdata/lasagne/small_net.py", "m.py"],
      ["testdata/lasagne/small_net.pkl", "m.pkl"],
    ]),
    seed("pytorch-pth", "zip", [
      ["testdata/pytorch/toolbox_net.pth", "m.pth"],
      ["testdata/pytorch/toolbox_net.py", "m.py"],
    ], ["parse", "{dir}/m.py", "--out", "{out}"]),
    seed("pytorch-pkl", "pickle", [
      ["testdata/pytorch/resnet_small.pkl", "m.pkl"],
      ["testdata/pytorch/resnet_small.py", "m.py"],
    ], ["parse", "{dir}/m.py", "--out", "{out}"]),
    seed("pytorch-py", "text", [
      ["testdata/pytorch/resnet_small.py", "m.py"],
      ["testdata/pytorch/resnet_small.pth", "m.pth"],
    ]),
    seed("pytorch-py", "text", [
      ["testdata/pytorch/toolbox_net.py", "m.py"],
      ["testdata/pytorch/toolbox_net.pkl", "m.pkl"],
    ]),
    seed("nir", "hdf5", [
      ["testdata/nir/small_cnn.nir", "g.nir"],
      ["testdata/nir/small_cnn.in.npy", "x.npy"],
    ], ["predict", "{in}", "--input", "{dir}/x.npy", "--output", "{out}/y.npy", "--duration", "20"]),
    seed("nir", "hdf5", [["testdata/nir/small_cnn.nir", "g.nir"]], ["inspect", "{in}"]),
    seed("npy", "npy", [
      ["testdata/onnx/mlp.in.npy", "x.npy"],
      ["testdata/onnx/mlp_op13.onnx", "m.onnx"],
    ], ["predict", "{dir}/m.onnx", "--input", "{in}", "--output", "{out}/y.npy"]),
    seed("npy", "npy", [
      ["testdata/keras/keras1_merge.in.npy", "x.npy"],
      ["testdata/keras/keras1_merge.h5", "m.h5"],
    ], ["predict", "{dir}/m.h5", "--input", "{in}", "--output", "{out}/y.npy"]),
    seed("ini", "text", [
      ["base.ini", "m.ini"],
      ["testdata/demo/mnist_cnn.json", "mnist_cnn.json"],
      ["testdata/demo/mnist_cnn.weights.bin", "mnist_cnn.weights.bin"],
    ], ["config", "{in}"]),
    seed("ini", "text", [["testdata/config/cases/10_interp_chain.ini", "m.ini"]], ["config", "{in}"]),
    seed("ini", "text", [["testdata/config/cases/05_continuation.ini", "m.ini"]], ["config", "{in}"]),
  ];
  return s.filter((x) => x.files.every((f) => f.src === "base.ini" || resolveSrc(f.src) !== undefined));
}

/** Bytes of a seed file (`base.ini` is {@linkcode BASE_INI}). */
export function readSeedFile(src: string): Uint8Array {
  if (src === "base.ini") return new TextEncoder().encode(BASE_INI);
  const path = resolveSrc(src);
  if (!path) throw new Error(`seed ${src} is a fixture and the fixtures are absent`);
  return Deno.readFileSync(path);
}
