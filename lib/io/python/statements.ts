/**
 * The statement grammar of the Python front end: a module as a list of
 * {@linkcode Stmt} records — imports, assignments, `def`, `class`, `if`,
 * loops, `with`, `try`, and the simple statements — on top of the
 * expression parser. An `if __name__ == "__main__":` block is kept as one
 * `main-guard` record without being parsed (it never runs when a script is
 * imported, and is often the part written for another Python version).
 * Python 2 `print x` statements are read as `print` records.
 *
 * @module
 */
import type { Expr, Handler, ImportName, Keyword, Stmt } from "./ast.ts";
import { PythonSyntaxError } from "./errors.ts";
import { ExpressionParser } from "./expressions.ts";

const AUGMENTED = new Set(["+=", "-=", "*=", "/=", "//=", "%=", "**=", "@=", "&=", "|=", "^=", ">>=", "<<="]);

type At = { pos: number; line: number };

/** Statements of a module, on top of {@linkcode ExpressionParser}. */
export class StatementParser extends ExpressionParser {
  /** The whole module. */
  module(): Stmt[] {
    const body: Stmt[] = [];
    while (!this.is("end")) {
      if (this.is("newline")) {
        this.i++;
        continue;
      }
      if (this.is("indent")) throw this.syntax("unexpected indent");
      if (this.is("dedent")) throw this.syntax("unexpected dedent");
      body.push(...this.statement());
    }
    return body;
  }

  /** `: simple_stmt` on the same line, or NEWLINE INDENT statements DEDENT. */
  block(): Stmt[] {
    this.expectOp(":");
    if (!this.is("newline")) return this.simpleStatements();
    this.i++;
    if (!this.is("indent")) throw this.syntax("expected an indented block");
    this.i++;
    const body: Stmt[] = [];
    while (!this.is("dedent") && !this.is("end")) body.push(...this.statement());
    if (this.is("dedent")) this.i++;
    return body;
  }

