/**
 * literalEval / pyRepr against Python: testdata/config/expected/literals.json
 * holds what `ast.literal_eval` (set-union texts: `eval`) and `repr` gave for
 * every text, written by testdata/config/gen_expected.py.
 */
import { assertEquals, assertTrue } from "./_assert.ts";
import { literalEval } from "../lib/config/literal.ts";
import { pyFloatRepr, pyRepr, pyStrRepr, toJson } from "../lib/config/py_repr.ts";
import { PythonConfigError } from "../lib/config/errors.ts";
import type { PyValue } from "../lib/config/types.ts";

interface LiteralCase {
  text: string;
  value?: unknown;
  error?: string;
  unsupported?: string;
  repr?: string | null;
  union?: boolean;
}

const { cases } = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/config/expected/literals.json", import.meta.url)),
) as { cases: LiteralCase[] };

/** The encoding of gen_expected.py's `encode()`: numbers by Python repr, tuples/sets/dicts tagged, sets sorted. */
function encode(v: PyValue): unknown {
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "bigint") return { int: v.toString() };
  if (typeof v === "number") return { num: Number.isSafeInteger(v) ? String(v) : pyFloatRepr(v) };
  if (Array.isArray(v)) return v.map(encode);
  if (v.kind === "tuple") return { tuple: v.items.map(encode) };
  if (v.kind === "set") {
    const items = v.items.map(encode);
    return { set: items.sort((a, b) => cmp(sortKey(a), sortKey(b))) };
  }
  return { dict: v.entries.map(([k, x]) => [encode(k), encode(x)]) };
}

/** Python's `json.dumps(e, sort_keys=True)` for the encoded values (keys are already single per object). */
function sortKey(e: unknown): string {
  return JSON.stringify(e).replaceAll(",", ", ").replaceAll(":", ": ");
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function evalOutcome(text: string): { value: unknown } | { error: string } {
  try {
    return { value: encode(literalEval(text)) };
  } catch (err) {
    if (err instanceof PythonConfigError) return { error: err.pythonError };
    throw err;
  }
}

const random = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/config/expected/literals_random.json", import.meta.url)),
).cases as LiteralCase[];

/** Compare literalEval with Python on `list`; returns the mismatches and the number checked. */
function compareAll(list: LiteralCase[]): { failures: string[]; checked: number } {
  const failures: string[] = [];
  let checked = 0;
  for (const c of list) {
    if (c.unsupported) continue; // bytes: Python succeeds, we refuse on purpose (checked below)
    const got = evalOutcome(c.text);
    const want = c.error ? { error: c.error } : { value: c.value };
    try {
      assertEquals(got, want);
      checked++;
    } catch {
      failures.push(`${JSON.stringify(c.text)}: got ${JSON.stringify(got)}, Python ${JSON.stringify(want)}`);
    }
  }
  return { failures, checked };
}

Deno.test("literalEval matches ast.literal_eval (value or error class)", () => {
  const { failures, checked } = compareAll(cases);
  assertEquals(failures, []);
  assertTrue(checked >= 140, `${checked} checked`);
});

Deno.test("literalEval matches ast.literal_eval on 1,200 seeded random texts", () => {
  const { failures, checked } = compareAll(random);
  assertEquals(failures, []);
  assertTrue(checked >= 1190, `${checked} checked`);
});

Deno.test("pyRepr matches Python repr where repr is deterministic", () => {
  const failures: string[] = [];
  let checked = 0;
  for (const c of [...cases, ...random]) {
    if (c.repr === undefined || c.repr === null || c.error || c.unsupported) continue;
    const got = pyRepr(literalEval(c.text));
    if (got !== c.repr) failures.push(`${JSON.stringify(c.text)}: ${got} vs Python ${c.repr}`);
    checked++;
  }
  assertEquals(failures, []);
  assertTrue(checked >= 60, `${checked} checked`);
});

Deno.test("unsupported literals are refused with a ValueError naming the text", () => {
  for (const text of ["b'bytes'", "1j", "...", "'\\N{BULLET}'"]) {
    const got = evalOutcome(text);
    assertEquals(got, { error: "ValueError" }, text);
  }
});

Deno.test("errors name the text and the position", () => {
  try {
    literalEval("{'a': 1,\n 'b': [2 3]}");
    throw new Error("no error");
  } catch (err) {
    assertTrue(err instanceof PythonConfigError);
    assertEquals(err.pythonError, "SyntaxError");
    assertTrue(err.message.includes("line 2, column 10"), err.message);
    assertTrue(err.message.includes(`"{'a': 1,\\n 'b': [2 3]}"`), err.message);
  }
});

Deno.test("pyStrRepr escapes like Python", () => {
  assertEquals(pyStrRepr("it's"), `"it's"`);
  assertEquals(pyStrRepr(`both ' and "`), `'both \\' and "'`);
  assertEquals(pyStrRepr("\x00\x7f\u200b\u00a0é"), "'\\x00\\x7f\\u200b\\xa0é'");
});

Deno.test("toJson gives a plain JSON view", () => {
  const v = literalEval("{'a': (1, 2.5), 1: {'x'}, None: [True, 12345678901234567890], 'f': 1e400}");
  assertEquals(toJson(v), {
    a: [1, 2.5],
    "1": ["x"],
    null: [true, "12345678901234567890"],
    f: "Infinity",
  });
});

Deno.test("unquoted names get a hint", () => {
  const message = (text: string): string => {
    try {
      literalEval(text);
    } catch (err) {
      if (err instanceof PythonConfigError) return err.message;
    }
    throw new Error(`no PythonConfigError for ${text}`);
  };
  assertEquals(
    message("{spikerates}"),
    `the name 'spikerates' is not a literal; strings need quotes, e.g. 'spikerates' (column 2 of "{spikerates}")`,
  );
  assertTrue(message("[true]").includes("write True"));
  assertTrue(message("none").includes("write None"));
});
