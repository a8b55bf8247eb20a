/**
 * The registry of input model libraries (`[input] model_lib`): how to load
 * a model file and which parser reads the loaded model. Adding a library is
 * one entry in {@linkcode MODEL_LIBRARIES}.
 *
 * @module
 */
import type { ToolboxConfig } from "../../config/types.ts";
import { ConfigError } from "../../errors.ts";
import type { InputModel, LoadOptions, ModelLib } from "../input_model.ts";
import { MODEL_LIBS } from "../input_model.ts";
import type { AbstractModelParser } from "../abstract_parser.ts";
import type { ParserOptions } from "../options.ts";
import { applyTfjsFixes } from "../tfjs_fixes.ts";
import { withFileErrors } from "../unexpected_errors.ts";
import { KerasModelParser, load as loadKeras } from "./keras.ts";
import { loadOnnxModel, OnnxModelParser } from "./onnx.ts";
import { claimsPytorchFile, loadPytorchModel, PYTORCH_EXTENSIONS, PytorchModelParser } from "./pytorch.ts";
import { CaffeModelParser, loadCaffeModel } from "./caffe.ts";
import { LasagneModelParser, loadLasagneModel } from "./lasagne.ts";

/** One input library: a loader and a parser factory. */
export interface ModelLibrary {
  /** Load the model file at `path` into an input model. */
  load(path: string, options?: LoadOptions): Promise<InputModel>;
  /** Create the parser that reads `inputModel`. */
  createParser(inputModel: InputModel, config?: ToolboxConfig | ParserOptions): AbstractModelParser<unknown>;
  /** File extensions (lower case, with dot) this library reads, for picking a library from a path. */
  extensions: readonly string[];
  /** Whether this library reads `path`, for extensions several libraries share (`.py`: Lasagne or PyTorch). */
  claims?(path: string): boolean;
}

const kerasParser = (m: InputModel, c?: ToolboxConfig | ParserOptions): AbstractModelParser<unknown> =>
  new KerasModelParser(m, c) as unknown as AbstractModelParser<unknown>;

/**
 * Wrap a loader so every input model gets the TF.js corrections of
 * `tfjs_fixes.ts`, and any raw error of a reader or dependency becomes a
 * toolbox error naming the file (see `unexpected_errors.ts`).
 */
function fixed(load: ModelLibrary["load"]): ModelLibrary["load"] {
  return (path, options) =>
    withFileErrors(path, "load the model", async () => {
      const input = await load(path, options);
      applyTfjsFixes(input.model);
      return input;
    });
}

/** Registered libraries. Other libraries add one line here. */
export const MODEL_LIBRARIES: Partial<Record<ModelLib, ModelLibrary>> = {
  keras: {
    load: fixed(loadKeras),
    createParser: kerasParser,
    extensions: [".h5", ".hdf5", ".keras", ".json"],
  },
  onnx: {
    load: fixed(loadOnnxModel),
    createParser: (m, c) => new OnnxModelParser(m, c) as unknown as AbstractModelParser<unknown>,
    extensions: [".onnx"],
  },
  pytorch: {
    load: fixed(loadPytorchModel),
    createParser: (m, c) => new PytorchModelParser(m, c) as unknown as AbstractModelParser<unknown>,
    extensions: PYTORCH_EXTENSIONS,
    claims: claimsPytorchFile,
  },
  caffe: {
    load: fixed(loadCaffeModel),
    createParser: (m, c) => new CaffeModelParser(m, c) as unknown as AbstractModelParser<unknown>,
    extensions: [".prototxt"],
  },
  lasagne: {
    load: fixed(loadLasagneModel),
    createParser: (m, c) => new LasagneModelParser(m, c) as unknown as AbstractModelParser<unknown>,
    extensions: [".py"],
  },
};

/** The library registered as `name`; `ConfigError` naming the registered ones otherwise. */
export function getModelLibrary(name: string): ModelLibrary {
  const lib = MODEL_LIBRARIES[name as ModelLib];
  if (!lib) {
    const known = Object.keys(MODEL_LIBRARIES).join(", ");
    const hint = (MODEL_LIBS as readonly string[]).includes(name) ? " (not available in this build)" : "";
    throw new ConfigError(`[input] model_lib = '${name}' is not a model library${hint}; available: ${known}`);
  }
  return lib;
}

/**
 * Pick the library for a model file from its extension (`.onnx` → onnx, `.h5` → keras, ...); where
 * libraries share an extension, by what the file is (a `.py` that imports torch → pytorch, else lasagne).
 */
export function guessModelLibrary(path: string): ModelLib | undefined {
  const lower = path.toLowerCase();
  let best: [ModelLib, number] | undefined;
  for (const [name, lib] of Object.entries(MODEL_LIBRARIES) as [ModelLib, ModelLibrary][]) {
    for (const ext of lib.extensions) {
      if (lower.endsWith(ext) && (!best || ext.length > best[1]) && (lib.claims?.(path) ?? true)) {
        best = [name, ext.length];
      }
    }
  }
  return best?.[0];
}
