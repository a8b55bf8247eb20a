/**
 * The toolbox's error types. Every library throws one of these (never a raw
 * error from a dependency), so the CLI can print one clear line and pick the
 * exit code: {@linkcode ConfigError} and {@linkcode UsageError} exit with 2,
 * every other {@linkcode SnnToolboxError} with 1.
 *
 * @module
 */

/** Options shared by all toolbox errors. */
export interface SnnToolboxErrorOptions {
  /** The lower-level error that caused this one. */
  cause?: unknown;
  /** The file the error is about, when there is one. */
  file?: string;
}

/** Base class of every error the toolbox throws on purpose. */
export class SnnToolboxError extends Error {
  /** The file the error is about, when there is one. */
  readonly file?: string;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;

  /** Create an error; `message` should name the file, the thing, and what was expected. */
  constructor(message: string, options: SnnToolboxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.file = options.file;
  }
}

/** A bad command line (unknown command, missing argument). Exit code 2. */
export class UsageError extends SnnToolboxError {
  /** Process exit code of the CLI for this error: 2, a usage error. */
  override readonly exitCode: number = 2;
}

/** A bad experiment configuration (INI syntax, value, missing path). Exit code 2. */
export class ConfigError extends SnnToolboxError {
  /** Process exit code of the CLI for this error: 2, like every configuration error. */
  override readonly exitCode: number = 2;
}

/**
 * A model that does not state the shape of its input (a Caffe net whose
 * input comes from a Data layer) and was loaded without
 * `LoadOptions.inputShape`: loading it again with a shape (e.g. that of the
 * data it will run on) succeeds. A {@linkcode ConfigError}: exit code 2.
 */
export class InputShapeRequiredError extends ConfigError {}

/** A model file that cannot be read: wrong format, truncated, inconsistent. */
export class ModelFormatError extends SnnToolboxError {}

/** A layer or operator the toolbox cannot convert to a spiking network. */
export class UnsupportedLayerError extends SnnToolboxError {}

/** A dataset file (`.npy`, `.npz`) that cannot be read or does not fit the model. */
export class DatasetError extends SnnToolboxError {}

/** A stage of the pipeline that is not implemented in this version. */
export class NotAvailableError extends SnnToolboxError {}

/** Sharded results that cannot be merged: a shard missing, given twice, corrupt, or of another experiment. */
export class ShardError extends SnnToolboxError {}

/** Format the message of `err` and, when `verbose`, its cause chain, one per line. */
export function describeError(err: unknown, verbose = false): string {
  const lines: string[] = [];
  let cur: unknown = err;
  let depth = 0;
  while (cur !== undefined && cur !== null && depth < 10) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    lines.push(depth === 0 ? msg : `caused by: ${msg}`);
    if (!verbose) break;
    cur = cur instanceof Error ? cur.cause : undefined;
    depth++;
  }
  return lines.join("\n");
}
