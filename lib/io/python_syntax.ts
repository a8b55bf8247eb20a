/**
 * Tokenizer and parser for the small Python subset Lasagne build scripts
 * are written in: imports, assignments (names, subscripts, tuples),
 * `def`/`return`, `for ... in ...`, `pass`, docstrings, and expressions
 * (names, attributes, calls with positional and keyword arguments,
 * subscripts, numbers, strings, None/True/False, tuples, lists, dicts,
 * arithmetic). Everything else is a {@linkcode ModelFormatError} naming the
 * file, the line and the construct.
 *
 * @module
 */
import { ModelFormatError } from "../errors.ts";

/** An expression node. */
export type Expr =
  | { t: "name"; id: string; line: number }
  | { t: "num"; value: number; line: number }
  | { t: "str"; value: string; line: number }
  | { t: "const"; value: null | boolean; line: number }
  | { t: "tuple" | "list"; items: Expr[]; line: number }
  | { t: "dict"; entries: [Expr, Expr][]; line: number }
  | { t: "attr"; obj: Expr; name: string; line: number }
  | { t: "call"; fn: Expr; args: Expr[]; kwargs: [string, Expr][]; starKwargs?: Expr; line: number }
  | { t: "index"; obj: Expr; index: Expr; line: number }
  | { t: "unary"; op: string; operand: Expr; line: number }
  | { t: "binary"; op: string; left: Expr; right: Expr; line: number };

/** A statement node. */
export type Stmt =
  | { t: "import"; module: string; alias?: string; line: number }
  | { t: "from"; module: string; names: [string, string][]; line: number }
  | { t: "assign"; targets: Expr[]; value: Expr; line: number }
  | { t: "augassign"; target: Expr; op: string; value: Expr; line: number }
  | { t: "expr"; value: Expr; line: number }
  | {
    t: "def";
    name: string;
    params: { name: string; default?: Expr; kwargs?: boolean }[];
    body: Stmt[];
    line: number;
  }
  | { t: "return"; value?: Expr; line: number }
  | { t: "for"; target: Expr; iter: Expr; body: Stmt[]; line: number }
  | { t: "pass"; line: number }
  | { t: "main-guard"; line: number };

type TokKind = "name" | "num" | "str" | "op" | "newline" | "indent" | "dedent" | "eof";
interface Tok {
  kind: TokKind;
  text: string;
  value?: number | string;
  line: number;
}

