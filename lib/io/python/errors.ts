/**
 * The one error type of the Python front end: where in the text a problem
 * is (offset and line) and which Python exception the same text raises in
 * Python (`SyntaxError` for text Python cannot parse; `ValueError` where
 * `ast.literal_eval` refuses valid syntax that is not a literal).
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

/** 1-based line of offset `pos` in `text`. */
export function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) line++;
  }
  return line;
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
