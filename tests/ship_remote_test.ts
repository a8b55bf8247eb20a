/**
 * Remote run and remote import (issue 8): the repository is served over
 * HTTP from 127.0.0.1 inside the test (a stand-in for a remote host; no
 * other network), and `deno run <url>/cli.ts ...` and
 * `import("<url>/mod.ts")` run from a scratch folder outside the repository
 * (so neither deno.json nor its lock file applies) must give the same results
 * as the local run. npm packages come from the existing Deno cache.
 *
 * Each test serves on a new port, so Deno's cache of remote modules never
 * holds stale copies of files edited since an earlier run.
 */
import { assertEquals, assertMatch, assertTrue } from "./_assert.ts";
import {
  copyFromRepo,
  describeRun,
  parseReport,
  REPO_DIR,
  REPO_URL,
  runDeno,
  scratchDir,
  serveRepo,
} from "./_ship.ts";

const MODEL = "testdata/demo/mnist_torch.onnx";

Deno.test("remote run: cli.ts --version from a served URL matches the local run", async () => {
  const server = await serveRepo();
  const dir = await scratchDir("remote_version");
  try {
    const remote = await runDeno(["run", "-A", `${server.url}cli.ts`, "--version"], { cwd: dir });
    const local = await runDeno(["run", "-A", `${REPO_DIR}cli.ts`, "--version"], { cwd: dir });
    assertEquals(remote.code, 0, describeRun(remote));
    assertEquals(local.code, 0, describeRun(local));
    assertMatch(remote.stdout, /^snntoolbox \d+\.\d+\.\d+\ndeno \S+, backend (wasm|cpu), threads 1\n$/);
    assertEquals(remote.stdout, local.stdout);
    assertTrue(server.requested.includes("/cli.ts") && server.requested.includes("/deps.ts"));
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote run: parse of an ONNX model from a served cli.ts equals the local parse", async () => {
  const server = await serveRepo();
  const remoteDir = await scratchDir("remote_parse");
  const localDir = await scratchDir("local_parse");
  try {
    await copyFromRepo(remoteDir, MODEL);
    await copyFromRepo(localDir, MODEL);
    // Only the import of the served host is allowed beyond the default list: no -A needed.
    const remote = await runDeno(
      [
        "run",
        `--allow-import=${server.host}`,
        "--allow-read",
        "--allow-env",
        `--allow-write=${remoteDir}`,
        `${server.url}cli.ts`,
        "parse",
        "mnist_torch.onnx",
        "--json",
      ],
      { cwd: remoteDir },
    );
    const local = await runDeno(["run", "-A", `${REPO_DIR}cli.ts`, "parse", "mnist_torch.onnx", "--json"], {
      cwd: localDir,
    });
    assertEquals(remote.code, 0, describeRun(remote));
    assertEquals(local.code, 0, describeRun(local));
    const report = parseReport(remote.stdout);
    assertEquals(report, parseReport(local.stdout));
    assertEquals(report.library, "onnx");
    assertEquals(report.input_shape, [28, 28, 1]);
    const parsed = await Deno.readFile(`${remoteDir}/mnist_torch_parsed.h5`);
    assertEquals(parsed.length, (await Deno.readFile(`${localDir}/mnist_torch_parsed.h5`)).length);
    assertEquals(Array.from(parsed.subarray(0, 8)), [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  } finally {
    await server.close();
    await Deno.remove(remoteDir, { recursive: true });
    await Deno.remove(localDir, { recursive: true });
  }
});

Deno.test("remote import: mod.ts imported from a served URL computes what the local import computes", async () => {
  const server = await serveRepo();
  const dir = await scratchDir("remote_import");
  try {
    await copyFromRepo(dir, MODEL, "tests/_ship_probe.ts");
    const remote = await runDeno(["run", "-A", "_ship_probe.ts", `${server.url}mod.ts`], { cwd: dir });
    const local = await runDeno(["run", "-A", "_ship_probe.ts", new URL("mod.ts", REPO_URL).href], {
      cwd: dir,
    });
    assertEquals(remote.code, 0, describeRun(remote));
    assertEquals(local.code, 0, describeRun(local));
    const result = JSON.parse(remote.stdout);
    assertEquals(result, JSON.parse(local.stdout));
    assertEquals(result.literal, "{'a': (1, 0.0025), 'b': {1, 2, 3}}");
    assertEquals(result.interpolated, "/data/net.h5");
    assertEquals(result.duration, 50);
    assertEquals(result.defaultSimulator, "INI");
    assertEquals(result.library, "onnx");
    assertEquals(result.prediction.shape, [2, 10]);
    for (const row of [0, 1]) {
      const probs: number[] = result.prediction.data.slice(row * 10, row * 10 + 10);
      assertTrue(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, `softmax row ${row} sums to 1`);
    }
    assertTrue(server.requested.includes("/mod.ts"), "mod.ts was fetched from the server");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote install: deno install -g -n snntoolbox <url>/cli.ts gives a working command", async () => {
  const server = await serveRepo();
  const root = await scratchDir("install_root");
  const dir = await scratchDir("install_use");
  try {
    const install = await runDeno(
      [
        "install",
        "-g",
        "-n",
        "snntoolbox",
        "--root",
        root,
        "--allow-read",
        "--allow-write",
        "--allow-env",
        `--allow-import=${server.host}`,
        `${server.url}cli.ts`,
      ],
      { cwd: dir },
    );
    assertEquals(install.code, 0, describeRun(install));
    const shim = await Deno.readTextFile(`${root}/bin/snntoolbox`);
    assertTrue(shim.includes(`${server.url}cli.ts`), shim);
    assertEquals(/--allow-(net|ffi|run|sys|all)|\s-A\s/.test(shim), false, `no extra permissions: ${shim}`);
    const out = await new Deno.Command(`${root}/bin/snntoolbox`, {
      args: ["--version"],
      cwd: dir,
      env: { NO_COLOR: "1", SNNTOOLBOX_THREADS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertMatch(stdout, /^snntoolbox \d+\.\d+\.\d+\n/);
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

/** Every `.ts` file below `dir` (a path relative to the repository root). */
async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${REPO_DIR}${dir}`)) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await sourceFiles(rel));
    else if (entry.name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

Deno.test("remote import: modules use only relative, node: and (in deps.ts) exactly pinned npm: specifiers", async () => {
  const files = ["mod.ts", "cli.ts", "deps.ts", ...await sourceFiles("lib")];
  const bad: string[] = [];
  // Static imports/re-exports (one line, or the closing line of a multi-line one), side-effect and dynamic imports.
  const specifier =
    /^(?:(?:import|export)\b.*|\}) from "([^"]+)";$|^import "([^"]+)";$|\bimport\("([^"]+)"\)/gm;
  for (const file of files) {
    const text = await Deno.readTextFile(`${REPO_DIR}${file}`);
    for (const m of text.matchAll(specifier)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("node:")) continue;
      if (file === "deps.ts" && /^npm:(@[a-z0-9-]+\/)?[a-z0-9.-]+@\d+\.\d+\.\d+(\/[\w./-]*)?$/.test(spec)) {
        continue;
      }
      bad.push(`${file}: ${spec}`);
    }
  }
  assertTrue(files.length > 50, `scanned ${files.length} files`);
  assertEquals(bad, [], "specifiers that need an import map, or npm: outside deps.ts / not pinned exactly");
});
