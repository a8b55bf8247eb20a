/**
 * Running the reference Python (numpy, h5py) from io tests; tests skip with a
 * message when it is missing.
 *
 * @module
 */

/** The Python interpreter that has numpy and h5py on the reference machines. */
export const PYTHON: string = Deno.env.get("SNNTOOLBOX_PYTHON") ?? "/usr/bin/python3";

const cache = new Map<string, Promise<boolean>>();

/** Whether PYTHON can import `modules` (prints why not, once). */
export function pythonHas(...modules: string[]): Promise<boolean> {
  const key = modules.join(",");
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      try {
        const out = await new Deno.Command(PYTHON, { args: ["-c", `import ${key}`], stderr: "null" })
          .output();
        if (out.success) return true;
      } catch { /* no interpreter */ }
      console.warn(`skipping: ${PYTHON} with ${modules.join(" and ")} is not available`);
      return false;
    })();
    cache.set(key, p);
  }
  return p;
}

/** Whether numpy is importable. */
export function numpyAvailable(): Promise<boolean> {
  return pythonHas("numpy");
}

/** Run a Python script with arguments; returns stdout, throws with stderr on failure. */
export async function runPython(script: string, args: string[] = []): Promise<string> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`python failed: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}
