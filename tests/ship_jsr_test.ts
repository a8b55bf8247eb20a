/**
 * The JSR package (issue 8): `deno publish --dry-run` succeeds, ships the
 * library and its licence but no tests, test data or build scripts, and
 * `deno doc --lint` on every entry point finds nothing to fix.
 *
 * PENDING lists files whose findings may stay open for a while (their
 * authors are still changing them; empty now: both tools are clean); a
 * finding anywhere else fails the test, and entries without findings any
 * more are reported so the list can shrink.
 */
import { assertEquals, assertTrue } from "./_assert.ts";
import { describeRun, REPO_DIR, runDeno } from "./_ship.ts";

/** Files with known open findings, by tool: see the module doc. */
const PENDING: Record<"publish" | "doc", readonly string[]> = { publish: [], doc: [] };

/** Diagnostics (`warning[code]` / `error[code]`) of a deno tool's output, with the repository file they point at. */
function findings(output: string): { code: string; file: string }[] {
  const out: { code: string; file: string }[] = [];
  const re = /^(?:warning|error)\[([a-z-]+)\][^\n]*\n\s*-->\s*(\S+?):\d+:\d+/gm;
  for (const m of output.matchAll(re)) out.push({ code: m[1], file: m[2].replace(REPO_DIR, "") });
  return out;
}

/** Fail on findings outside `pending`, and on pending files that have none any more. */
function assertOnlyPending(
  found: { code: string; file: string }[],
  pending: readonly string[],
  what: string,
) {
  const unexpected = found.filter((f) => !pending.includes(f.file));
  assertEquals(unexpected, [], `${what}: findings outside the pending files`);
  const fixed = pending.filter((p) => !found.some((f) => f.file === p));
  if (fixed.length) console.log(`${what}: clean now, can leave PENDING: ${fixed.join(", ")}`);
}

Deno.test("jsr: deno.json names the package, its version, licence and the entry points", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_DIR}deno.json`));
  assertTrue(/^@[a-z0-9-]+\/[a-z0-9-]+$/.test(config.name), `JSR name: ${config.name}`);
  assertTrue(/^\d+\.\d+\.\d+/.test(config.version), `version: ${config.version}`);
  assertEquals(config.license, "MIT");
  assertEquals(config.exports, {
    ".": "./mod.ts",
    "./cli": "./cli.ts",
    "./unstable/importers": "./unstable/importers.ts",
    "./unstable/io": "./unstable/io.ts",
    "./unstable/parsing": "./unstable/parsing.ts",
    "./unstable/simulation": "./unstable/simulation.ts",
  });
  // Every unstable entry point says so in its module documentation.
  for (const [name, file] of Object.entries(config.exports as Record<string, string>)) {
    if (!name.startsWith("./unstable/")) continue;
    const text = await Deno.readTextFile(`${REPO_DIR}${file.slice(2)}`);
    assertTrue(/^\/\*\*\n \* Unstable: may change in any release\./.test(text), `${file} is marked unstable`);
  }
  const license = await Deno.readTextFile(`${REPO_DIR}LICENSE`);
  assertTrue(license.startsWith("MIT License") && license.includes("snntoolbox for Deno authors"));
});

Deno.test("jsr: publish --dry-run ships the library only, with no slow types", async () => {
  const run = await runDeno(["publish", "--dry-run", "--allow-dirty"], { cwd: REPO_DIR });
  assertEquals(run.code, 0, describeRun(run));
  const output = run.stdout + run.stderr;
  const files = [...output.matchAll(/^\s+file:\/\/(\S+)/gm)].map((m) => m[1].replace(REPO_DIR, ""));
  for (
    const required of [
      "LICENSE",
      "README.md",
      "mod.ts",
      "cli.ts",
      "deps.ts",
      "lib/cli/permissions.ts",
      "unstable/io.ts",
    ]
  ) {
    assertTrue(files.includes(required), `${required} is published`);
  }
  const shipped = (prefix: string) => files.filter((f) => f.startsWith(prefix));
  for (const prefix of ["tests/", "testdata/", "scripts/", "bench/", "dist/", ".ci/"]) {
    assertEquals(shipped(prefix), [], `${prefix} is not published`);
  }
  assertOnlyPending(findings(output), PENDING.publish, "deno publish --dry-run");
});

Deno.test("jsr: deno doc --lint on every entry point", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_DIR}deno.json`));
  const entries = Object.values(config.exports as Record<string, string>).map((f) => f.slice(2));
  const run = await runDeno(["doc", "--lint", ...entries], { cwd: REPO_DIR });
  const found = findings(run.stdout + run.stderr);
  if (found.length) {
    console.log(`deno doc --lint: ${found.length} findings in pending files:`);
    for (const f of found) console.log(`  ${f.file}: ${f.code}`);
  } else {
    assertEquals(run.code, 0, describeRun(run));
  }
  assertOnlyPending(found, PENDING.doc, "deno doc --lint");
});
