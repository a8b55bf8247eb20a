/**
 * The expression grammar of the Python front end: a recursive-descent
 * parser over {@linkcode Token}s building {@linkcode Expr} records for all
 * of Python 3's expressions (lambdas, conditional expressions, boolean
 * operators, comparisons, arithmetic, calls with `*`/`**`, subscripts and
 * slices, displays and comprehensions). Which constructs mean something is
 * up to each reader; syntax errors are raised where Python raises them.
 *
 * @module
 */
import type { Comprehension, Expr, Keyword, Param } from "./ast.ts";
import { PythonSyntaxError } from "./errors.ts";
import type { Token, TokenizeMode } from "./tokenizer.ts";

const COMPARISONS = new Set(["<", ">", "==", ">=", "<=", "!="]);
const BINARY_LEVELS: string[][] = [["|"], ["^"], ["&"], ["<<", ">>"], ["+", "-"], ["*", "/", "//", "%", "@"]];
const YIELD_AWAIT = new Set(["await", "yield"]);
/** Python's reserved words. */
export const PY_KEYWORDS: ReadonlySet<string> = new Set(
  ("False None True and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield").split(" "),
);
const STATEMENT_KEYWORDS = new Set([
  "def",
  "class",
  "import",
  "from",
  "pass",
  "return",
  "del",
  "global",
  "nonlocal",
  "assert",
  "raise",
  "try",
  "except",
  "finally",
  "while",
  "with",
  "break",
  "continue",
  "elif",
  "as",
]);
/** Deepest nesting of expressions (unary chains, lambdas) before the parser gives up like Python does. */
const MAX_DEPTH = 1000;

type StrToken = Extract<Token, { t: "str" }>;

/** Parser state and the expression grammar; {@linkcode StatementParser} adds statements. */
export class ExpressionParser {
  protected i = 0;
  #depth = 0;

  /** Parse `tokens` (from `tokenize(text, mode)`). */
  constructor(readonly tokens: Token[], readonly mode: TokenizeMode) {}

  /** The current token. */
  get peek(): Token {
    return this.tokens[Math.min(this.i, this.tokens.length - 1)];
  }

