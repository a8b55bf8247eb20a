/**
 * updateSetup against the Python toolbox's own `update_setup`: every case in
 * testdata/config/update_setup/ was run through the real function by
 * testdata/config/gen_update_setup.py (expected/update_setup.json): the whole
 * resulting configuration, or the exception class it raised.
 */
import { assertEquals, assertTrue } from "./_assert.ts";
import { updateSetup } from "../lib/pipeline/setup.ts";
import { PythonConfigError } from "../lib/config/errors.ts";

const CASES = new URL("../testdata/config/update_setup/", import.meta.url);
const expected: Record<string, { config?: Record<string, Record<string, string>>; error?: string }> = JSON
  .parse(
    await Deno.readTextFile(new URL("../testdata/config/expected/update_setup.json", import.meta.url)),
  );
/** Values that are sets written by str(set): Python's order is arbitrary, so compare them as sorted lists. */
const SET_VALUES = new Set(["output.plot_vars", "output.log_vars"]);

/** Make the experiment folder of a case; returns the config path and the folder. */
async function setUp(name: string): Promise<{ cfg: string; dir: string }> {
  const text = await Deno.readTextFile(new URL(`${name}.ini`, CASES));
  const files = text.split("\n")[0].replace("# files:", "").trim().split(/\s+/);
  const dir = await Deno.makeTempDir({ prefix: "snntb_update_setup_" });
  for (const f of files) await Deno.writeTextFile(`${dir}/${f}`, "x");
  await Deno.writeTextFile(`${dir}/experiment.ini`, text.replaceAll("{DIR}", dir));
  return { cfg: `${dir}/experiment.ini`, dir };
}

Deno.test("update_setup corpus: every case has the toolbox's result and every result a case; 10+ successes, 10+ errors", () => {
  const cases = [...Deno.readDirSync(CASES)].map((e) => e.name).filter((n) => n.endsWith(".ini"));
  assertEquals(Object.keys(expected).sort(), cases.map((n) => n.slice(0, -".ini".length)).sort());
  const values = Object.values(expected);
  assertTrue(values.filter((v) => v.config).length >= 10 && values.filter((v) => v.error).length >= 10);
});

for (const [name, want] of Object.entries(expected)) {
  Deno.test(`updateSetup vs the toolbox's update_setup: ${name}`, async () => {
    const { cfg, dir } = await setUp(name);
    try {
      let config;
      try {
        config = await updateSetup(cfg);
      } catch (err) {
        if (!(err instanceof PythonConfigError)) throw err;
        assertEquals(err.pythonError, want.error, `${name}: ${err.message}`);
        return;
      }
      assertEquals(want.error, undefined, `${name}: Python raised ${want.error}, we did not`);
      const got = config.toJson();
      assertEquals(Object.keys(got), Object.keys(want.config ?? {}));
      for (const [section, values] of Object.entries(want.config ?? {})) {
        assertEquals(Object.keys(got[section]), Object.keys(values), `[${section}] keys`);
        for (const [key, value] of Object.entries(values)) {
          const ours = got[section][key].replaceAll(dir, "{DIR}");
          if (SET_VALUES.has(`${section}.${key}`)) {
            const theirs = config.getStringSet(section, key).sort();
            const parsed = new Set(value.slice(1, -1).split(", ").filter(Boolean).map((s) => s.slice(1, -1)));
            assertEquals(theirs, [...parsed].sort(), `[${section}] ${key}`);
          } else {
            assertEquals(ours, value, `[${section}] ${key}`);
          }
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
