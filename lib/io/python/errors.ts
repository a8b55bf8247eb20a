/**
 * The errors of the Python front end: {@linkcode PythonSyntaxError} for
 * text it cannot read (where in the text, and which Python exception the
 * same text raises: `SyntaxError` for text Python cannot parse, `ValueError`
 * where `ast.literal_eval` refuses valid syntax that is not a literal), and
 * {@linkcode ScriptError} for a script it cannot run statically (the file,
 * the line and the construct).
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";

/** The Python exception class a front-end error mirrors. */
export type PythonErrorKind = "SyntaxError" | "ValueError" | "TypeError";

/** A problem found while tokenizing, parsing or evaluating Python text. */
export class PythonSyntaxError extends Error {
  /** Create an error at character offset `pos` (line `line`, 1-based) of the text. */
  constructor(
    message: string,
    /** Character offset in the text. */
    readonly pos: number,
    /** 1-based line number. */
    readonly line: number,
    /** The Python exception class the same text raises. */
    readonly kind: PythonErrorKind = "SyntaxError",
  ) {
    super(message);
    this.name = "PythonSyntaxError";
  }
}

/**
 * An error found while running a script statically (a name not defined, a
 * construct outside what the reader supports): a {@linkcode ModelFormatError}
 * `file:line: message` that also carries the line, so a reader can add
 * advice (the PyTorch reader names the `torch.onnx.export` route).
 */
export class ScriptError extends ModelFormatError {
  /** Create the error for `file` at `line`. */
  constructor(
    /** The script. */
    readonly script: string,
    /** 1-based line. */
    readonly line: number,
    /** What went wrong, without the location. */
    readonly reason: string,
  ) {
    super(`${script}:${line}: ${reason}`, { file: script });
  }
}
