import { assertEquals, assertMatch } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { VERSION } from "../lib/version.ts";

Deno.test("VERSION equals deno.json version", async () => {
  const json = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assertEquals(VERSION, json.version);
});

Deno.test("--version names the backend and thread count", async () => {
  const c = await runCli(["--version"]);
  assertEquals(c.code, 0);
  assertEquals(c.out[0], `snntoolbox ${VERSION}`);
  assertMatch(c.out[1], /backend (wasm|cpu), threads \d+/);
});

Deno.test("unknown command is a usage error with exit code 2", async () => {
  const c = await runCli(["frobnicate"]);
  assertEquals(c.code, 2);
  assertMatch([...c.out, ...c.err].join("\n"), /^error: unknown command 'frobnicate'/);
});

Deno.test("--threads must be a positive whole number (usage error, exit 2)", async () => {
  const c = await runCli(["--threads", "0", "--version"]);
  assertEquals(c.code, 2);
  assertMatch([...c.out, ...c.err].join("\n"), /--threads takes a positive whole number, found '0'/);
});
