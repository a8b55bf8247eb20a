/**
 * Keras 3 `.keras` archives: a zip holding `config.json`, `metadata.json`
 * and `model.weights.h5`.
 *
 * @module
 */
import { fflate } from "../../../deps.ts";
import { ModelFormatError } from "../../errors.ts";
import { isObject, type JsonObject } from "./json.ts";

/** The parts of a `.keras` archive. */
export interface KerasArchive {
  /** Parsed `config.json` (the model config). */
  config: JsonObject;
  /** Parsed `metadata.json` (`keras_version`, `date_saved`), `{}` when absent. */
  metadata: JsonObject;
  /** The bytes of `model.weights.h5`. */
  weightsH5: Uint8Array;
}

/** Largest archive entry inflated (a typed array's practical limit; guards against zip bombs). */
const MAX_ENTRY_BYTES = 2 ** 31 - 1;

function parseJsonEntry(bytes: Uint8Array, entry: string, file: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ModelFormatError(`${file}: archive entry '${entry}' is not valid JSON`, { file, cause: err });
  }
  if (!isObject(v)) {
    throw new ModelFormatError(`${file}: archive entry '${entry}' is not a JSON object`, { file });
  }
  return v;
}

/** Read a `.keras` zip archive from `bytes` (read from `file`). */
export function readKerasArchive(bytes: Uint8Array, file: string): KerasArchive {
  let entries: Record<string, Uint8Array>;
  let oversized: string | undefined;
  try {
    entries = fflate.unzipSync(bytes, {
      filter: (f) => {
        if (!["config.json", "metadata.json", "model.weights.h5"].includes(f.name)) return false;
        if (f.originalSize > MAX_ENTRY_BYTES) oversized ??= `${f.name} (${f.originalSize} bytes)`;
        return oversized === undefined;
      },
    });
    if (oversized !== undefined) {
      throw new ModelFormatError(
        `${file}: archive entry ${oversized} is larger than ${MAX_ENTRY_BYTES} bytes`,
        {
          file,
        },
      );
    }
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    throw new ModelFormatError(
      `${file}: not a readable zip archive (truncated or corrupt): ${
        err instanceof Error ? err.message : err
      }`,
      { file, cause: err },
    );
  }
  const missing = ["config.json", "model.weights.h5"].filter((n) => !(n in entries));
  if (missing.length > 0) {
    throw new ModelFormatError(
      `${file}: Keras archive lacks ${missing.join(" and ")}; expected config.json and model.weights.h5`,
      { file },
    );
  }
  return {
    config: parseJsonEntry(entries["config.json"], "config.json", file),
    metadata: "metadata.json" in entries
      ? parseJsonEntry(entries["metadata.json"], "metadata.json", file)
      : {},
    weightsH5: entries["model.weights.h5"],
  };
}
