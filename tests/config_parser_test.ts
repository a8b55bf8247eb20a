/**
 * Differential test of ConfigParser against Python's `configparser`: every
 * case in testdata/config/cases/ was read by the real Python 3.11
 * `configparser.ConfigParser()` (testdata/config/gen_expected.py) and its
 * values, conversions, `items()` order and errors were stored in
 * testdata/config/expected/.
 */
import { assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { ConfigParser } from "../lib/config/configparser.ts";
import { PythonConfigError } from "../lib/config/errors.ts";
import { pyFloatRepr } from "../lib/config/py_repr.ts";
import { DEFAULT_CONFIG } from "../lib/config/defaults.ts";
import { ConfigError } from "../lib/errors.ts";

const CASES = new URL("../testdata/config/cases/", import.meta.url);
const EXPECTED = new URL("../testdata/config/expected/", import.meta.url);

type Outcome<T> = T | { error: string };
interface Conversions {
  v: string;
  b: Outcome<boolean>;
  i: Outcome<string>;
  f: Outcome<string>;
}
interface Expected {
  files: string[];
  keepcase: boolean;
  error?: string;
  sections?: string[];
  values?: Record<string, Record<string, Outcome<Conversions>>>;
  keys?: Record<string, string[]>;
  items_error?: Record<string, string | null>;
  probes?: { section: string; option: string; get: Outcome<Conversions> | Outcome<string>; has: boolean }[];
}

/** Run `fn`; its result, or `{error: pythonError}` for a PythonConfigError (anything else fails the test). */
function outcome<T>(fn: () => T): Outcome<T> {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PythonConfigError) return { error: err.pythonError };
    throw err;
  }
}

function conversions(cp: ConfigParser, section: string, option: string): Outcome<Conversions> {
  const v = outcome(() => cp.get(section, option));
  if (typeof v !== "string") return v;
  const i = outcome(() => cp.getInt(section, option));
  const f = outcome(() => cp.getFloat(section, option));
  return {
    v,
    b: outcome(() => cp.getBoolean(section, option)),
    i: typeof i === "number" ? bigIntText(cp.get(section, option)) : i,
    f: typeof f === "number" ? pyFloatRepr(f) : f,
  };
}

/** getInt returns a JS number; compare the exact Python int via the text for big values. */
function bigIntText(v: string): string {
  return BigInt(v.trim().replaceAll("_", "")).toString();
}

const names: string[] = [];
for (const entry of Deno.readDirSync(CASES)) {
  if (entry.name.endsWith(".ini") && !entry.name.endsWith(".user.ini")) names.push(entry.name.slice(0, -4));
}
names.sort();

Deno.test("config corpus: every case (40 or more) has Python's result, every result a case, every .user.ini a reader", async () => {
  assertTrue(names.length >= 40, `only ${names.length} cases`);
  const results = [...Deno.readDirSync(EXPECTED)].map((e) => e.name).filter((n) => /^\d\d_.*\.json$/.test(n));
  assertEquals(
    results.map((n) => n.slice(0, -".json".length)).sort(),
    names,
    "expected/NN_*.json vs cases/*.ini",
  );
  const read = new Set<string>();
  for (const name of names) {
    const result: Expected = JSON.parse(await Deno.readTextFile(new URL(`${name}.json`, EXPECTED)));
    for (const file of result.files) read.add(file);
  }
  const userFiles = [...Deno.readDirSync(CASES)].map((e) => e.name).filter((n) => n.endsWith(".user.ini"));
  assertEquals(userFiles.filter((f) => !read.has(f)), [], ".user.ini files no case reads");
});

for (const name of names) {
  Deno.test(`config corpus vs Python configparser: ${name}`, async () => {
    const expected: Expected = JSON.parse(await Deno.readTextFile(new URL(`${name}.json`, EXPECTED)));
    const cp = new ConfigParser(expected.keepcase ? { optionxform: (s) => s } : {});
    const paths = expected.files.map((f) => new URL(f, CASES).pathname);
    const read = outcome(() => cp.readSync(paths));
    if (!expected.error) assertEquals(read, paths);
    compareWithPython(name, cp, read, expected);
  });
}

Deno.test("random INI texts vs Python configparser (seeded, 400 cases)", async () => {
  const cases: { text: string; result: Expected }[] = JSON.parse(
    await Deno.readTextFile(new URL("ini_random.json", EXPECTED)),
  ).cases;
  assertTrue(cases.length >= 400);
  cases.forEach(({ text, result }, i) => {
    const cp = new ConfigParser();
    compareWithPython(
      `random #${i} ${JSON.stringify(text)}`,
      cp,
      outcome(() => cp.readString(text, "r.ini")),
      result,
    );
  });
});

