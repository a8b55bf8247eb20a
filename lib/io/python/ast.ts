/**
 * The syntax tree the Python front end produces: plain records, one per
 * Python construct, each with its character offset (`pos`) and 1-based
 * `line`. Readers of config literals, Lasagne build scripts and PyTorch
 * model scripts walk these records and decide which constructs they
 * support.
 *
 * @module
 */

/** Where a node starts. */
export interface At {
  /** Character offset in the text. */
  pos: number;
  /** 1-based line. */
  line: number;
}

/** One `for ... in ... if ...` clause of a comprehension. */
export interface Comprehension {
  /** Loop target. */
  target: Expr;
  /** Iterated value. */
  iter: Expr;
  /** Filters. */
  ifs: Expr[];
}

/** A keyword argument of a call (`name` null: `**mapping`). */
export interface Keyword {
  /** Parameter name, or null for `**value`. */
  name: string | null;
  /** The argument. */
  value: Expr;
}

/** A parameter of a `def` or `lambda`. */
export interface Param {
  /** Name. */
  name: string;
  /** Default value. */
  default?: Expr;
  /** `*args` (`star`) or `**kwargs` (`double`); plain otherwise. */
  kind: "plain" | "star" | "double";
  /** Declared after `*` or `*args` (keyword-only). */
  keywordOnly?: boolean;
}

/** An expression. */
export type Expr =
  & At
  & (
    | { t: "name"; id: string }
    | { t: "num"; value: number | bigint; float: boolean; complex: boolean }
    | { t: "str"; value: string; bytes: boolean; fstring: boolean; unsupported?: string }
    | { t: "const"; value: null | boolean }
    | { t: "ellipsis" }
    | { t: "tuple" | "list" | "set"; items: Expr[] }
    | { t: "dict"; keys: (Expr | null)[]; values: Expr[] }
    | { t: "starred"; value: Expr }
    | { t: "attr"; obj: Expr; name: string }
    | { t: "call"; fn: Expr; args: Expr[]; keywords: Keyword[] }
    | { t: "index"; obj: Expr; index: Expr }
    | { t: "slice"; lower?: Expr; upper?: Expr; step?: Expr }
    | { t: "unary"; op: "-" | "+" | "~" | "not"; operand: Expr }
    | { t: "binary"; op: string; left: Expr; right: Expr }
    | { t: "boolop"; op: "and" | "or"; values: Expr[] }
    | { t: "compare"; left: Expr; ops: string[]; comparators: Expr[] }
    | { t: "ifexp"; test: Expr; body: Expr; orelse: Expr }
    | { t: "lambda"; params: Param[]; body: Expr }
    | {
      t: "comp";
      kind: "list" | "set" | "dict" | "generator";
      elt: Expr;
      value?: Expr;
      generators: Comprehension[];
    }
    | { t: "yield" | "await"; value?: Expr }
    | { t: "walrus"; target: string; value: Expr }
  );

/** An `import a.b as c` clause. */
export interface ImportName {
  /** Dotted module name. */
  module: string;
  /** `as` name. */
  alias?: string;
}

/** A `try` statement's `except` clause. */
export interface Handler {
  /** Exception type, if given. */
  type?: Expr;
  /** `as` name. */
  name?: string;
  /** Body. */
  body: Stmt[];
}

/** A statement. */
export type Stmt =
  & At
  & (
    | { t: "expr"; value: Expr }
    | { t: "assign"; targets: Expr[]; value: Expr }
    | { t: "augassign"; target: Expr; op: string; value: Expr }
    | { t: "annassign"; target: Expr; annotation: Expr; value?: Expr }
    | { t: "import"; names: ImportName[] }
    | { t: "from"; module: string; level: number; names: [string, string][] }
    | {
      t: "def";
      name: string;
      params: Param[];
      body: Stmt[];
      decorators: Expr[];
      returns?: Expr;
      async: boolean;
    }
    | { t: "class"; name: string; bases: Expr[]; keywords: Keyword[]; body: Stmt[]; decorators: Expr[] }
    | { t: "return"; value?: Expr }
    | { t: "if"; test: Expr; body: Stmt[]; orelse: Stmt[] }
    | { t: "for"; target: Expr; iter: Expr; body: Stmt[]; orelse: Stmt[]; async: boolean }
    | { t: "while"; test: Expr; body: Stmt[]; orelse: Stmt[] }
    | { t: "with"; items: { context: Expr; target?: Expr }[]; body: Stmt[]; async: boolean }
    | { t: "try"; body: Stmt[]; handlers: Handler[]; orelse: Stmt[]; finalbody: Stmt[] }
    | { t: "raise"; exc?: Expr; cause?: Expr }
    | { t: "assert"; test: Expr; msg?: Expr }
    | { t: "del"; targets: Expr[] }
    | { t: "global" | "nonlocal"; names: string[] }
    | { t: "pass" | "break" | "continue" }
    | { t: "print"; values: Expr[] }
    | { t: "main-guard" }
  );

