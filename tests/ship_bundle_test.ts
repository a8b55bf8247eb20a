/**
 * Self-contained builds (issue 8). `deno compile` needs to download its
 * runtime, which our machines cannot, so self-containment is proven with the
 * same entry point and flags through `deno bundle`: the bundle `deno task
 * bundle` writes runs from an empty folder with an empty Deno cache
 * (`DENO_DIR`: no npm packages to fall back on) and read access to that
 * folder only — the WASM backend's binaries and the built-in defaults must
 * be inside the file.
 */
import { assertEquals, assertMatch, assertTrue } from "./_assert.ts";
import { copyFromRepo, describeRun, parseReport, REPO_DIR, runDeno, scratchDir } from "./_ship.ts";

interface DenoJson {
  tasks: Record<string, string>;
}

const denoJson: DenoJson = JSON.parse(await Deno.readTextFile(`${REPO_DIR}deno.json`));

/** The arguments of `deno task <name>` (after `deno`), split on spaces. */
function taskArgs(name: string): string[] {
  const command = denoJson.tasks[name];
  assertTrue(command !== undefined, `deno.json has a '${name}' task`);
  const words = command.split(/\s+/);
  assertEquals(words[0], "deno", `task ${name} runs deno`);
  return words.slice(1);
}

/** Build the bundle with the `bundle` task's own flags, into `out` instead of dist/. */
async function buildBundle(out: string): Promise<void> {
  const args = taskArgs("bundle");
  const o = args.indexOf("-o");
  assertEquals(args[o + 1], "dist/snntoolbox.js", "the bundle task writes dist/snntoolbox.js");
  args[o + 1] = out;
  const run = await runDeno(args, { cwd: REPO_DIR });
  assertEquals(run.code, 0, describeRun(run));
}

Deno.test("bundle: runs --version and parse from an empty folder with an empty Deno cache", async () => {
  const dir = await scratchDir("bundle");
  const denoDir = await scratchDir("bundle_deno_dir");
  const localDir = await scratchDir("bundle_local");
  try {
    await buildBundle(`${dir}/snntoolbox.js`);
    await copyFromRepo(dir, "testdata/demo/mnist_torch.onnx");
    await copyFromRepo(localDir, "testdata/demo/mnist_torch.onnx");
    const flags = ["--allow-read=.", "--allow-write=.", "--allow-env"];
    const env = { DENO_DIR: denoDir };

    const version = await runDeno(["run", ...flags, "snntoolbox.js", "--version"], { cwd: dir, env });
    assertEquals(version.code, 0, describeRun(version));
    // The WASM backend started from the embedded binaries: no fallback note, not the CPU backend.
    assertMatch(version.stdout, /^snntoolbox \d+\.\d+\.\d+\ndeno \S+, backend wasm, threads 1\n$/);
    assertEquals(version.stderr.includes("note:"), false, version.stderr);

    const parse = await runDeno(["run", ...flags, "snntoolbox.js", "parse", "mnist_torch.onnx", "--json"], {
      cwd: dir,
      env,
    });
    const local = await runDeno(["run", "-A", `${REPO_DIR}cli.ts`, "parse", "mnist_torch.onnx", "--json"], {
      cwd: localDir,
    });
    assertEquals(parse.code, 0, describeRun(parse));
    assertEquals(local.code, 0, describeRun(local));
    assertEquals(parseReport(parse.stdout), parseReport(local.stdout));
    assertTrue((await Deno.stat(`${dir}/mnist_torch_parsed.h5`)).size > 0);
  } finally {
    for (const d of [dir, denoDir, localDir]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("bundle and compile tasks: same entry point; compile asks for no network, FFI or blanket permissions", () => {
  const bundle = taskArgs("bundle");
  const compile = taskArgs("compile");
  assertEquals(bundle[0], "bundle");
  assertEquals(compile[0], "compile");
  assertEquals(bundle[bundle.length - 1], "scripts/standalone.ts");
  assertEquals(compile[compile.length - 1], "scripts/standalone.ts");
  for (const flag of ["--no-config", "--unstable-raw-imports"]) {
    assertTrue(bundle.includes(flag) && compile.includes(flag), `both tasks pass ${flag}`);
  }
  assertEquals(compile[compile.indexOf("-o") + 1], "snntoolbox");
  const permissions = compile.filter((a) => /^(-A|--allow-|--unsafely)/.test(a)).sort();
  assertEquals(permissions, ["--allow-env", "--allow-read", "--allow-write"]);
});

Deno.test("standalone entry embeds the WASM binaries of the tfjs-backend-wasm version deps.ts pins", async () => {
  const deps = await Deno.readTextFile(`${REPO_DIR}deps.ts`);
  const entry = await Deno.readTextFile(`${REPO_DIR}scripts/standalone.ts`);
  const pinned = deps.match(/"npm:@tensorflow\/tfjs-backend-wasm@([^"/]+)"/)?.[1];
  assertTrue(pinned !== undefined, "deps.ts pins tfjs-backend-wasm");
  const embedded = [...entry.matchAll(/"npm:@tensorflow\/tfjs-backend-wasm@([^/]+)\/wasm-out\/([^"]+)"/g)];
  assertEquals(embedded.map((m) => m[2]).sort(), [
    "tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm",
    "tfjs-backend-wasm.wasm",
  ]);
  for (const m of embedded) assertEquals(m[1], pinned, `${m[2]} comes from tfjs-backend-wasm@${pinned}`);
});
