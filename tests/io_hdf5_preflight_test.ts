/**
 * The HDF5 time limit (lib/io/hdf5_preflight.ts): a file on which the HDF5
 * C library loops forever (the fuzz corpus's keras-json-1b20cf1d: five
 * flipped bits; h5py loops on it too) is refused within the limit, naming
 * the file; valid files pass and keep their values; the limit comes from
 * SNNTOOLBOX_HDF5_TIMEOUT.
 */
import { assertEquals, assertRejects, assertTrue } from "./_assert.ts";
import { ModelFormatError } from "../lib/errors.ts";
import { hdf5TimeoutMs, preflightHdf5 } from "../lib/io/hdf5_preflight.ts";
import { openHdf5, readStringArrayAttr } from "../lib/io/hdf5.ts";
import { type CorpusEntry, fromCorpusEntry, materialize } from "./fuzz/contract.ts";

const LOOPING = new URL("./fuzz/corpus/keras-json-1b20cf1d.json", import.meta.url);
const VALID = new URL("../testdata/keras/keras1_th_cnn_weights.h5", import.meta.url).pathname;

Deno.test("preflightHdf5: a file the HDF5 library loops on is refused at the limit, naming it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "snn-hdf5-loop-" });
  try {
    const entry = JSON.parse(Deno.readTextFileSync(LOOPING)) as CorpusEntry;
    const path = materialize(fromCorpusEntry(entry), dir);
    assertTrue(path.endsWith("m_weights.h5"), path);
    const start = performance.now();
    const err = await assertRejects(() => preflightHdf5(path, 1500), ModelFormatError);
    const seconds = (performance.now() - start) / 1000;
    assertTrue(err.message.startsWith(`${path}: damaged HDF5 file:`), err.message);
    assertTrue(err.message.includes("SNNTOOLBOX_HDF5_TIMEOUT"), err.message);
    assertTrue(seconds >= 1.4 && seconds < 10, `refused after ${seconds} s`);
    // the worker was replaced: a valid file afterwards still passes and reads
    await preflightHdf5(VALID, 30_000);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("preflightHdf5: a valid file passes, and openHdf5 then reads it", async () => {
  await preflightHdf5(VALID, 30_000);
  const file = await openHdf5(VALID);
  try {
    // the Keras 1 weights file names its layers in the root attribute h5py wrote
    assertTrue((readStringArrayAttr(file, "layer_names") ?? []).length > 0);
  } finally {
    file.close();
  }
});

Deno.test("hdf5TimeoutMs: SNNTOOLBOX_HDF5_TIMEOUT in seconds, 0 turns it off, 10 s otherwise", () => {
  const before = Deno.env.get("SNNTOOLBOX_HDF5_TIMEOUT");
  try {
    Deno.env.delete("SNNTOOLBOX_HDF5_TIMEOUT");
    assertEquals(hdf5TimeoutMs(), 10_000);
    Deno.env.set("SNNTOOLBOX_HDF5_TIMEOUT", "2.5");
    assertEquals(hdf5TimeoutMs(), 2_500);
    Deno.env.set("SNNTOOLBOX_HDF5_TIMEOUT", "0");
    assertEquals(hdf5TimeoutMs(), 0);
    Deno.env.set("SNNTOOLBOX_HDF5_TIMEOUT", "soon");
    assertEquals(hdf5TimeoutMs(), 10_000);
  } finally {
    if (before === undefined) Deno.env.delete("SNNTOOLBOX_HDF5_TIMEOUT");
    else Deno.env.set("SNNTOOLBOX_HDF5_TIMEOUT", before);
  }
});
