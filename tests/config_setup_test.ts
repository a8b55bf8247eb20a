/**
 * updateSetup: values against Python's configparser (expected/toolbox_style.json,
 * written by testdata/config/gen_expected.py), the derived values the
 * toolbox's update_setup fills in, its adjustments, and every validation error.
 */
import { assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { ResolvedConfig, updateSetup } from "../lib/pipeline/setup.ts";
import { PythonConfigError } from "../lib/config/errors.ts";
import { ConfigError } from "../lib/errors.ts";
import { literalEval } from "../lib/config/literal.ts";
import { ConfigParser } from "../lib/config/configparser.ts";
import { TempDirs } from "./_temp.ts";

const DATA_FILES = ["x_test.npz", "y_test.npz", "x_norm.npz"];

/** Temp folders of this file's tests, removed when the test that made them ends (tests here are `temp.test`). */
const temp = new TempDirs();

/** A temp experiment folder with `files` (empty) and `experiment.ini` holding `ini`; returns the config path. */
async function experiment(ini: string, files: string[] = ["model.h5", ...DATA_FILES]): Promise<string> {
  const dir = await temp.make("snntb_config_");
  for (const f of files) await Deno.writeFile(`${dir}/${f}`, new Uint8Array([1]));
  await Deno.writeTextFile(`${dir}/experiment.ini`, ini);
  return `${dir}/experiment.ini`;
}

const BASE = "[paths]\nfilename_ann = model\n";
const DERIVED = new Set([
  "paths.path_wd",
  "paths.dataset_path",
  "paths.log_dir_of_current_run",
  "paths.filename_parsed_model",
  "paths.filename_snn",
  "simulation.num_to_test",
  "output.log_vars",
]);

temp.test("toolbox-style config: every non-derived value equals Python configparser's", async () => {
  const src = new URL("../testdata/config/toolbox_style/experiment.ini", import.meta.url);
  const cfgPath = await experiment(await Deno.readTextFile(src), ["mnist_cnn.h5", ...DATA_FILES]);
  const dir = cfgPath.slice(0, cfgPath.lastIndexOf("/"));
  const expected: Record<string, Record<string, string>> = JSON.parse(
    await Deno.readTextFile(new URL("../testdata/config/expected/toolbox_style.json", import.meta.url)),
  );
  const config = await updateSetup(cfgPath, { createLogDir: false });
  const got = config.toJson();
  assertEquals(Object.keys(got), Object.keys(expected));
  let compared = 0;
  for (const [section, values] of Object.entries(expected)) {
    assertEquals(Object.keys(got[section]), Object.keys(values), `keys of [${section}]`);
    for (const [key, value] of Object.entries(values)) {
      if (DERIVED.has(`${section}.${key}`)) continue;
      assertEquals(got[section][key], value, `[${section}] ${key}`);
      compared++;
    }
  }
  assertTrue(compared > 80, `${compared} values compared`);
  // The values update_setup derives:
  assertEquals(got.paths.path_wd, dir);
  assertEquals(got.paths.dataset_path, dir);
  assertEquals(got.paths.log_dir_of_current_run, `${dir}/log/gui/run_mnist_cnn`);
  assertEquals(got.paths.filename_parsed_model, "mnist_cnn_parsed");
  assertEquals(got.paths.filename_snn, "mnist_cnn_INI");
  assertEquals(got.simulation.num_to_test, "50"); // raised to 8 by sample_idxs_to_test, then to batch_size 50
  const logVars = literalEval(got.output.log_vars);
  assertTrue(
    typeof logVars === "object" && logVars !== null && !Array.isArray(logVars) && logVars.kind === "set",
  );
  assertEquals(logVars.items.length, 6); // 'all' expanded to every log variable except 'all'
  assertTrue(!logVars.items.includes("all"));
  assertEquals(config.warnings.length, 2, config.warnings.join("\n"));
});

temp.test("updateSetup creates the log folder and writes .config that reads back the same", async () => {
  const cfgPath = await experiment(BASE + "[output]\nplot_vars = {'all'}\n");
  const config = await updateSetup(cfgPath);
  const logDir = config.get("paths", "log_dir_of_current_run");
  const reread = new ConfigParser({ optionxform: (s) => s });
  reread.readString(await Deno.readTextFile(`${logDir}/.config`), ".config");
  for (const section of config.sections()) assertEquals(reread.items(section), config.items(section));
  const plotVars = config.getLiteral("output", "plot_vars");
  assertTrue(
    typeof plotVars === "object" && plotVars !== null && !Array.isArray(plotVars) && plotVars.kind === "set",
  );
  assertEquals(plotVars.items.length, 12); // every plot variable of [restrictions] except 'all'
  assertTrue(!plotVars.items.includes("all") && plotVars.items.includes("v_mem"));
});

temp.test("createLogDir: false writes nothing", async () => {
  const cfgPath = await experiment(BASE);
  const config = await updateSetup(cfgPath, { createLogDir: false });
  assertTrue(config instanceof ResolvedConfig);
  await assertRejects(() => Deno.stat(config.get("paths", "log_dir_of_current_run")), Deno.errors.NotFound);
});

temp.test("adjustments: spike codes, brian2, sample indices, unknown keys", async () => {
  const pattern = await updateSetup(
    await experiment(BASE + "[conversion]\nspike_code = temporal_pattern\nnum_bits = 8\n"),
    { createLogDir: false },
  );
  assertEquals([pattern.get("simulation", "duration"), pattern.get("simulation", "batch_size")], ["8", "1"]);
  const ttfs = await updateSetup(await experiment(BASE + "[conversion]\nspike_code = ttfs\n"), {
    createLogDir: false,
  });
  assertEquals(ttfs.get("cell", "tau_refrac"), "200");
  const brian = await updateSetup(
    await experiment(BASE + "[simulation]\nsimulator = brian2\n[tools]\nconvert = 0\n"),
    {
      createLogDir: false,
    },
  );
  assertEquals(brian.getBoolean("tools", "convert"), true);
  const nest = await updateSetup(await experiment(BASE + "[simulation]\nsimulator = nest\ndt = 0.1\n"), {
    createLogDir: false,
  });
  assertEquals(nest.get("cell", "delay"), "0.1"); // delay 0 < dt: set to str(dt), as the toolbox does
  const unknown = await updateSetup(await experiment(BASE + "[cell]\nTAU_SYN_E = 2\n[mysection]\nx = 1\n"), {
    createLogDir: false,
  });
  assertEquals(unknown.get("cell", "tau_syn_E"), "0.01"); // keys are case-sensitive in the toolbox
  assertMatch(unknown.warnings.join("\n"), /TAU_SYN_E is not a toolbox setting.*did you mean 'tau_syn_E'/);
  assertMatch(unknown.warnings.join("\n"), /section \[mysection\] is not a toolbox section/);
});

temp.test("path_wd from the config is used; dataset_path defaults to the config's folder", async () => {
  const cfgPath = await experiment(BASE);
  const dir = cfgPath.slice(0, cfgPath.lastIndexOf("/"));
  const other = await experiment("", ["model.h5", ...DATA_FILES]);
  const otherDir = other.slice(0, other.lastIndexOf("/"));
  await Deno.writeTextFile(cfgPath, `${BASE}path_wd = ${otherDir}\n`);
  const config = await updateSetup(cfgPath, { createLogDir: false });
  assertEquals(config.get("paths", "path_wd"), otherDir);
  assertEquals(config.get("paths", "dataset_path"), dir);
  assertEquals(config.originOf("paths", "path_wd")?.file, cfgPath);
});

interface BadCase {
  name: string;
  ini: string;
  files?: string[];
  section: string;
  key: string;
  message: RegExp;
  python?: string;
  /** `ini` is the whole file (no BASE prepended). */
  whole?: boolean;
}

const BAD: BadCase[] = [
  {
    name: "model_lib",
    ini: "[input]\nmodel_lib = tensorflow\n",
    section: "input",
    key: "model_lib",
    message: /'tensorflow' is not allowed; expected one of keras, onnx, pytorch, caffe, lasagne/,
  },
  {
    name: "simulator",
    ini: "[simulation]\nsimulator = nengo\n",
    section: "simulation",
    key: "simulator",
    message: /'nengo' is not allowed; expected one of .*INI.*brian2/,
  },
  {
    name: "spike_code",
    ini: "[conversion]\nspike_code = rate\n",
    section: "conversion",
    key: "spike_code",
    message: /expected one of .*temporal_mean_rate/,
  },
  {
    name: "dataset_format",
    ini: "[input]\ndataset_format = csv\n",
    section: "input",
    key: "dataset_format",
    message: /expected one of .*npz/,
  },
  {
    name: "maxpool_type",
    ini: "[conversion]\nmaxpool_type = max\n",
    section: "conversion",
    key: "maxpool_type",
    message: /expected one of .*fir_max/,
  },
  {
    name: "keras_backend",
    ini: "[simulation]\nkeras_backend = jax\n",
    section: "simulation",
    key: "keras_backend",
    message: /expected one of .*tensorflow/,
  },
  {
    name: "frame_gen_method",
    ini: "[input]\nframe_gen_method = sum\n",
    section: "input",
    key: "frame_gen_method",
    message: /expected one of .*signed_sum/,
  },
  {
    name: "plot_vars",
    ini: "[output]\nplot_vars = {'spikerates', 'colors'}\n",
    section: "output",
    key: "plot_vars",
    message: /unknown 'colors'; allowed: .*spikerates/,
  },
  {
    name: "log_vars",
    ini: "[output]\nlog_vars = {'everything'}\n",
    section: "output",
    key: "log_vars",
    message: /unknown 'everything'/,
  },
  {
    name: "percentile 0",
    ini: "[normalization]\npercentile = 0\n",
    section: "normalization",
    key: "percentile",
    message: /'0' is not allowed; expected a number > 0 and <= 100/,
    python: "ValueError",
  },
  {
    name: "percentile 101",
    ini: "[normalization]\npercentile = 101\n",
    section: "normalization",
    key: "percentile",
    message: /'101' is not allowed/,
    python: "ValueError",
  },
  {
    name: "duration",
    ini: "[simulation]\nduration = -5\n",
    section: "simulation",
    key: "duration",
    message: /expected a number > 0/,
    python: "ValueError",
  },
  {
    name: "dt",
    ini: "[simulation]\ndt = 0\n",
    section: "simulation",
    key: "dt",
    message: /expected a number > 0/,
    python: "ValueError",
  },
  {
    name: "batch_size",
    ini: "[simulation]\nbatch_size = 0\n",
    section: "simulation",
    key: "batch_size",
    message: /expected an integer >= 1/,
    python: "ValueError",
  },
  {
    name: "num_to_test not int",
    ini: "[simulation]\nnum_to_test = ten\n",
    section: "simulation",
    key: "num_to_test",
    message: /expected an integer, found "ten"/,
    python: "ValueError",
  },
  {
    name: "boolean",
    ini: "[tools]\nnormalize = maybe\n",
    section: "tools",
    key: "normalize",
    message: /expected a boolean .*found "maybe"/,
    python: "ValueError",
  },
  {
    name: "sample_idxs",
    ini: "[simulation]\nsample_idxs_to_test = [1, -2]\n",
    section: "simulation",
    key: "sample_idxs_to_test",
    message: /expected a list of sample indices/,
    python: "ValueError",
  },
  {
    name: "plotproperties",
    ini: "[output]\nplotproperties = [1]\n",
    section: "output",
    key: "plotproperties",
    message: /expected a dict literal/,
    python: "ValueError",
  },
  {
    name: "param_name",
    ini: "[parameter_sweep]\nparam_name = v_threshold\n",
    section: "parameter_sweep",
    key: "param_name",
    message: /expected a parameter of \[cell\]: v_thresh, tau_refrac/,
    python: "ValueError",
  },
  {
    name: "literal syntax",
    ini: "[input]\nlabel_dict = {1: \n",
    section: "input",
    key: "label_dict",
    message: /expected a Python literal/,
    python: "SyntaxError",
  },
  {
    name: "filename_ann empty",
    ini: "[paths]\nfilename_ann =\n",
    whole: true,
    section: "paths",
    key: "filename_ann",
    message: /expected a non-empty value/,
  },
  {
    name: "path_wd",
    ini: BASE + "path_wd = /nonexistent/wd\n",
    whole: true,
    section: "paths",
    key: "path_wd",
    message: /working directory '\/nonexistent\/wd' does not exist/,
  },
  {
    name: "keras model file",
    ini: "",
    files: DATA_FILES,
    section: "paths",
    key: "filename_ann",
    message: /model_lib 'keras' needs the file .*model\.h5 or .*model\.keras or .*model\.json/,
  },
  {
    name: "onnx model file",
    ini: "[input]\nmodel_lib = onnx\n",
    section: "paths",
    key: "filename_ann",
    message: /model_lib 'onnx' needs the file .*model\.onnx/,
  },
  {
    name: "caffe weights",
    ini: "[input]\nmodel_lib = caffe\n",
    files: ["model.prototxt", ...DATA_FILES],
    section: "paths",
    key: "filename_ann",
    message: /needs the file .*model\.caffemodel or .*model\.caffemodel\.h5/,
  },
  {
    name: "lasagne source",
    ini: "[input]\nmodel_lib = lasagne\n",
    files: ["model.pkl", ...DATA_FILES],
    section: "paths",
    key: "filename_ann",
    message: /model_lib 'lasagne' needs the file .*model\.py/,
  },
  {
    name: "dataset files",
    ini: "",
    files: ["model.h5", "x_test.npz"],
    section: "paths",
    key: "dataset_path",
    message: /lacks y_test\.npz, x_norm\.npz \(x_norm\.npz is needed because \[tools\] normalize = True\)/,
    python: "RuntimeWarning",
  },
  {
    name: "dataset folder missing",
    ini: BASE + "dataset_path = /nonexistent/data\n",
    whole: true,
    section: "paths",
    key: "dataset_path",
    message: /data set folder '\/nonexistent\/data' does not exist/,
  },
  {
    name: "theano",
    ini: "[simulation]\nkeras_backend = theano\n[conversion]\nspike_code = ttfs\n",
    section: "conversion",
    key: "spike_code",
    message: /'theano' only works with spike_code 'temporal_mean_rate'/,
  },
];

for (const c of BAD) {
  temp.test(`validation error: ${c.name}`, async () => {
    const cfgPath = await experiment(c.whole ? c.ini : BASE + c.ini, c.files);
    const err = await assertRejects(
      () => updateSetup(cfgPath, { createLogDir: false }),
      ConfigError,
      c.message,
    );
    assertTrue(err instanceof PythonConfigError);
    assertEquals([err.section, err.option], [c.section, c.key]);
    assertEquals(err.pythonError, c.python ?? "AssertionError");
    assertTrue(err.message.includes(`[${c.section}] ${c.key}: `), err.message);
    // The message names the file the value came from (the user's file, or the defaults).
    assertTrue(
      err.message.startsWith(cfgPath) || err.message.startsWith("<snntoolbox config_defaults>"),
      err.message,
    );
  });
}

temp.test("validation error: empty data set folder", async () => {
  const cfgPath = await experiment(BASE, ["model.h5"]);
  const dataDir = await temp.make("snntb_empty_");
  await Deno.writeTextFile(cfgPath, `${BASE}dataset_path = ${dataDir}\n`);
  await assertRejects(() => updateSetup(cfgPath, { createLogDir: false }), ConfigError, /is empty/);
});

temp.test("missing config file and INI syntax errors are ConfigErrors", async () => {
  const e1 = await assertRejects(
    () => updateSetup("/nonexistent/x.ini"),
    ConfigError,
    /x\.ini: configuration file not found/,
  );
  assertEquals((e1 as PythonConfigError).pythonError, "AssertionError");
  const cfgPath = await experiment("[simulation]\nduration = 1\nduration = 2\n");
  const e2 = await assertRejects(
    () => updateSetup(cfgPath),
    ConfigError,
    /experiment\.ini:3: \[simulation\] duration/,
  );
  assertEquals((e2 as PythonConfigError).pythonError, "DuplicateOptionError");
});

temp.test("derived paths keep a literal '%' (escaped for interpolation)", async () => {
  const dir = await temp.make("snntb_100%_");
  for (const f of ["model.h5", ...DATA_FILES]) await Deno.writeTextFile(`${dir}/${f}`, "x");
  await Deno.writeTextFile(`${dir}/experiment.ini`, BASE);
  const config = await updateSetup(`${dir}/experiment.ini`, { createLogDir: false });
  assertEquals(config.get("paths", "path_wd"), dir);
  assertEquals(config.get("paths", "log_dir_of_current_run"), `${dir}/log/gui/test`);
});

temp.test("getStringSet reads sets like the toolbox; a filename_ann with extension gets a hint", async () => {
  const config = await updateSetup(
    await experiment(BASE + "[output]\nplot_vars = ['v_mem', 'v_mem', 'spikerates']\n"),
    {
      createLogDir: false,
    },
  );
  assertEquals(config.getStringSet("output", "plot_vars"), ["v_mem", "spikerates"]);
  assertEquals(config.getStringSet("output", "log_vars"), []); // `{}` is an empty dict: no keys
  assertEquals(config.getStringSet("restrictions", "simulators").length, 8);
  const err = await assertRejects(
    async () =>
      updateSetup(await experiment("[paths]\nfilename_ann = model.h5\n", ["model.h5", ...DATA_FILES])),
    ConfigError,
    /model\.h5\.h5 .*does not exist \(give filename_ann without the extension '\.h5'\)/,
  );
  assertEquals((err as PythonConfigError).option, "filename_ann");
});
