/** `snntoolbox config CONFIG [--json]` through the real CLI entry point. */
import { assertEquals, assertMatch, assertTrue } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { TempDirs } from "./_temp.ts";

const run = runCli;

/** Temp folders of this file's tests, removed when the test that made them ends (tests here are `temp.test`). */
const temp = new TempDirs();

async function experiment(ini: string): Promise<string> {
  const dir = await temp.make("snntb_cli_config_");
  for (const f of ["net.h5", "x_test.npz", "y_test.npz", "x_norm.npz"]) {
    await Deno.writeTextFile(`${dir}/${f}`, "x");
  }
  await Deno.writeTextFile(`${dir}/exp.ini`, ini);
  return `${dir}/exp.ini`;
}

temp.test("snntoolbox config prints every section and key of the resolved configuration", async () => {
  const cfg = await experiment("[paths]\nfilename_ann = net\n[simulation]\nduration = 75\n");
  const dir = cfg.slice(0, cfg.lastIndexOf("/"));
  const { code, out } = await run(["config", cfg]);
  assertEquals(code, 0);
  const sections = out.filter((l) => l.startsWith("["));
  assertEquals(sections, [
    "[paths]",
    "[input]",
    "[tools]",
    "[normalization]",
    "[conversion]",
    "[simulation]",
    "[spinnaker]",
    "[cell]",
    "[parameter_sweep]",
    "[output]",
    "[restrictions]",
  ]);
  assertTrue(out.includes(`path_wd = ${dir}`));
  assertTrue(out.includes("filename_snn = net_INI"));
  assertTrue(out.includes("duration = 75"));
  assertTrue(out.includes("tau_syn_E = 0.01"));
  // Interpolated: the defaults' `simulators = %(simulators_pyNN)s | %(simulators_other)s`.
  assertTrue(
    out.includes(
      "simulators = {'nest', 'brian', 'neuron', 'spiNNaker'} | {'INI', 'brian2', 'MegaSim', 'loihi'}",
    ),
  );
  // Nothing written by `config`.
  await Deno.stat(`${dir}/log`).then(() => assertTrue(false, "log dir created"), () => {});
});

temp.test("snntoolbox config --json gives {section: {key: string}}", async () => {
  const cfg = await experiment("[paths]\nfilename_ann = net\n[output]\nverbose = 0\n");
  const { code, out } = await run(["config", "--json", cfg]);
  assertEquals(code, 0);
  const json = JSON.parse(out.join("\n"));
  assertEquals(json.output.verbose, "0");
  assertEquals(json.paths.filename_parsed_model, "net_parsed");
  assertEquals(Object.keys(json).length, 11);
  for (const section of Object.values(json)) {
    for (const v of Object.values(section as Record<string, unknown>)) assertEquals(typeof v, "string");
  }
});

temp.test("snntoolbox config: usage and configuration errors exit with 2", async () => {
  const missing = await run(["config"]);
  assertEquals(missing.code, 2);
  assertMatch(missing.err.join("\n"), /error: missing the CONFIG argument/);
  const unknownFlag = await run(["config", "--yaml", "x.ini"]);
  assertEquals(unknownFlag.code, 2);
  const bad = await run([
    "config",
    await experiment("[paths]\nfilename_ann = net\n[simulation]\nsimulator = nengo\n"),
  ]);
  assertEquals(bad.code, 2);
  assertMatch(
    bad.err.join("\n"),
    /exp\.ini:4: \[simulation\] simulator: 'nengo' is not allowed; expected one of/,
  );
  const help = await run(["config", "--help"]);
  assertEquals(help.code, 0);
  assertMatch(help.out.join("\n"), /^Usage: snntoolbox config CONFIG \[--json\]/);
});

temp.test("snntoolbox config prints warnings on stderr, not with --quiet", async () => {
  const cfg = await experiment("[paths]\nfilename_ann = net\n[cell]\nv_threshold = 2\n");
  const loud = await run(["config", cfg]);
  assertMatch(loud.err.join("\n"), /warning: .*\[cell\] v_threshold is not a toolbox setting/);
  const quiet = await run(["-q", "config", cfg]);
  assertEquals(quiet.err, []);
  assertEquals(quiet.code, 0);
});
