/**
 * A tiny experiment on disk for the shard tests: a hand-set CNN saved as the
 * parsed model (conv → average pool → softmax Dense, 6x6 inputs, 4
 * classes), a synthetic test set whose class is the bright quadrant, and an
 * INI file that simulates it with Poisson input.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { float32Array } from "../lib/io/ndarray.ts";
import { writeNpz } from "../lib/io/npz.ts";
import { saveParsedModel } from "../lib/parsing/files.ts";

/** 6x6 images; class c has a bright 3x3 quadrant c, plus noise (a fixed LCG). */
function dataset(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const x = new Float32Array(n * 36);
  const y = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const c = (i * 7) % 4;
    y[i * 4 + c] = 1;
    for (let p = 0; p < 36; p++) {
      const r = Math.floor(p / 6), col = p % 6;
      const q = (r < 3 ? 0 : 2) + (col < 3 ? 0 : 1);
      x[i * 36 + p] = (q === c ? 0.05 + 0.15 * rnd() : 0) + 0.7 * rnd();
    }
  }
  return { x, y };
}

function handSetModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 1], name: "input" });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "relu", name: "00Conv2D_4x4x4" });
  const pool = tf.layers.averagePooling2d({ poolSize: 2, name: "01AveragePooling2D_2x2x4" });
  const dense = tf.layers.dense({ units: 4, activation: "softmax", name: "03Dense_4" });
  const flat = tf.layers.flatten({ name: "02Flatten_16" }).apply(
    pool.apply(conv.apply(input)),
  ) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: dense.apply(flat) as tf.SymbolicTensor });
  const k = new Float32Array(9 * 4).map((_, i) => (1 + 0.1 * (i % 4)) / 9);
  conv.setWeights([tf.tensor(k, [3, 3, 1, 4]), tf.tensor([-0.1, -0.1, -0.15, -0.2])]);
  const w = new Float32Array(16 * 4).map((_, i) => (Math.floor(i / 16) === i % 4 ? 3 : -1));
  dense.setWeights([tf.tensor(w, [16, 4]), tf.zeros([4])]);
  return model;
}

/** Settings of {@linkcode writeExperiment}'s INI file (sections as text). */
export interface ExperimentSettings {
  /** Extra INI text appended (e.g. `[parameter_sweep]`). */
  extra?: string;
  /** `[simulation] duration` (default 30 steps of 1 ms). */
  duration?: number;
  /** `log_dir_of_current_run` (default `<dir>/log`). */
  logDir?: string;
}

/**
 * Write the model (`tiny_parsed.h5`), data (`data/x_test.npz`, `y_test.npz`,
 * `x_norm.npz`, `n` test samples) and `exp.ini` into `dir`; the run logs to
 * `<dir>/log`. Returns the INI path.
 */
export async function writeExperiment(
  dir: string,
  settings: ExperimentSettings = {},
  n = 40,
): Promise<string> {
  await Deno.mkdir(`${dir}/data`, { recursive: true });
  const model = handSetModel();
  await saveParsedModel(model, `${dir}/tiny_parsed.h5`);
  model.dispose();
  const test = dataset(n, 99);
  const norm = dataset(20, 5);
  await writeNpz(`${dir}/data/x_test.npz`, [float32Array(test.x, [n, 6, 6, 1])]);
  await writeNpz(`${dir}/data/y_test.npz`, [float32Array(test.y, [n, 4])]);
  await writeNpz(`${dir}/data/x_norm.npz`, [float32Array(norm.x, [20, 6, 6, 1])]);
  return await writeIni(dir, "exp.ini", settings);
}

/** Write another INI file for the experiment in `dir`. */
export async function writeIni(
  dir: string,
  name: string,
  settings: ExperimentSettings = {},
): Promise<string> {
  const ini = `[paths]
path_wd = ${dir}
dataset_path = ${dir}/data
filename_ann = tiny
log_dir_of_current_run = ${settings.logDir ?? `${dir}/log`}

[tools]
evaluate_ann = False
parse = False
normalize = True
convert = True
simulate = True

[input]
poisson_input = True

[simulation]
duration = ${settings.duration ?? 30}
batch_size = 5
num_to_test = 40
top_k = 2

[output]
log_vars = {'synaptic_operations_b_t', 'activations_n_b_l'}
plot_vars = {'error_t', 'correlation', 'spikerates'}
${settings.extra ?? ""}
`;
  await Deno.writeTextFile(`${dir}/${name}`, ini);
  return `${dir}/${name}`;
}
