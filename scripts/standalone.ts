/**
 * Entry point of the self-contained builds of the `snntoolbox` command line
 * (`deno task bundle` → `dist/snntoolbox.js`, `deno task compile` →
 * `./snntoolbox`).
 *
 * tfjs-backend-wasm normally reads its `.wasm` binaries from its own npm
 * package folder (Node's `__dirname`), which does not exist inside a bundle.
 * Here the three binaries are imported as bytes (`--unstable-raw-imports`),
 * so they become part of the build, and are handed to tfjs as Blob URLs
 * before the CLI starts the backend. Nothing is read from disk or the network
 * to start the WASM backend.
 *
 * ```sh
 * deno task bundle && deno run --allow-read --allow-write dist/snntoolbox.js --version
 * ```
 *
 * The binaries are imported straight from their npm package (the one place
 * outside deps.ts that names an `npm:` specifier): a bytes import cannot go
 * through deps.ts without making every importer of the library need
 * `--unstable-raw-imports`. The version must stay the one deps.ts pins.
 *
 * @module
 */
// deno-lint-ignore-file no-import-prefix
import simd from "npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm-simd.wasm" with {
  type: "bytes",
};
import threadedSimd from "npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm-threaded-simd.wasm" with {
  type: "bytes",
};
import plain from "npm:@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/tfjs-backend-wasm.wasm" with {
  type: "bytes",
};
import { tfwasm } from "../deps.ts";
import { main } from "../cli.ts";
import { exitOnUncaughtError } from "../lib/cli/permissions.ts";

/** The embedded WASM binaries, by the file name tfjs-backend-wasm asks for. */
const WASM_BINARIES: Record<string, Uint8Array<ArrayBuffer>> = {
  "tfjs-backend-wasm.wasm": plain,
  "tfjs-backend-wasm-simd.wasm": simd,
  "tfjs-backend-wasm-threaded-simd.wasm": threadedSimd,
};

/**
 * Point tfjs-backend-wasm at the embedded binaries (Blob URLs, fetched with
 * the runtime's `fetch`). Its Emscripten glue, bundled from a CommonJS
 * module, also reads the free variable `__dirname` (which a bundle does not
 * define) before it asks where the binaries are: give it this build's folder.
 */
export function useEmbeddedWasm(): void {
  const scope = globalThis as { __dirname?: string };
  if (scope.__dirname === undefined) {
    const here = new URL(".", import.meta.url);
    scope.__dirname = here.protocol === "file:" ? decodeURIComponent(here.pathname) : ".";
  }
  const urls: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(WASM_BINARIES)) {
    urls[name] = URL.createObjectURL(new Blob([bytes], { type: "application/wasm" }));
  }
  tfwasm.setWasmPaths(urls, true);
}

if (import.meta.main) {
  exitOnUncaughtError(Deno.args.includes("-v") || Deno.args.includes("--verbose"));
  useEmbeddedWasm();
  Deno.exit(await main(Deno.args));
}