  /** Skip a block's tokens without parsing them (the `if __name__ == "__main__":` body). */
  skipBlock(): void {
    this.expectOp(":");
    if (!this.is("newline")) {
      while (!this.is("newline") && !this.is("end")) this.i++;
      this.i++;
      return;
    }
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t.t === "indent") depth++;
      else if (t.t === "dedent" && --depth <= 0) return;
      else if (t.t === "end") return;
    }
  }

  /** One statement (a line of simple statements yields several). */
  statement(): Stmt[] {
    const t = this.peek;
    const at = this.at();
    if (t.t === "op" && t.v === "@") return [this.decorated()];
    if (t.t !== "name") return this.simpleStatements();
    switch (t.v) {
      case "def":
        return [this.def(at, [], false)];
      case "class":
        return [this.classDef(at, [])];
      case "if":
        return [this.ifStmt()];
      case "for":
        return [this.forStmt(false)];
      case "while": {
        this.i++;
        const test = this.expr();
        const body = this.block();
        return [{ t: "while", test, body, orelse: this.elseBlock(), ...at }];
      }
      case "with":
        return [this.withStmt(false)];
      case "try":
        return [this.tryStmt()];
      case "async": {
        this.i++;
        if (this.isName("def")) return [this.def(at, [], true)];
        if (this.isName("for")) return [this.forStmt(true)];
        if (this.isName("with")) return [this.withStmt(true)];
        throw this.syntax();
      }
    }
    return this.simpleStatements();
  }

  decorated(): Stmt {
    const decorators: Expr[] = [];
    while (this.isOp("@")) {
      this.i++;
      decorators.push(this.expr());
      if (!this.is("newline")) throw this.syntax("expected a line break after a decorator");
      this.i++;
    }
    // Python gives a decorated definition the line of its `def`/`class`.
    const defAt = this.at();
    if (this.isName("def")) return this.def(defAt, decorators, false);
    if (this.isName("class")) return this.classDef(defAt, decorators);
    if (this.isName("async")) {
      this.i++;
      if (this.isName("def")) return this.def(defAt, decorators, true);
    }
    throw this.syntax("expected 'def' or 'class' after a decorator");
  }

  def(at: At, decorators: Expr[], isAsync: boolean): Stmt {
    this.i++; // def
    const name = this.expectName("a function name");
    this.expectOp("(");
    const params = this.params(")", true);
    this.expectOp(")");
    let returns: Expr | undefined;
    if (this.isOp("->")) {
      this.i++;
      returns = this.expr();
    }
    return { t: "def", name, params, body: this.block(), decorators, returns, async: isAsync, ...at };
  }

  classDef(at: At, decorators: Expr[]): Stmt {
    this.i++; // class
    const name = this.expectName("a class name");
    let bases: Expr[] = [];
    let keywords: Keyword[] = [];
    if (this.isOp("(")) {
      this.i++;
      ({ args: bases, keywords } = this.callArgs());
    }
    return { t: "class", name, bases, keywords, body: this.block(), decorators, ...at };
  }

  ifStmt(): Stmt {
    const at = this.at();
    this.i++; // if / elif
    // `if __name__ == "__main__":` never runs when a script is imported: skip its block.
    const [a, b, c, d] = [this.peek, this.ahead(1), this.ahead(2), this.ahead(3)];
    if (
      a.t === "name" && a.v === "__name__" && b.t === "op" && b.v === "==" && c.t === "str" &&
      c.v === "__main__" && d.t === "op" && d.v === ":"
    ) {
      this.i += 3;
      this.skipBlock();
      if (this.isName("else") || this.isName("elif")) throw this.syntax("else after the main guard");
      return { t: "main-guard", ...at };
    }
    const test = this.expr();
    const body = this.block();
    let orelse: Stmt[] = [];
    if (this.isName("elif")) orelse = [this.ifStmt()];
    else orelse = this.elseBlock();
    return { t: "if", test, body, orelse, ...at };
  }

  elseBlock(): Stmt[] {
    if (!this.isName("else")) return [];
    this.i++;
    return this.block();
  }

  forStmt(isAsync: boolean): Stmt {
    const at = this.at();
    this.i++; // for
    const target = this.targetList();
    this.checkTarget(target);
    if (!this.isName("in")) throw this.syntax("expected 'in'");
    this.i++;
    const iter = this.exprList(true, true);
    const body = this.block();
    return { t: "for", target, iter, body, orelse: this.elseBlock(), async: isAsync, ...at };
  }

  withStmt(isAsync: boolean): Stmt {
    const at = this.at();
    this.i++; // with
    const items: { context: Expr; target?: Expr }[] = [];
    do {
      if (items.length) this.i++;
      const context = this.expr();
      let target: Expr | undefined;
      if (this.isName("as")) {
        this.i++;
        target = this.targetList();
      }
      items.push({ context, target });
    } while (this.isOp(","));
    return { t: "with", items, body: this.block(), async: isAsync, ...at };
  }

  tryStmt(): Stmt {
    const at = this.at();
    this.i++; // try
    const body = this.block();
    const handlers: Handler[] = [];
    while (this.isName("except")) {
      this.i++;
      let type: Expr | undefined;
      let name: string | undefined;
      if (!this.isOp(":")) {
        if (this.isOp("*")) this.i++;
        type = this.expr();
        if (this.isName("as")) {
          this.i++;
          name = this.expectName();
        }
      }
      handlers.push({ type, name, body: this.block() });
    }
    const orelse = this.elseBlock();
    let finalbody: Stmt[] = [];
    if (this.isName("finally")) {
      this.i++;
      finalbody = this.block();
    }
    if (!handlers.length && !finalbody.length) throw this.syntax("expected 'except' or 'finally'");
    return { t: "try", body, handlers, orelse, finalbody, ...at };
  }

  /** `small (; small)* [;] NEWLINE`. */
  simpleStatements(): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      out.push(this.smallStatement());
      if (this.isOp(";")) {
        this.i++;
        if (this.is("newline") || this.is("end")) break;
        continue;
      }
      break;
    }
    if (this.is("newline")) this.i++;
    else if (!this.is("end")) throw this.syntax("expected the end of the statement");
    return out;
  }

  dotted(): string {
    let name = this.expectName("a module name");
    while (this.isOp(".")) {
      this.i++;
      name += "." + this.expectName("a module name");
    }
    return name;
  }

  smallStatement(): Stmt {
    const t = this.peek;
    const at = this.at();
    if (t.t === "name") {
      switch (t.v) {
        case "import": {
          this.i++;
          const names: ImportName[] = [];
          do {
            if (names.length) this.i++;
            const module = this.dotted();
            let alias: string | undefined;
            if (this.isName("as")) {
              this.i++;
              alias = this.expectName();
            }
            names.push({ module, alias });
          } while (this.isOp(","));
          return { t: "import", names, ...at };
        }
        case "from":
          return this.fromImport(at);
        case "pass":
        case "break":
        case "continue":
          this.i++;
          return { t: t.v, ...at };
        case "return":
          this.i++;
          return { t: "return", value: this.startsExpr() ? this.exprList(true, true) : undefined, ...at };
        case "raise": {
          this.i++;
          if (!this.startsExpr()) return { t: "raise", ...at };
          const exc = this.expr();
          let cause: Expr | undefined;
          if (this.isName("from")) {
            this.i++;
            cause = this.expr();
          }
          return { t: "raise", exc, cause, ...at };
        }
        case "global":
        case "nonlocal": {
          this.i++;
          const names = [this.expectName()];
          while (this.isOp(",")) {
            this.i++;
            names.push(this.expectName());
          }
          return { t: t.v, names, ...at };
        }
        case "del": {
          this.i++;
          const target = this.exprList(true);
          return { t: "del", targets: target.t === "tuple" ? target.items : [target], ...at };
        }
        case "assert": {
          this.i++;
          const test = this.expr();
          let msg: Expr | undefined;
          if (this.isOp(",")) {
            this.i++;
            msg = this.expr();
          }
          return { t: "assert", test, msg, ...at };
        }
        case "print": {
          const n = this.ahead(1);
          if (
            n.t === "str" || n.t === "num" || (n.t === "name" && n.v !== "in" && n.v !== "if") ||
            (n.t === "op" && n.v === ">>")
          ) {
            return this.python2Print(at);
          }
        }
      }
    }
    const first = this.exprList(true, true);
    if (this.isOp("=")) {
      const targets = [first];
      let value: Expr = first;
      while (this.isOp("=")) {
        this.i++;
        value = this.isName("yield") ? this.expr() : this.exprList(true, true);
        targets.push(value);
      }
      targets.pop();
      for (const target of targets) this.checkTarget(target);
      return { t: "assign", targets, value, ...at };
    }
    const aug = this.peek;
    if (aug.t === "op" && AUGMENTED.has(aug.v)) {
      this.i++;
      this.checkTarget(first, true);
      return {
        t: "augassign",
        target: first,
        op: aug.v.slice(0, -1),
        value: this.exprList(true, true),
        ...at,
      };
    }
    if (this.isOp(":")) {
      this.i++;
      this.checkTarget(first, true);
      const annotation = this.expr();
      let value: Expr | undefined;
      if (this.isOp("=")) {
        this.i++;
        value = this.exprList(true, true);
      }
      return { t: "annassign", target: first, annotation, value, ...at };
    }
    return { t: "expr", value: first, ...at };
  }

  fromImport(at: At): Stmt {
    this.i++; // from
    let level = 0;
    while (this.isOp(".") || this.isOp("...")) level += (this.next() as { v: string }).v.length;
    const module = this.isName("import") ? "" : this.dotted();
    if (!this.isName("import")) throw this.syntax("expected 'import'");
    this.i++;
    const paren = this.isOp("(");
    if (paren) this.i++;
    const names: [string, string][] = [];
    if (this.isOp("*")) {
      this.i++;
      names.push(["*", "*"]);
    } else {
      for (;;) {
        const n = this.expectName();
        let alias = n;
        if (this.isName("as")) {
          this.i++;
          alias = this.expectName();
        }
        names.push([n, alias]);
        if (!this.isOp(",")) break;
        this.i++;
        if (paren && this.isOp(")")) break;
      }
    }
    if (paren) this.expectOp(")");
    return { t: "from", module, level, names, ...at };
  }

  python2Print(at: At): Stmt {
    this.i++; // print
    if (this.isOp(">>")) {
      this.i++;
      this.expr();
      if (this.isOp(",")) this.i++;
    }
    const values: Expr[] = [];
    while (this.startsExpr()) {
      values.push(this.expr());
      if (!this.isOp(",")) break;
      this.i++;
    }
    return { t: "print", values, ...at };
  }

  /** Refuse what Python cannot assign to (`f() = 1`, `1 = x`). */
  checkTarget(e: Expr, single = false): void {
    if (e.t === "name" || e.t === "attr" || e.t === "index") return;
    if (!single && (e.t === "tuple" || e.t === "list")) {
      for (const item of e.items) this.checkTarget(item.t === "starred" ? item.value : item);
      return;
    }
    throw new PythonSyntaxError(`cannot assign to ${describeTarget(e)}`, e.pos, e.line);
  }
}

function describeTarget(e: Expr): string {
  switch (e.t) {
    case "call":
      return "a function call";
    case "num":
    case "str":
    case "const":
      return "a literal";
    default:
      return `this expression (${e.t})`;
  }
}