/** Assert that `cp` (after a read whose outcome is `read`) holds what Python's configparser gave. */
function compareWithPython(name: string, cp: ConfigParser, read: unknown, expected: Expected): void {
  if (expected.error) {
    assertEquals(read, { error: expected.error }, `${name}: read error class`);
    return;
  }
  assertEquals(cp.sections(), expected.sections, `${name}: sections`);
  for (const section of ["DEFAULT", ...cp.sections()]) {
    const keys = section === "DEFAULT" ? Object.keys(cp.defaults()) : cp.options(section);
    const itemsOrder = [...(expected.keys?.[section] ?? [])];
    // Python's items() order: DEFAULT keys first, then the section's own.
    const ours = outcome(() => cp.entries(section).map(([k]) => k));
    if (expected.items_error?.[section]) {
      assertEquals(ours, { error: expected.items_error[section] }, `${name}: items(${section}) error`);
    } else {
      assertEquals(ours, itemsOrder, `${name}: items(${section}) order`);
    }
    assertEquals([...keys].sort(), [...itemsOrder].sort(), `${name}: options of [${section}]`);
    for (const key of itemsOrder) {
      assertEquals(
        conversions(cp, section, key),
        expected.values?.[section][key],
        `${name}: [${section}] ${key}`,
      );
    }
  }
  for (const probe of expected.probes ?? []) {
    const got = conversions(cp, probe.section, probe.option);
    assertEquals(got, probe.get, `${name}: probe get([${probe.section}] ${probe.option})`);
    assertEquals(cp.hasOption(probe.section, probe.option), probe.has, `${name}: hasOption probe`);
  }
}

Deno.test("the embedded defaults are the corpus case 00_toolbox_defaults.ini", async () => {
  const file = await Deno.readTextFile(new URL("00_toolbox_defaults.ini", CASES));
  assertEquals(DEFAULT_CONFIG, file);
});

Deno.test("errors are ConfigErrors naming file, line, section and key", () => {
  const cp = new ConfigParser();
  const err = outcomeError(() => cp.readString("[s]\na = 1\nA = 2\n", "exp.ini"));
  assertTrue(err instanceof ConfigError);
  assertEquals(err.pythonError, "DuplicateOptionError");
  assertEquals([err.file, err.line, err.section, err.option], ["exp.ini", 3, "s", "a"]);
  assertTrue(err.message.startsWith("exp.ini:3: [s] a: "), err.message);

  const cp2 = new ConfigParser();
  cp2.readString("[paths]\nroot = /x\nmodel = %(rooot)s/m\n", "user.ini");
  const missing = outcomeError(() => cp2.get("paths", "model"));
  assertEquals(missing.pythonError, "InterpolationMissingOptionError");
  assertTrue(/^user\.ini:3: \[paths\] model: .*'rooot'/.test(missing.message), missing.message);

  const noOpt = outcomeError(() => cp2.get("paths", "nope"));
  assertEquals(noOpt.pythonError, "NoOptionError");
  assertTrue(noOpt.message.includes("user.ini") && noOpt.message.includes("root, model"), noOpt.message);

  const bad = outcomeError(() => cp2.getInt("paths", "root"));
  assertEquals(bad.pythonError, "ValueError");
  assertTrue(bad.message.startsWith("user.ini:2: [paths] root: expected an integer"), bad.message);

  const parse = outcomeError(() => new ConfigParser().readString("[s]\nno delimiter\n", "p.ini"));
  assertEquals([parse.pythonError, parse.line], ["ParsingError", 2]);
  assertTrue(parse.message.includes("no delimiter"), parse.message);
});

Deno.test("getLiteral evaluates values and names the key on failure", () => {
  const cp = new ConfigParser();
  cp.readString("[r]\nsims = {'a'} | {'b'}\nbad = [1, 2\n", "lit.ini");
  assertEquals(cp.getLiteral("r", "sims"), { kind: "set", items: ["a", "b"] });
  const err = outcomeError(() => cp.getLiteral("r", "bad"));
  assertEquals(err.pythonError, "SyntaxError");
  assertTrue(err.message.startsWith("lit.ini:3: [r] bad: expected a Python literal"), err.message);
});

Deno.test("set() validates interpolation syntax like Python; read() skips missing files", async () => {
  const cp = new ConfigParser();
  cp.readString("[s]\n");
  cp.set("s", "ok", "100%% %(x)s");
  assertEquals(cp.get("s", "ok", { raw: true }), "100%% %(x)s");
  assertEquals(outcomeError(() => cp.set("s", "bad", "50% off")).pythonError, "ValueError");
  assertEquals(outcomeError(() => cp.set("nope", "k", "v")).pythonError, "NoSectionError");
  assertEquals(await cp.read(["/nonexistent/file.ini"]), []);
  await assertRejects(
    () => Promise.reject(outcomeError(() => cp.addSection("s"))),
    ConfigError,
    /already exists/,
  );
});

Deno.test("toIni() writes Python's write() layout and round-trips", () => {
  const cp = new ConfigParser();
  cp.readString("[DEFAULT]\nd = 1\n[s]\nmulti = a\n  b\nk = %(d)s\n");
  assertEquals(cp.toIni(), "[DEFAULT]\nd = 1\n\n[s]\nmulti = a\n\tb\nk = %(d)s\n\n");
  const again = new ConfigParser();
  again.readString(cp.toIni());
  assertEquals(again.items("s"), cp.items("s"));
});

function outcomeError(fn: () => unknown): PythonConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PythonConfigError) return err;
    throw err;
  }
  throw new Error("expected a PythonConfigError, nothing was thrown");
}
