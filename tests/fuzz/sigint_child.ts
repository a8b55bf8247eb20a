/**
 * Child process for the Ctrl-C test in tests/hostile_inputs_test.ts: starts
 * an atomic write of `<OUTDIR>/out.bin` (withAtomicOutput), writes 1 MiB to
 * the temporary file, prints `writing <tmp>` and waits to be interrupted.
 *
 * @module
 */
import { withAtomicOutput } from "../../lib/io/atomic.ts";

const outDir = Deno.args[0];
await withAtomicOutput(`${outDir}/out.bin`, async (tmp) => {
  await Deno.writeFile(tmp, new Uint8Array(1 << 20));
  console.log(`writing ${tmp}`);
  await new Promise((resolve) => setTimeout(resolve, 30_000));
});
console.log("not interrupted");
