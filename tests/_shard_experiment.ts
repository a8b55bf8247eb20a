/**
 * A tiny experiment on disk for the shard tests: the hand-set quadrant CNN
 * (tests/_quadrants.ts) saved as the parsed model, a synthetic test set
 * whose class is the bright quadrant, and an INI file that simulates it with
 * Poisson input.
 *
 * @module
 */
import { writeNpz } from "../lib/io/npz.ts";
import { saveParsedModel } from "../lib/parsing/files.ts";
import { type QuadrantImageOptions, quadrantImages, quadrantModel } from "./_quadrants.ts";

/** The shard tests' images: every 7th class, faint quadrants under strong noise. */
const IMAGES = { classStride: 7, bright: [0.05, 0.15], noise: 0.7 } as const satisfies QuadrantImageOptions;

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
  const model = quadrantModel();
  await saveParsedModel(model, `${dir}/tiny_parsed.h5`);
  model.dispose();
  const test = quadrantImages(n, 99, IMAGES);
  const norm = quadrantImages(20, 5, IMAGES);
  await writeNpz(`${dir}/data/x_test.npz`, [test.x]);
  await writeNpz(`${dir}/data/y_test.npz`, [test.y]);
  await writeNpz(`${dir}/data/x_norm.npz`, [norm.x]);
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
