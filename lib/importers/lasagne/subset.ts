/**
 * The Python subset a Lasagne build script may use: imports, assignments
 * (names, subscripts, tuples), `def`/`return`, `for ... in ...`, `pass`,
 * docstrings, `if __name__ == '__main__':` (skipped), and expressions made
 * of names, attributes, calls (positional, keyword and `**` arguments),
 * subscripts, numbers, strings, None/True/False, tuples, lists, dicts and
 * arithmetic. The first construct outside it, in source order, is a
 * {@linkcode ScriptError} naming the file, the line and the construct.
 *
 * @module
 */
import { childExprs, type Expr, type Stmt } from "../../io/python/ast.ts";
import { ScriptError } from "../../io/python/errors.ts";

const STATEMENTS: Partial<Record<Stmt["t"], string>> = {
  class: "class definitions",
  while: "while loops",
  if: "if statements (other than `if __name__ == '__main__':`)",
  try: "try statements",
  with: "with statements",
  global: "global statements",
  nonlocal: "global statements",
  del: "del statements",
  raise: "raise statements",
  assert: "assert statements",
  print: "print statements",
  break: "break statements",
  continue: "continue statements",
  annassign: "annotated assignments",
};

const ARITHMETIC = new Set(["+", "-", "*", "/", "//", "%", "**"]);

function exprProblem(e: Expr): string | undefined {
  switch (e.t) {
    case "lambda":
    case "yield":
    case "await":
      return `'${e.t}' expressions`;
    case "unary":
      return e.op === "not" ? "'not' expressions" : e.op === "~" ? "operator '~'" : undefined;
    case "compare":
      return e.ops.some((op) => op.includes("in") || op.includes("is"))
        ? `'${e.ops.find((op) => op.includes("in") || op.includes("is"))!.split(" ").pop()}' expressions`
        : "comparisons";
    case "ifexp":
      return "'if' expressions";
    case "boolop":
      return `'${e.op}' expressions`;
    case "slice":
      return "slices";
    case "comp":
      return e.kind === "list"
        ? "list comprehensions"
        : e.kind === "generator"
        ? "generator expressions"
        : e.kind === "dict"
        ? "dict comprehensions"
        : "set literals";
    case "set":
      return "set literals";
    case "dict":
      return e.keys.includes(null) ? "'**' in dict displays" : undefined;
    case "starred":
      return "*args in calls";
    case "str":
      return e.fstring ? "f-strings" : undefined;
    case "num":
      return e.complex ? "complex numbers" : undefined;
    case "ellipsis":
      return "'...'";
    case "binary":
      return ARITHMETIC.has(e.op) ? undefined : `operator '${e.op}'`;
    case "walrus":
      return "':='";
  }
  return undefined;
}

function checkExpr(e: Expr, file: string): void {
  const problem = exprProblem(e);
  if (problem) throw new ScriptError(file, e.line, `${problem} are outside the supported subset`);
  for (const child of childExprs(e)) checkExpr(child, file);
}

function checkTarget(e: Expr, file: string, line: number): void {
  if (e.t === "tuple" || e.t === "list") return e.items.forEach((i) => checkTarget(i, file, line));
  if (e.t === "attr") {
    throw new ScriptError(file, line, "cannot assign to a attribute here (outside the supported subset)");
  }
  checkExpr(e, file);
}

/** Check a build script against the Lasagne subset; throws at the first construct outside it. */
export function checkLasagneSubset(body: readonly Stmt[], file: string): void {
  for (const s of body) {
    const what = STATEMENTS[s.t];
    if (what) throw new ScriptError(file, s.line, `${what} are outside the supported subset`);
    switch (s.t) {
      case "def":
        if (s.decorators.length) {
          throw new ScriptError(file, s.line, "decorators are outside the supported subset");
        }
        if (s.async) throw new ScriptError(file, s.line, "async code is outside the supported subset");
        if (s.params.some((p) => p.kind === "star")) {
          throw new ScriptError(file, s.line, "*args parameters are outside the supported subset");
        }
        s.params.forEach((p) => p.default && checkExpr(p.default, file));
        checkLasagneSubset(s.body, file);
        break;
      case "for":
        if (s.async) throw new ScriptError(file, s.line, "async code is outside the supported subset");
        checkTarget(s.target, file, s.line);
        checkExpr(s.iter, file);
        checkLasagneSubset([...s.body, ...s.orelse], file);
        break;
      case "assign":
        s.targets.forEach((t) => checkTarget(t, file, s.line));
        checkExpr(s.value, file);
        break;
      case "augassign":
        checkTarget(s.target, file, s.line);
        checkExpr(s.value, file);
        break;
      case "expr":
        checkExpr(s.value, file);
        break;
      case "return":
        if (s.value) checkExpr(s.value, file);
        break;
    }
  }
}