  /** The token `k` places ahead. */
  ahead(k: number): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }

  /** Consume and return the current token. */
  next(): Token {
    const t = this.peek;
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  /** Whether the current token is of kind `kind` (a method, so checks are not narrowed across `next()`). */
  is(kind: Token["t"]): boolean {
    return this.peek.t === kind;
  }

  /** Whether the current token is operator `v`. */
  isOp(v: string): boolean {
    const t = this.peek;
    return t.t === "op" && t.v === v;
  }

  /** Whether the current token is name (or keyword) `v`. */
  isName(v: string): boolean {
    const t = this.peek;
    return t.t === "name" && t.v === v;
  }

  /** Consume operator `v` or fail. */
  expectOp(v: string): Token {
    if (!this.isOp(v)) throw this.syntax(`expected '${v}'`);
    return this.next();
  }

  /** Consume a name that is not a keyword, or fail. */
  expectName(what = "a name"): string {
    const t = this.peek;
    if (t.t !== "name" || PY_KEYWORDS.has(t.v)) throw this.syntax(`expected ${what}`);
    this.next();
    return t.v;
  }

  /** A SyntaxError at the current token, saying what was found. */
  syntax(msg = "invalid syntax", tok: Token = this.peek): PythonSyntaxError {
    const found = tok.t === "end"
      ? "end of text"
      : tok.t === "newline"
      ? "a line break"
      : tok.t === "indent"
      ? "an indent"
      : tok.t === "dedent"
      ? "a dedent"
      : tok.t === "str"
      ? "a string"
      : tok.t === "num"
      ? "a number"
      : `'${(tok as { v: string }).v}'`;
    return new PythonSyntaxError(`${msg}; found ${found}`, tok.pos, tok.line);
  }

  /** `expr (, expr)* [,]`; a bare tuple when there are commas and `allowBareTuple`. */
  exprList(allowBareTuple: boolean, starred = false): Expr {
    const at = this.at();
    const item = () => starred ? this.starredOrExpr() : this.expr();
    const first = item();
    if (!allowBareTuple || !this.isOp(",")) return first;
    const items = [first];
    while (this.isOp(",")) {
      this.i++;
      if (this.startsExpr()) items.push(item());
      else break;
    }
    return { t: "tuple", items, ...at };
  }

  /** Offset and line of the current token. */
  protected at(tok: Token = this.peek): { pos: number; line: number } {
    return { pos: tok.pos, line: tok.line };
  }

  /** Whether the current token can start an expression. */
  startsExpr(): boolean {
    const t = this.peek;
    if (t.t === "num" || t.t === "str") return true;
    if (t.t === "name") {
      return !STATEMENT_KEYWORDS.has(t.v) && !["in", "is", "and", "or", "if", "else", "for"].includes(t.v);
    }
    if (t.t === "op") return ["(", "[", "{", "-", "+", "~", "...", "*"].includes(t.v);
    return false;
  }

  /** One expression: a lambda, a conditional expression or an `or` test. */
  expr(): Expr {
    if (++this.#depth > MAX_DEPTH) throw this.syntax("expression too deeply nested");
    try {
      const at = this.at();
      if (this.isName("lambda")) return this.lambda();
      const node = this.orTest();
      if (this.isName("if")) {
        this.i++;
        const test = this.orTest();
        if (!this.isName("else")) throw this.syntax("expected 'else'");
        this.i++;
        return { t: "ifexp", test, body: node, orelse: this.expr(), ...at };
      }
      if (this.mode === "file" && this.isOp(":=") && node.t === "name") {
        this.i++;
        return { t: "walrus", target: node.id, value: this.expr(), ...at };
      }
      return node;
    } finally {
      this.#depth--;
    }
  }

  /** `lambda params: expr`. */
  lambda(): Expr {
    const at = this.at();
    this.i++;
    const params = this.params(":", false);
    this.expectOp(":");
    return { t: "lambda", params, body: this.expr(), ...at };
  }

  /**
   * Parameters up to (not including) `close`: `a, b=1, *args, c, **kwargs`
   * (`/` accepted; `annotations` allows `a: int`).
   */
  params(close: string, annotations: boolean): Param[] {
    const params: Param[] = [];
    let keywordOnly = false;
    while (!this.isOp(close)) {
      if (this.isOp("/")) {
        this.i++;
      } else if (this.isOp("**")) {
        this.i++;
        params.push({ name: this.expectName("a parameter name"), kind: "double" });
        if (annotations) this.annotation();
      } else if (this.isOp("*")) {
        this.i++;
        keywordOnly = true;
        if (!this.isOp(",")) {
          params.push({ name: this.expectName("a parameter name"), kind: "star" });
          if (annotations) this.annotation();
        }
      } else {
        const name = this.expectName("a parameter name");
        if (annotations) this.annotation();
        let def: Expr | undefined;
        if (this.isOp("=")) {
          this.i++;
          def = this.expr();
        }
        params.push({ name, default: def, kind: "plain", ...(keywordOnly ? { keywordOnly } : {}) });
      }
      if (!this.isOp(",")) break;
      this.i++;
    }
    return params;
  }

  annotation(): void {
    if (this.isOp(":")) {
      this.i++;
      this.expr();
    }
  }

  orTest(): Expr {
    return this.boolChain("or", () => this.boolChain("and", () => this.notTest()));
  }

  boolChain(word: "and" | "or", operand: () => Expr): Expr {
    const at = this.at();
    const first = operand();
    if (!this.isName(word)) return first;
    const values = [first];
    while (this.isName(word)) {
      this.i++;
      values.push(operand());
    }
    return { t: "boolop", op: word, values, ...at };
  }

  notTest(): Expr {
    const at = this.at();
    if (this.isName("not")) {
      this.i++;
      return { t: "unary", op: "not", operand: this.notTest(), ...at };
    }
    return this.comparison();
  }

  comparison(): Expr {
    const at = this.at();
    const left = this.binary(0);
    const ops: string[] = [];
    const comparators: Expr[] = [];
    for (;;) {
      const t = this.peek;
      let op: string;
      if (t.t === "op" && COMPARISONS.has(t.v)) {
        op = t.v;
        this.i++;
      } else if (t.t === "name" && (t.v === "in" || t.v === "is")) {
        this.i++;
        op = t.v;
        if (t.v === "is" && this.isName("not")) {
          this.i++;
          op = "is not";
        }
      } else if (t.t === "name" && t.v === "not" && this.ahead(1).t === "name") {
        if ((this.ahead(1) as { v: string }).v !== "in") break;
        this.i += 2;
        op = "not in";
      } else break;
      ops.push(op);
      comparators.push(this.binary(0));
    }
    return ops.length ? { t: "compare", left, ops, comparators, ...at } : left;
  }

  binary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.factor();
    let node = this.binary(level + 1);
    for (let n = 0;; n++) {
      const t = this.peek;
      if (t.t !== "op" || !BINARY_LEVELS[level].includes(t.v)) return node;
      // A left-nested chain is as deep as it is long for whoever walks the tree.
      if (n >= MAX_DEPTH) throw this.syntax("expression too deeply nested");
      this.i++;
      const right = this.binary(level + 1);
      node = { t: "binary", op: t.v, left: node, right, pos: t.pos, line: t.line };
    }
  }

  factor(): Expr {
    if (++this.#depth > MAX_DEPTH) throw this.syntax("expression too deeply nested");
    try {
      const t = this.peek;
      if (t.t === "op" && (t.v === "-" || t.v === "+" || t.v === "~")) {
        this.i++;
        return { t: "unary", op: t.v, operand: this.factor(), pos: t.pos, line: t.line };
      }
      if (this.mode === "file" && t.t === "name" && t.v === "await") {
        this.i++;
        return { t: "await", value: this.primary(), ...this.at(t) };
      }
      const base = this.primary();
      if (this.isOp("**")) {
        const op = this.next();
        return { t: "binary", op: "**", left: base, right: this.factor(), pos: op.pos, line: op.line };
      }
      return base;
    } finally {
      this.#depth--;
    }
  }

  primary(): Expr {
    let node = this.atom();
    for (let n = 0;; n++) {
      if (n >= MAX_DEPTH) throw this.syntax("expression too deeply nested");
      const at = this.at();
      if (this.isOp("(")) {
        this.i++;
        node = { t: "call", fn: node, ...this.callArgs(), ...at };
      } else if (this.isOp("[")) {
        this.i++;
        node = { t: "index", obj: node, index: this.subscript(), ...at };
      } else if (this.isOp(".")) {
        this.i++;
        const attr = this.peek;
        if (attr.t !== "name" || PY_KEYWORDS.has(attr.v)) throw this.syntax("expected an attribute name");
        this.i++;
        node = { t: "attr", obj: node, name: attr.v, ...at };
      } else return node;
    }
  }

  callArgs(): { args: Expr[]; keywords: Keyword[] } {
    const args: Expr[] = [];
    const keywords: Keyword[] = [];
    while (!this.isOp(")")) {
      const at = this.at();
      if (this.isOp("*")) {
        this.i++;
        args.push({ t: "starred", value: this.expr(), ...at });
      } else if (this.isOp("**")) {
        this.i++;
        keywords.push({ name: null, value: this.expr() });
      } else if (
        this.peek.t === "name" && this.ahead(1).t === "op" && (this.ahead(1) as { v: string }).v === "="
      ) {
        const name = (this.next() as { v: string }).v;
        this.i++;
        keywords.push({ name, value: this.expr() });
      } else {
        const value = this.expr();
        const generators = this.comprehensionTail();
        args.push(generators ? { t: "comp", kind: "generator", elt: value, generators, ...at } : value);
      }
      if (!this.isOp(",")) break;
      this.i++;
    }
    this.expectOp(")");
    return { args, keywords };
  }

  /** The inside of `[...]` after an expression: an index, a slice, or a tuple of them. */
  subscript(): Expr {
    const at = this.at();
    const items: Expr[] = [];
    do {
      if (this.isOp("]") || this.isOp(",")) throw this.syntax("expected a subscript");
      const sliceAt = this.at();
      const parts: (Expr | undefined)[] = [];
      parts.push(!this.isOp(":") && !this.isOp("]") && !this.isOp(",") ? this.expr() : undefined);
      let colons = 0;
      while (this.isOp(":")) {
        this.i++;
        colons++;
        parts.push(!this.isOp(":") && !this.isOp("]") && !this.isOp(",") ? this.expr() : undefined);
      }
      items.push(
        colons === 0
          ? parts[0] as Expr
          : { t: "slice", lower: parts[0], upper: parts[1], step: parts[2], ...sliceAt },
      );
      if (!this.isOp(",")) break;
      this.i++;
    } while (!this.isOp("]"));
    this.expectOp("]");
    const beforeClose = this.tokens[this.i - 2];
    return items.length === 1 && !(beforeClose?.t === "op" && beforeClose.v === ",")
      ? items[0]
      : { t: "tuple", items, ...at };
  }

  /** `for ... in ... [if ...]` clauses after an element, or `undefined` when there are none. */
  comprehensionTail(): Comprehension[] | undefined {
    const generators: Comprehension[] = [];
    while (this.isName("for") || this.isName("async")) {
      if (this.isName("async")) this.i++;
      this.i++;
      const target = this.targetList();
      if (!this.isName("in")) throw this.syntax("expected 'in'");
      this.i++;
      const iter = this.orTest();
      const ifs: Expr[] = [];
      while (this.isName("if")) {
        this.i++;
        ifs.push(this.orTest());
      }
      generators.push({ target, iter, ifs });
    }
    return generators.length ? generators : undefined;
  }

  /** Loop targets `a` or `a, b` (up to `in`). */
  targetList(): Expr {
    const at = this.at();
    const items: Expr[] = [];
    let comma = false;
    do {
      items.push(this.isOp("*") ? this.starredOrExpr() : this.binary(0));
      if (!this.isOp(",")) break;
      comma = true;
      this.i++;
    } while (!this.isName("in"));
    return items.length === 1 && !comma ? items[0] : { t: "tuple", items, ...at };
  }

  starredOrExpr(): Expr {
    if (this.isOp("*")) {
      const at = this.at();
      this.i++;
      return { t: "starred", value: this.binary(0), ...at };
    }
    return this.expr();
  }

  atom(): Expr {
    const t = this.peek;
    switch (t.t) {
      case "num":
        this.i++;
        return { t: "num", value: t.v, float: t.float, complex: t.complex, ...this.at(t) };
      case "str":
        return this.strings();
      case "name":
        return this.nameAtom(t);
      case "op":
        if (t.v === "(") return this.parenthesized();
        if (t.v === "[") return this.bracketed();
        if (t.v === "{") return this.braced();
        if (t.v === "...") {
          this.i++;
          return { t: "ellipsis", ...this.at(t) };
        }
        throw this.syntax();
      default:
        throw this.syntax();
    }
  }

  nameAtom(t: { v: string; pos: number; line: number }): Expr {
    const at = { pos: t.pos, line: t.line };
    if (YIELD_AWAIT.has(t.v)) {
      if (this.mode === "eval") {
        throw new PythonSyntaxError(`'${t.v}' is not a literal`, t.pos, t.line, "ValueError");
      }
      this.i++;
      if (t.v === "await") return { t: "await", value: this.primary(), ...at };
      if (this.isName("from")) this.i++;
      return { t: "yield", value: this.startsExpr() ? this.exprList(true) : undefined, ...at };
    }
    if (PY_KEYWORDS.has(t.v) && !["True", "False", "None"].includes(t.v)) throw this.syntax();
    this.i++;
    if (t.v === "True") return { t: "const", value: true, ...at };
    if (t.v === "False") return { t: "const", value: false, ...at };
    if (t.v === "None") return { t: "const", value: null, ...at };
    return { t: "name", id: t.v, ...at };
  }

  strings(): Expr {
    const first = this.peek as StrToken;
    const parts: string[] = [];
    let fstring = false;
    let bytes: boolean | undefined;
    let unsupported: string | undefined;
    while (this.peek.t === "str") {
      const s = this.next() as StrToken;
      if (bytes !== undefined && bytes !== s.bytes) {
        throw new PythonSyntaxError("cannot mix bytes and nonbytes literals", s.pos, s.line);
      }
      bytes = s.bytes;
      fstring ||= s.fstring;
      unsupported ??= s.unsupported;
      parts.push(s.v);
    }
    return {
      t: "str",
      value: parts.join(""),
      bytes: bytes ?? false,
      fstring,
      ...(unsupported ? { unsupported } : {}),
      ...this.at(first),
    };
  }

  parenthesized(): Expr {
    const at = this.at();
    this.i++;
    if (this.isOp(")")) {
      this.i++;
      return { t: "tuple", items: [], ...at };
    }
    const first = this.starredOrExpr();
    const generators = this.comprehensionTail();
    if (generators) {
      this.expectOp(")");
      return { t: "comp", kind: "generator", elt: first, generators, ...at };
    }
    if (this.isOp(")")) {
      this.i++;
      return first;
    }
    const items = [first];
    while (this.isOp(",")) {
      this.i++;
      if (this.isOp(")")) break;
      items.push(this.starredOrExpr());
    }
    this.expectOp(")");
    return { t: "tuple", items, ...at };
  }

  bracketed(): Expr {
    const at = this.at();
    this.i++;
    const items: Expr[] = [];
    if (!this.isOp("]")) {
      items.push(this.starredOrExpr());
      const generators = this.comprehensionTail();
      if (generators) {
        this.expectOp("]");
        return { t: "comp", kind: "list", elt: items[0], generators, ...at };
      }
      while (this.isOp(",")) {
        this.i++;
        if (this.isOp("]")) break;
        items.push(this.starredOrExpr());
      }
    }
    this.expectOp("]");
    return { t: "list", items, ...at };
  }

  braced(): Expr {
    const at = this.at();
    this.i++;
    if (this.isOp("}")) {
      this.i++;
      return { t: "dict", keys: [], values: [], ...at };
    }
    if (this.isOp("**")) return this.dictRest(at, [], []);
    const first = this.starredOrExpr();
    if (this.isOp(":")) {
      this.i++;
      const value = this.expr();
      const generators = this.comprehensionTail();
      if (generators) {
        this.expectOp("}");
        return { t: "comp", kind: "dict", elt: first, value, generators, ...at };
      }
      return this.dictRest(at, [first], [value]);
    }
    const generators = this.comprehensionTail();
    if (generators) {
      this.expectOp("}");
      return { t: "comp", kind: "set", elt: first, generators, ...at };
    }
    const items = [first];
    while (this.isOp(",")) {
      this.i++;
      if (this.isOp("}")) break;
      items.push(this.starredOrExpr());
    }
    this.expectOp("}");
    return { t: "set", items, ...at };
  }

  dictRest(at: { pos: number; line: number }, keys: (Expr | null)[], values: Expr[]): Expr {
    for (;;) {
      if (keys.length) {
        if (!this.isOp(",")) break;
        this.i++;
        if (this.isOp("}")) break;
      }
      if (this.isOp("**")) {
        this.i++;
        keys.push(null);
        values.push(this.binary(0));
        continue;
      }
      keys.push(this.expr());
      this.expectOp(":");
      values.push(this.expr());
    }
    this.expectOp("}");
    return { t: "dict", keys, values, ...at };
  }
}
