/**
 * The one Python front end of the toolbox: text → tokens → syntax tree,
 * with Python's own rules (string escapes, numbers, indentation, operator
 * precedence). Config literals (`ast.literal_eval`), Lasagne build scripts
 * and PyTorch model scripts are all read through it; each reader then walks
 * the tree and decides what it supports.
 *
 * @example
 * ```ts
 * import { parseModule } from "./mod.ts";
 * const body = parseModule("import torch\nx = 1 + 2\n", "net.py");
 * body.map((s) => s.t); // ["import", "assign"]
 * ```
 *
 * @module
 */
import { ModelFormatError } from "../../errors.ts";
import type { Expr, Stmt } from "./ast.ts";
import { PythonSyntaxError } from "./errors.ts";
import { ExpressionParser } from "./expressions.ts";
import { StatementParser } from "./statements.ts";
import { tokenize } from "./tokenizer.ts";

export type { At, Comprehension, Expr, Handler, ImportName, Keyword, Param, Stmt } from "./ast.ts";
export { describeExpr, STATEMENT_NAMES } from "./ast.ts";
export { type PythonErrorKind, PythonSyntaxError } from "./errors.ts";

/**
 * Parse Python source (a module) into statements. Throws a
 * {@linkcode ModelFormatError} `file:line: message` on a syntax error.
 */
export function parseModule(source: string, file: string): Stmt[] {
  try {
    return new StatementParser(tokenize(source, "file"), "file").module();
  } catch (err) {
    if (err instanceof PythonSyntaxError) {
      throw new ModelFormatError(`${file}:${err.line}: ${err.message}`, { file, cause: err });
    }
    throw err;
  }
}

/**
 * Parse one expression the way `ast.parse(text, mode='eval')` does (a bare
 * tuple allowed, trailing line breaks ignored). Throws
 * {@linkcode PythonSyntaxError} with the offset of the problem.
 */
export function parseExpression(text: string): Expr {
  const p = new ExpressionParser(tokenize(text, "eval"), "eval");
  const node = p.exprList(true);
  while (p.peek.t === "newline") p.next();
  if (p.peek.t !== "end") throw p.syntax();
  return node;
}

/** Top-level modules a script imports (`torch` for `import torch.nn as nn`, `lasagne` for `from lasagne import layers`). */
export function importedModules(body: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  for (const s of body) {
    if (s.t === "import") { for (const n of s.names) out.add(n.module.split(".")[0]); }
    else if (s.t === "from" && s.level === 0) out.add(s.module.split(".")[0]);
  }
  return out;
}