/** Statement kinds as a newcomer reads them in errors (`while loops`, `class definitions`, ...). */
export const STATEMENT_NAMES: Readonly<Record<Stmt["t"], string>> = {
  expr: "expression statements",
  assign: "assignments",
  augassign: "augmented assignments",
  annassign: "annotated assignments",
  import: "imports",
  from: "imports",
  def: "function definitions",
  class: "class definitions",
  return: "return statements",
  if: "if statements",
  for: "for loops",
  while: "while loops",
  with: "with statements",
  try: "try statements",
  raise: "raise statements",
  assert: "assert statements",
  del: "del statements",
  global: "global statements",
  nonlocal: "nonlocal statements",
  pass: "pass statements",
  break: "break statements",
  continue: "continue statements",
  print: "print statements",
  "main-guard": "`if __name__ == '__main__':` blocks",
};

/** Describe an expression kind for errors (`a lambda`, `a list comprehension`, ...). */
export function describeExpr(e: Expr): string {
  switch (e.t) {
    case "name":
      return `the name '${e.id}'`;
    case "num":
      return e.complex ? "a complex number" : "a number";
    case "str":
      return e.fstring ? "an f-string" : e.bytes ? "a bytes literal" : "a string";
    case "const":
      return String(e.value === null ? "None" : e.value ? "True" : "False");
    case "ellipsis":
      return "Ellipsis ('...')";
    case "tuple":
    case "list":
    case "set":
    case "dict":
      return `a ${e.t}`;
    case "starred":
      return "a starred expression";
    case "attr":
      return "an attribute";
    case "call":
      return "a function call";
    case "index":
      return "a subscript";
    case "slice":
      return "a slice";
    case "unary":
      return e.op === "not" ? "'not'" : `unary '${e.op}'`;
    case "binary":
      return `'${e.op}'`;
    case "boolop":
      return `'${e.op}'`;
    case "compare":
      return "a comparison";
    case "ifexp":
      return "a conditional expression";
    case "lambda":
      return "a lambda";
    case "comp":
      return e.kind === "generator" ? "a generator expression" : `a ${e.kind} comprehension`;
    case "yield":
    case "await":
      return `'${e.t}'`;
    case "walrus":
      return "':='";
  }
}

/** The sub-expressions of an expression, in source order. */
export function childExprs(e: Expr): Expr[] {
  switch (e.t) {
    case "tuple":
    case "list":
    case "set":
      return e.items;
    case "dict":
      return e.keys.flatMap((k, i) => (k ? [k, e.values[i]] : [e.values[i]]));
    case "starred":
      return [e.value];
    case "attr":
      return [e.obj];
    case "call":
      return [e.fn, ...e.args, ...e.keywords.map((k) => k.value)];
    case "index":
      return [e.obj, e.index];
    case "slice":
      return [e.lower, e.upper, e.step].filter((x): x is Expr => x !== undefined);
    case "unary":
      return [e.operand];
    case "binary":
      return [e.left, e.right];
    case "boolop":
      return e.values;
    case "compare":
      return [e.left, ...e.comparators];
    case "ifexp":
      return [e.body, e.test, e.orelse];
    case "lambda":
      return [...e.params.flatMap((p) => (p.default ? [p.default] : [])), e.body];
    case "comp":
      return [
        e.elt,
        ...(e.value ? [e.value] : []),
        ...e.generators.flatMap((g) => [g.target, g.iter, ...g.ifs]),
      ];
    case "yield":
    case "await":
      return e.value ? [e.value] : [];
    case "walrus":
      return [e.value];
    default:
      return [];
  }
}