const OPS = ["**=", "//=", "->", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%="];

function tokenize(src: string, file: string): Tok[] {
  const toks: Tok[] = [];
  const indents = [0];
  let depth = 0; // bracket nesting: newlines inside brackets are ignored
  let line = 1;
  let i = 0;
  let atLineStart = true;
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${file}:${line}: ${msg}`, { file });
  };
  while (i < src.length) {
    if (atLineStart && depth === 0) {
      let col = 0;
      let j = i;
      while (j < src.length && (src[j] === " " || src[j] === "\t")) {
        col += src[j] === "\t" ? 8 - (col % 8) : 1;
        j++;
      }
      if (src[j] === "\n" || src[j] === "#" || src[j] === "\r" || j >= src.length) {
        // blank or comment-only line
        while (j < src.length && src[j] !== "\n") j++;
        i = j + 1;
        line++;
        continue;
      }
      if (col > indents[indents.length - 1]) {
        indents.push(col);
        toks.push({ kind: "indent", text: "indent", line });
      }
      while (col < indents[indents.length - 1]) {
        indents.pop();
        toks.push({ kind: "dedent", text: "dedent", line });
      }
      if (col !== indents[indents.length - 1]) fail("inconsistent indentation");
      i = j;
      atLineStart = false;
    }
    const c = src[i];
    if (c === "\n") {
      if (depth === 0) {
        toks.push({ kind: "newline", text: "newline", line });
        atLineStart = true;
      }
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "\\" && src[i + 1] === "\n") {
      i += 2;
      line++;
      continue;
    }
    const strStart = /^([rRbBuU]{0,2})("""|'''|"|')/.exec(src.slice(i, i + 5));
    if (strStart && (strStart[1] === "" || /^[rRbBuU]+$/.test(strStart[1]))) {
      const raw = /[rR]/.test(strStart[1]);
      const quote = strStart[2];
      let j = i + strStart[0].length;
      let s = "";
      const startLine = line;
      for (;;) {
        if (j >= src.length) {
          line = startLine;
          fail("unterminated string");
        }
        if (src.startsWith(quote, j)) {
          j += quote.length;
          break;
        }
        const ch = src[j];
        if (ch === "\n") {
          if (quote.length === 1) fail("unterminated string");
          line++;
        }
        if (ch === "\\" && !raw) {
          const e = src[j + 1];
          const map: Record<string, string> = {
            n: "\n",
            t: "\t",
            r: "\r",
            "\\": "\\",
            "'": "'",
            '"': '"',
            "\n": "",
          };
          if (e in map) {
            if (e === "\n") line++;
            s += map[e];
            j += 2;
            continue;
          }
        }
        s += ch;
        j++;
      }
      toks.push({ kind: "str", text: src.slice(i, j), value: s, line });
      i = j;
      continue;
    }
    if (/[fF]["']/.test(src.slice(i, i + 2))) fail("f-strings are outside the supported subset");
    const num = /^(0[xX][0-9a-fA-F_]+|(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?)[jJlL]?/.exec(
      src.slice(i, i + 40),
    );
    if (num && /[\d.]/.test(c) && (c !== "." || /\d/.test(src[i + 1] ?? ""))) {
      if (/[jJ]$/.test(num[0])) fail("complex numbers are outside the supported subset");
      const text = num[0].replace(/[lL]$/, "").replace(/_/g, "");
      toks.push({ kind: "num", text: num[0], value: Number(text), line });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 200));
    if (name) {
      toks.push({ kind: "name", text: name[0], line });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i)) ?? c;
    if (!"()[]{},:.=+-*/%<>@;~".includes(op[0])) fail(`unexpected character '${c}'`);
    if ("([{".includes(op)) depth++;
    if (")]}".includes(op)) depth = Math.max(0, depth - 1);
    toks.push({ kind: "op", text: op, line });
    i += op.length;
  }
  toks.push({ kind: "newline", text: "newline", line });
  while (indents.length > 1) {
    indents.pop();
    toks.push({ kind: "dedent", text: "dedent", line });
  }
  toks.push({ kind: "eof", text: "end of file", line });
  return toks;
}

const UNSUPPORTED_KEYWORDS: Record<string, string> = {
  class: "class definitions",
  while: "while loops",
  if: "if statements (other than `if __name__ == '__main__':`)",
  try: "try statements",
  with: "with statements",
  lambda: "lambda expressions",
  global: "global statements",
  del: "del statements",
  raise: "raise statements",
  yield: "yield",
  assert: "assert statements",
  async: "async code",
  print: "print statements",
  exec: "exec",
};

class Parser {
  #pos = 0;
  constructor(readonly toks: Tok[], readonly file: string) {}

  fail(msg: string, tok: Tok = this.peek()): never {
    throw new ModelFormatError(`${this.file}:${tok.line}: ${msg}`, { file: this.file });
  }
  peek(o = 0): Tok {
    return this.toks[Math.min(this.#pos + o, this.toks.length - 1)];
  }
  next(): Tok {
    return this.toks[this.#pos++];
  }
  isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === "op" && t.text === text;
  }
  isName(text: string): boolean {
    const t = this.peek();
    return t.kind === "name" && t.text === text;
  }
  expectOp(text: string): Tok {
    if (!this.isOp(text)) this.fail(`expected '${text}', found '${this.peek().text}'`);
    return this.next();
  }
  expectName(): string {
    const t = this.next();
    if (t.kind !== "name") this.fail(`expected a name, found '${t.text}'`, t);
    return t.text;
  }
  endOfStatement(): void {
    if (this.isOp(";")) this.next();
    const t = this.next();
    if (t.kind !== "newline") this.fail(`expected the end of the statement, found '${t.text}'`, t);
  }

  module(): Stmt[] {
    const body: Stmt[] = [];
    while (this.peek().kind !== "eof") {
      if (this.peek().kind === "newline") {
        this.next();
        continue;
      }
      body.push(...this.statement());
    }
    return body;
  }

  block(): Stmt[] {
    this.expectOp(":");
    if (this.peek().kind !== "newline") {
      return this.simpleStatement();
    }
    this.next();
    if (this.peek().kind !== "indent") this.fail("expected an indented block");
    this.next();
    const body: Stmt[] = [];
    while (this.peek().kind !== "dedent" && this.peek().kind !== "eof") body.push(...this.statement());
    if (this.peek().kind === "dedent") this.next();
    return body;
  }

  skipBlock(): void {
    this.expectOp(":");
    if (this.peek().kind !== "newline") {
      while (this.peek().kind !== "newline") this.next();
      this.next();
      return;
    }
    this.next();
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t.kind === "indent") depth++;
      else if (t.kind === "dedent" && --depth <= 0) return;
      else if (t.kind === "eof") return;
    }
  }

  statement(): Stmt[] {
    const t = this.peek();
    if (t.kind === "op" && t.text === "@") this.fail("decorators are outside the supported subset");
    if (t.kind === "name") {
      if (t.text === "def") return [this.def()];
      if (t.text === "for") return [this.forStmt()];
      if (t.text === "if") {
        // `if __name__ == "__main__":` never runs when a script is imported: skip its block.
        const [a, b, c] = [this.peek(1), this.peek(2), this.peek(3)];
        if (a.text === "__name__" && b.text === "==" && c.kind === "str" && c.value === "__main__") {
          this.#pos += 4;
          this.skipBlock();
          return [{ t: "main-guard", line: t.line }];
        }
      }
      if (t.text in UNSUPPORTED_KEYWORDS && !(this.peek(1).kind === "op" && this.peek(1).text === "=")) {
        this.fail(`${UNSUPPORTED_KEYWORDS[t.text]} are outside the supported subset`);
      }
    }
    return this.simpleStatement();
  }

  simpleStatement(): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      out.push(this.smallStatement());
      if (this.isOp(";") && this.peek(1).kind !== "newline") {
        this.next();
        continue;
      }
      this.endOfStatement();
      return out;
    }
  }

  dotted(): string {
    let name = this.expectName();
    while (this.isOp(".")) {
      this.next();
      name += "." + this.expectName();
    }
    return name;
  }

  smallStatement(): Stmt {
    const t = this.peek();
    const line = t.line;
    if (t.kind === "name" && t.text === "import") {
      this.next();
      const module = this.dotted();
      let alias: string | undefined;
      if (this.isName("as")) {
        this.next();
        alias = this.expectName();
      }
      if (this.isOp(",")) this.fail("import several modules on one line: write one import per line");
      return { t: "import", module, alias, line };
    }
    if (t.kind === "name" && t.text === "from") {
      this.next();
      const module = this.dotted();
      if (!this.isName("import")) this.fail("expected 'import'");
      this.next();
      const paren = this.isOp("(");
      if (paren) this.next();
      const names: [string, string][] = [];
      if (this.isOp("*")) {
        this.next();
        names.push(["*", "*"]);
      } else {
        for (;;) {
          const n = this.expectName();
          let alias = n;
          if (this.isName("as")) {
            this.next();
            alias = this.expectName();
          }
          names.push([n, alias]);
          if (!this.isOp(",")) break;
          this.next();
          if (paren && this.isOp(")")) break;
        }
      }
      if (paren) this.expectOp(")");
      return { t: "from", module, names, line };
    }
    if (t.kind === "name" && t.text === "return") {
      this.next();
      if (this.peek().kind === "newline" || this.isOp(";")) return { t: "return", line };
      return { t: "return", value: this.exprList(), line };
    }
    if (t.kind === "name" && t.text === "pass") {
      this.next();
      return { t: "pass", line };
    }
    const first = this.exprList();
    if (this.isOp("=")) {
      const targets = [first];
      let value: Expr = first;
      while (this.isOp("=")) {
        this.next();
        value = this.exprList();
        targets.push(value);
      }
      targets.pop();
      for (const target of targets) this.checkTarget(target);
      return { t: "assign", targets, value, line };
    }
    const aug = this.peek();
    if (aug.kind === "op" && ["+=", "-=", "*=", "/=", "//=", "%="].includes(aug.text)) {
      this.next();
      this.checkTarget(first);
      return { t: "augassign", target: first, op: aug.text.slice(0, -1), value: this.exprList(), line };
    }
    return { t: "expr", value: first, line };
  }

  checkTarget(e: Expr): void {
    if (e.t === "name" || e.t === "index") return;
    if (e.t === "tuple" || e.t === "list") return e.items.forEach((i) => this.checkTarget(i));
    this.fail(`cannot assign to a ${e.t === "attr" ? "attribute" : e.t} here (outside the supported subset)`);
  }

  def(): Stmt {
    const line = this.next().line;
    const name = this.expectName();
    this.expectOp("(");
    const params: { name: string; default?: Expr; kwargs?: boolean }[] = [];
    while (!this.isOp(")")) {
      if (this.isOp("**")) {
        this.next();
        params.push({ name: this.expectName(), kwargs: true });
      } else if (this.isOp("*")) {
        this.fail("*args parameters are outside the supported subset");
      } else {
        const p = this.expectName();
        let def: Expr | undefined;
        if (this.isOp("=")) {
          this.next();
          def = this.expr();
        }
        params.push({ name: p, default: def });
      }
      if (!this.isOp(",")) break;
      this.next();
    }
    this.expectOp(")");
    if (this.isOp("->")) {
      this.next();
      this.expr();
    }
    return { t: "def", name, params, body: this.block(), line };
  }

  forStmt(): Stmt {
    const line = this.next().line;
    const target = this.primaryList();
    this.checkTarget(target);
    if (!this.isName("in")) this.fail("expected 'in'");
    this.next();
    const iter = this.exprList();
    return { t: "for", target, iter, body: this.block(), line };
  }

  primaryList(): Expr {
    const line = this.peek().line;
    const first = this.postfix();
    if (!this.isOp(",")) return first;
    const items = [first];
    while (this.isOp(",")) {
      this.next();
      items.push(this.postfix());
    }
    return { t: "tuple", items, line };
  }

  exprList(): Expr {
    const line = this.peek().line;
    const first = this.expr();
    if (!this.isOp(",")) return first;
    const items = [first];
    while (this.isOp(",")) {
      this.next();
      if (this.peek().kind === "newline" || this.isOp("=") || this.isOp(")")) break;
      items.push(this.expr());
    }
    return { t: "tuple", items, line };
  }

  expr(): Expr {
    const t = this.peek();
    if (t.kind === "name" && (t.text === "lambda" || t.text === "yield" || t.text === "not")) {
      this.fail(`'${t.text}' expressions are outside the supported subset`);
    }
    const left = this.arith();
    const c = this.peek();
    if (c.kind === "op" && ["==", "!=", "<", ">", "<=", ">="].includes(c.text)) {
      this.fail("comparisons are outside the supported subset");
    }
    if (c.kind === "name" && ["if", "and", "or", "in", "is"].includes(c.text)) {
      this.fail(`'${c.text}' expressions are outside the supported subset`);
    }
    return left;
  }

  arith(): Expr {
    let left = this.term();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next();
      left = { t: "binary", op: op.text, left, right: this.term(), line: op.line };
    }
    return left;
  }

  term(): Expr {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("//") || this.isOp("%")) {
      const op = this.next();
      left = { t: "binary", op: op.text, left, right: this.unary(), line: op.line };
    }
    return left;
  }

  unary(): Expr {
    if (this.isOp("-") || this.isOp("+")) {
      const op = this.next();
      return { t: "unary", op: op.text, operand: this.unary(), line: op.line };
    }
    const base = this.postfix();
    if (this.isOp("**")) {
      const op = this.next();
      return { t: "binary", op: "**", left: base, right: this.unary(), line: op.line };
    }
    return base;
  }

  postfix(): Expr {
    let e = this.atom();
    for (;;) {
      if (this.isOp(".")) {
        const line = this.next().line;
        e = { t: "attr", obj: e, name: this.expectName(), line };
      } else if (this.isOp("(")) {
        e = this.call(e);
      } else if (this.isOp("[")) {
        const line = this.next().line;
        if (this.isOp(":") || this.isOp("]")) this.fail("slices are outside the supported subset");
        const index = this.exprList();
        if (this.isOp(":")) this.fail("slices are outside the supported subset");
        this.expectOp("]");
        e = { t: "index", obj: e, index, line };
      } else return e;
    }
  }

  call(fn: Expr): Expr {
    const line = this.expectOp("(").line;
    const args: Expr[] = [];
    const kwargs: [string, Expr][] = [];
    let starKwargs: Expr | undefined;
    while (!this.isOp(")")) {
      if (this.isOp("**")) {
        this.next();
        starKwargs = this.expr();
      } else if (this.isOp("*")) {
        this.fail("*args in calls are outside the supported subset");
      } else if (this.peek().kind === "name" && this.peek(1).kind === "op" && this.peek(1).text === "=") {
        const k = this.expectName();
        this.next();
        kwargs.push([k, this.expr()]);
      } else {
        if (kwargs.length) this.fail("positional argument after keyword argument");
        args.push(this.expr());
      }
      if (this.isName("for")) this.fail("comprehensions are outside the supported subset");
      if (!this.isOp(",")) break;
      this.next();
    }
    this.expectOp(")");
    return { t: "call", fn, args, kwargs, starKwargs, line };
  }

  atom(): Expr {
    const t = this.next();
    const line = t.line;
    switch (t.kind) {
      case "num":
        return { t: "num", value: t.value as number, line };
      case "str": {
        let value = t.value as string;
        while (this.peek().kind === "str") value += this.next().value as string;
        return { t: "str", value, line };
      }
      case "name":
        if (t.text === "None") return { t: "const", value: null, line };
        if (t.text === "True") return { t: "const", value: true, line };
        if (t.text === "False") return { t: "const", value: false, line };
        if (t.text in UNSUPPORTED_KEYWORDS || t.text === "lambda") {
          this.fail(`'${t.text}' is outside the supported subset`, t);
        }
        return { t: "name", id: t.text, line };
      case "op":
        if (t.text === "(") {
          if (this.isOp(")")) {
            this.next();
            return { t: "tuple", items: [], line };
          }
          const first = this.expr();
          if (this.isName("for")) this.fail("generator expressions are outside the supported subset");
          if (this.isOp(")")) {
            this.next();
            return first;
          }
          const items = [first];
          while (this.isOp(",")) {
            this.next();
            if (this.isOp(")")) break;
            items.push(this.expr());
          }
          this.expectOp(")");
          return { t: "tuple", items, line };
        }
        if (t.text === "[") {
          const items: Expr[] = [];
          while (!this.isOp("]")) {
            items.push(this.expr());
            if (this.isName("for")) this.fail("list comprehensions are outside the supported subset");
            if (!this.isOp(",")) break;
            this.next();
          }
          this.expectOp("]");
          return { t: "list", items, line };
        }
        if (t.text === "{") {
          const entries: [Expr, Expr][] = [];
          while (!this.isOp("}")) {
            const k = this.expr();
            if (!this.isOp(":")) this.fail("set literals are outside the supported subset");
            this.next();
            entries.push([k, this.expr()]);
            if (this.isName("for")) this.fail("dict comprehensions are outside the supported subset");
            if (!this.isOp(",")) break;
            this.next();
          }
          this.expectOp("}");
          return { t: "dict", entries, line };
        }
        return this.fail(`unexpected '${t.text}'`, t);
      default:
        return this.fail(`unexpected ${t.kind === "newline" ? "end of line" : t.text}`, t);
    }
  }
}

/** Parse a build script into statements; `file` names it in errors (`file:line: construct`). */
export function parsePythonScript(source: string, file: string): Stmt[] {
  return new Parser(tokenize(source, file), file).module();
}
