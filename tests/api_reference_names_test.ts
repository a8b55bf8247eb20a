/**
 * Every name of the Python toolbox's parsing API has a counterpart exported
 * from mod.ts: the names are read from the reference documentation
 * (../shared/reference/snntoolbox-parsing-api.txt; that part skips with a
 * message when it is absent), the counterparts from the table of
 * docs/porting.md, and each counterpart is looked up in mod.ts's exports
 * (`name`, `Class#member` on an instance, `Class.member`).
 */
import { tf } from "../deps.ts";
import * as api from "../mod.ts";
import { assertEquals, assertTrue } from "./_assert.ts";

await api.initBackend();

const REFERENCE = new URL("../../shared/reference/snntoolbox-parsing-api.txt", import.meta.url);
const PORTING = new URL("../docs/porting.md", import.meta.url);

/**
 * The qualified names the reference documents: functions and classes
 * (`snntoolbox.parsing.<module>.<name>(`), the methods listed under a class
 * (`name(args)[source]`) and its attributes (a name alone on its line, not
 * a module heading or a return type).
 */
export function referenceNames(text: string): string[] {
  const names: string[] = [];
  const lines = text.split("\n").map((l) => l.trim());
  let cls: string | undefined;
  let previous = "";
  for (const line of lines) {
    if (line === "") continue;
    const qualified = /^(class )?(snntoolbox\.parsing\.[\w.]+)\(/.exec(line);
    const method = /^(\w+)\(.*\)\[source\]$/.exec(line);
    if (qualified) {
      names.push(qualified[2]);
      cls = qualified[1] ? qualified[2] : undefined;
    } else if (method && cls) {
      names.push(`${cls}.${method[1]}`);
    } else if (
      cls && /^_?[a-z][a-z0-9_]*$/.test(line) && !line.endsWith("_lib") &&
      !/^(Return type|Returns|Type|Parameters):$/.test(previous)
    ) {
      names.push(`${cls}.${line}`);
    }
    previous = line;
  }
  return [...new Set(names)];
}

/** The rows of the porting table: Python name → TypeScript counterpart. */
function portingTable(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of text.matchAll(/^\| `(snntoolbox\.parsing\.[\w.]+)` *\| `([\w#.]+)` *\|/gm)) {
    assertTrue(!rows.has(m[1]), `${m[1]} has one row`);
    rows.set(m[1], m[2]);
  }
  return rows;
}

const exports = api as unknown as Record<string, unknown>;

/** An instance of the parser, to look up instance members (fields, getters, methods). */
function parserInstance(): Record<string, unknown> {
  const input = tf.input({ shape: [2] });
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor,
  });
  return new api.ModelParser(
    { model, library: "keras", path: "names.h5", dataFormat: "channels_last", metadata: {} },
    {},
  ) as unknown as Record<string, unknown>;
}

/** Whether `counterpart` names something mod.ts exports. */
function resolves(counterpart: string, instance: Record<string, unknown>): boolean {
  const [owner, member] = counterpart.split(/[#.]/);
  const value = exports[owner];
  if (value === undefined) return false;
  if (member === undefined) return true;
  if (counterpart.includes("#")) {
    assertTrue(typeof value === "function" && instance instanceof (value as typeof api.AbstractModelParser));
    return member in instance;
  }
  return member in (value as Record<string, unknown>);
}

Deno.test("reference names: the parser of the reference text finds its functions, classes, methods and attributes", () => {
  const sample = [
    "class snntoolbox.parsing.utils.AbstractModelParser(input_model, config)[source]",
    "input_model",
    "The input network object.",
    "Type:dict",
    "get_inbound_names(layer, name_map)[source]",
    "Return type:",
    "list",
    "pytorch_input_lib",
    "snntoolbox.parsing.utils.get_fanin(layer)[source]",
  ].join("\n\n");
  assertEquals(referenceNames(sample), [
    "snntoolbox.parsing.utils.AbstractModelParser",
    "snntoolbox.parsing.utils.AbstractModelParser.input_model",
    "snntoolbox.parsing.utils.AbstractModelParser.get_inbound_names",
    "snntoolbox.parsing.utils.get_fanin",
  ]);
});

Deno.test("docs/porting.md: every counterpart in the table is exported from mod.ts", async () => {
  const rows = portingTable(await Deno.readTextFile(PORTING));
  assertTrue(rows.size > 80, `the table has ${rows.size} rows`);
  const instance = parserInstance();
  const missing = [...rows].filter(([, ts]) => !resolves(ts, instance)).map(([py, ts]) => `${py} → ${ts}`);
  assertEquals(missing, []);
});

Deno.test("every name of the reference has a row in docs/porting.md", async () => {
  let text: string;
  try {
    text = await Deno.readTextFile(REFERENCE);
  } catch {
    console.warn(
      `api_reference_names_test: ${REFERENCE.pathname} is absent; the reference names are not checked`,
    );
    return;
  }
  const names = referenceNames(text);
  const rows = portingTable(await Deno.readTextFile(PORTING));
  assertEquals(names.filter((n) => !rows.has(n)), [], "reference names without a row");
  assertEquals([...rows.keys()].filter((n) => !names.includes(n)), [], "rows for names the reference lacks");
  console.log(`  ${names.length} reference names, each with a counterpart exported from mod.ts`);
});
