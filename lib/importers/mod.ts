/**
 * The input libraries (`[input] model_lib`). Every library lives in its own
 * folder, `lib/importers/<name>/`, and is one {@linkcode ModelLibrary} value
 * exported by that folder's `mod.ts`; it turns the library's files into a
 * runnable TF.js layers model (the {@linkcode InputModel}), which the one
 * parser (`lib/parsing/`) reads whatever library loaded it.
 *
 * Adding a library: a folder `lib/importers/<name>/` whose `mod.ts` exports
 * `defineLibrary({ name, extensions, requiredFiles, load })`, and one entry in
 * {@linkcode MODEL_LIBRARY_LIST} below. Nothing else lists libraries or extensions.
 *
 * What goes where: a decoder that belongs to one library (Caffe's protobuf
 * messages, ONNX's protobuf schema, Keras's config generations, Lasagne's
 * build-script interpreter) lives in that library's folder, even when it only
 * turns bytes into records; `lib/io/` keeps what is not one library's own
 * (npy/npz, HDF5, pickle, Python source syntax, paths). Importers import only
 * from `lib/io/`, `lib/config/`, `lib/backend/` and `lib/layers/` (below them),
 * never from `lib/parsing/` or above, and never start the backend: entry
 * points do (see the README's development section).
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { DataFormat, InputModel, LoadOptions, ModelLibrary } from "./input_model.ts";
import { kerasLibrary } from "./keras/mod.ts";
import { onnxLibrary } from "./onnx/mod.ts";
import { pytorchLibrary } from "./pytorch/mod.ts";
import { caffeLibrary } from "./caffe/mod.ts";
import { lasagneLibrary } from "./lasagne/mod.ts";

export type { DataFormat, InputModel, LoadOptions, ModelLibrary };

/** Every input library, one entry each (in the order of error messages and extension hints). */
export const MODEL_LIBRARY_LIST = [
  kerasLibrary,
  onnxLibrary,
  pytorchLibrary,
  caffeLibrary,
  lasagneLibrary,
] as const;

/** The model libraries of `[input] model_lib`. */
export type ModelLib = (typeof MODEL_LIBRARY_LIST)[number]["name"];

/** Names of the registered libraries ({@linkcode ModelLib}), for validation messages. */
export const MODEL_LIBS: readonly ModelLib[] = MODEL_LIBRARY_LIST.map((l) => l.name);

/** The registered libraries by name. */
export const MODEL_LIBRARIES: Readonly<Record<ModelLib, ModelLibrary>> = Object.fromEntries(
  MODEL_LIBRARY_LIST.map((l) => [l.name, l]),
) as Record<ModelLib, ModelLibrary>;

/**
 * Extensions (without the dot) of every file an input library reads, main
 * files first: stripped from a model file's name to name its parsed model.
 */
export const MODEL_FILE_EXTENSIONS: readonly string[] = [
  ...new Set(
    MODEL_LIBRARY_LIST.flatMap((l) => [...l.extensions, ...l.requiredFiles("").flat()]).map((e) =>
      e.slice(1)
    ),
  ),
];

/** Whether `name` is a registered library. */
export function isModelLib(name: string): name is ModelLib {
  return (MODEL_LIBS as readonly string[]).includes(name);
}

/** The library registered as `name`; `ConfigError` naming the registered ones otherwise. */
export function getModelLibrary(name: string): ModelLibrary {
  if (!isModelLib(name)) {
    throw new ConfigError(
      `[input] model_lib = '${name}' is not a model library; available: ${MODEL_LIBS.join(", ")}`,
    );
  }
  return MODEL_LIBRARIES[name];
}

/**
 * Pick the library for a model file from its extension (`.onnx` → onnx, `.h5` → keras, ...); where
 * libraries share an extension, by what the file is (a `.py` that imports torch → pytorch, else lasagne).
 */
export function guessModelLibrary(path: string): ModelLib | undefined {
  const lower = path.toLowerCase();
  let best: [ModelLib, number] | undefined;
  for (const lib of MODEL_LIBRARY_LIST) {
    for (const ext of lib.extensions) {
      if (lower.endsWith(ext) && (!best || ext.length > best[1]) && (lib.claims?.(path) ?? true)) {
        best = [lib.name, ext.length];
      }
    }
  }
  return best?.[0];
}
