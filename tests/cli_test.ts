import { assertEquals, assertMatch } from "./_assert.ts";
import { main } from "../cli.ts";
import { VERSION } from "../lib/version.ts";

function capture(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  return { lines, restore: () => ((console.log = log), (console.error = error)) };
}

Deno.test("VERSION equals deno.json version", async () => {
  const json = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assertEquals(VERSION, json.version);
});

Deno.test("--version names the backend and thread count", async () => {
  const c = capture();
  let code: number;
  try {
    code = await main(["--version"]);
  } finally {
    c.restore();
  }
  assertEquals(code, 0);
  assertEquals(c.lines[0], `snntoolbox ${VERSION}`);
  assertMatch(c.lines[1], /backend (wasm|cpu), threads \d+/);
});

Deno.test("unknown command is a usage error with exit code 2", async () => {
  const c = capture();
  let code: number;
  try {
    code = await main(["frobnicate"]);
  } finally {
    c.restore();
  }
  assertEquals(code, 2);
  assertMatch(c.lines.join("\n"), /^error: unknown command 'frobnicate'/);
});

Deno.test("--threads must be a positive whole number (usage error, exit 2)", async () => {
  const c = capture();
  let code: number;
  try {
    code = await main(["--threads", "0", "--version"]);
  } finally {
    c.restore();
  }
  assertEquals(code, 2);
  assertMatch(c.lines.join("\n"), /--threads takes a positive whole number, found '0'/);
});
