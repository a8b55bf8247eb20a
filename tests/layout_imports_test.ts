/**
 * The layout of lib/ stays as the README's development section describes it:
 * every lib file imports only from its own layer or the layers below it
 * (io → config → backend → layers → importers → parsing → conversion →
 * simulation → pipeline → cli), third-party packages only through deps.ts,
 * and the TF.js backend is started by entry points only (worker programs `*_worker.ts`, lib/cli,
 * lib/pipeline), never by a loader or a stage.
 *
 * The import specifiers are read from the source with comments removed (so
 * a JSDoc example importing `mod.ts` does not count); the scanner itself is
 * checked on sources with known imports first.
 */
import { assertEquals } from "./_assert.ts";

/** The folders of lib/, lowest first: a file may import from its own folder and the folders before it. */
const LAYERS = [
  "io",
  "config",
  "backend",
  "layers",
  "importers",
  "parsing",
  "conversion",
  "simulation",
  "pipeline",
  "cli",
] as const;

/** The folders whose files may start the backend (`initBackend(...)`). */
const STARTS_BACKEND = new Set(["cli", "pipeline", "backend"]);

const ROOT = new URL("../", import.meta.url);

/** Whether a `/` after `code` starts a regular expression literal (not a division). */
function startsRegex(code: string): boolean {
  const before = code.trimEnd();
  return before === "" || /[(,=:[!&|?{};+\-*%<>~^]$/.test(before) ||
    /\b(return|typeof|case|in|of)$/.test(before);
}

/**
 * `source` as code without comments, every string and template literal
 * replaced by `"@N"`, and the literals' contents (`strings[N]`).
 */
function lex(source: string): { code: string; strings: string[] } {
  let code = "";
  const strings: string[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
      code += " ";
    } else if (c === "/" && startsRegex(code)) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && (inClass || source[j] !== "/") && source[j] !== "\n") {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        j++;
      }
      code += source.slice(i, j + 1).replace(/["'`]/g, " ");
      i = j + 1;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
      code += `"@${strings.length}"`;
      strings.push(source.slice(i + 1, j));
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

/** The module specifiers `source` imports: static, type-only, re-exports, dynamic, and worker URLs. */
function importSpecifiers(source: string): string[] {
  const { code, strings } = lex(source);
  const patterns = [
    /\b(?:import|export)\b[^";]*?\bfrom\s*"@(\d+)"/g,
    /\bimport\s*"@(\d+)"/g,
    /\bimport\s*\(\s*"@(\d+)"/g,
    /\bnew\s+URL\(\s*"@(\d+)"\s*,\s*import\.meta\.url/g,
  ];
  return patterns.flatMap((re) => [...code.matchAll(re)].map((m) => strings[Number(m[1])]));
}

/** The layer of a repository path: its index in LAYERS, -1 for a file directly in lib/ (errors.ts), undefined outside lib/. */
function layerOf(path: string): number | undefined {
  const parts = path.split("/");
  if (parts[0] !== "lib") return undefined;
  if (parts.length === 2) return -1;
  const i = (LAYERS as readonly string[]).indexOf(parts[1]);
  if (i < 0) {
    throw new Error(`${path}: lib/${parts[1]}/ is not in LAYERS of ${import.meta.url}; add it there`);
  }
  return i;
}

/** `spec` imported from repository path `from`, as a repository path (`lib/io/npy.ts`). */
function resolveSpec(from: string, spec: string): string {
  const url = new URL(spec, new URL(from, ROOT));
  return decodeURIComponent(url.pathname.slice(ROOT.pathname.length));
}

/** What is wrong with the imports of the lib file at `path` (one line each; empty when nothing). */
function importProblems(path: string, source: string): string[] {
  const problems: string[] = [];
  const own = layerOf(path)!;
  for (const spec of importSpecifiers(source)) {
    if (/^(npm|jsr|https?):/.test(spec)) {
      problems.push(`${path} imports '${spec}': third-party packages come through deps.ts`);
      continue;
    }
    if (!spec.startsWith(".")) continue; // node: built-ins, data: URLs
    const target = resolveSpec(path, spec);
    if (target === "deps.ts") continue;
    const layer = layerOf(target);
    if (layer === undefined) {
      problems.push(`${path} imports ${target}, outside lib/`);
    } else if (layer > own) {
      const name = (i: number) => i < 0 ? "lib/" : `lib/${LAYERS[i]}/`;
      problems.push(`${path} imports ${target}: ${name(layer)} is above ${name(own)}`);
    }
  }
  const folder = path.split("/")[1];
  // A worker program (`*_worker.ts`) is an entry point too: it runs in a realm of its own.
  const workerProgram = /_worker\.ts$/.test(path);
  if (!STARTS_BACKEND.has(folder) && !workerProgram && /\binitBackend\s*\(/.test(lex(source).code)) {
    problems.push(`${path} starts the backend (initBackend): only entry points (lib/cli, lib/pipeline) do`);
  }
  return problems;
}

async function libFiles(dir = "lib"): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(new URL(`${dir}/`, ROOT))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) files.push(...await libFiles(path));
    else if (e.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

Deno.test("import scanner: finds static, type, re-export, side-effect, dynamic and worker imports, not ones in comments, strings or regular expressions", () => {
  const source = [
    `import { a } from "./a.ts";`,
    `import type {`,
    `  B,`,
    `} from '../b.ts';`,
    `export { c } from "./c.ts";`,
    `export * as d from "./d.ts";`,
    `import "./side.ts";`,
    `const e = await import("./e.ts");`,
    `const w = new URL("./worker.ts", import.meta.url);`,
    `// import { x } from "./commented.ts";`,
    `/** @example import { y } from "../../mod.ts"; */`,
    `const s = "import { z } from './in_string.ts'"; // a string is not an import`,
    "const url = `http://example.com/${s}`; // not a comment start",
    `const q = /['"]descr['"]/.exec(s), half = 1 / 2; // quotes in a regular expression, a division`,
    `import { f } from "./f.ts";`,
  ].join("\n");
  assertEquals(importSpecifiers(source).sort(), [
    "../b.ts",
    "./a.ts",
    "./c.ts",
    "./d.ts",
    "./e.ts",
    "./f.ts",
    "./side.ts",
    "./worker.ts",
  ]);
});

Deno.test("import direction check: reports an upward import, a package outside deps.ts and a loader starting the backend", () => {
  assertEquals(
    importProblems(
      "lib/io/x.ts",
      `import { p } from "../parsing/mod.ts";\nimport { q } from "./npy.ts";\nimport { e } from "../errors.ts";`,
    ),
    ["lib/io/x.ts imports lib/parsing/mod.ts: lib/parsing/ is above lib/io/"],
  );
  assertEquals(importProblems("lib/errors.ts", `import { n } from "./io/npy.ts";`), [
    "lib/errors.ts imports lib/io/npy.ts: lib/io/ is above lib/",
  ]);
  assertEquals(
    importProblems("lib/parsing/x.ts", `import { tf } from "../../deps.ts";\nimport "npm:fflate";`),
    [
      "lib/parsing/x.ts imports 'npm:fflate': third-party packages come through deps.ts",
    ],
  );
  assertEquals(importProblems("lib/cli/x.ts", `import { main } from "../../cli.ts";`), [
    "lib/cli/x.ts imports cli.ts, outside lib/",
  ]);
  assertEquals(
    importProblems(
      "lib/importers/caffe/load.ts",
      `import { initBackend } from "../../backend/mod.ts";\nawait initBackend();`,
    ),
    ["lib/importers/caffe/load.ts starts the backend (initBackend): only entry points (lib/cli, lib/pipeline) do"],
  );
  assertEquals(
    importProblems(
      "lib/pipeline/run.ts",
      `import { initBackend } from "../backend/mod.ts";\nawait initBackend();`,
    ),
    [],
  );
});

Deno.test("lib/: every import points down the layers, packages come through deps.ts, only entry points start the backend", async () => {
  const files = await libFiles();
  const problems: string[] = [];
  for (const path of files) {
    problems.push(...importProblems(path, await Deno.readTextFile(new URL(path, ROOT))));
  }
  assertEquals(problems, []);
});
