/**
 * The one Python front end (lib/io/python) against Python itself
 * (/usr/bin/python3): statements and their lines as `ast.parse` sees them,
 * string escapes as Python decodes them, and the static evaluator's results
 * as `exec` computes them. Config literals and Lasagne scripts, its other
 * readers, are checked in config_literal_test.ts and lasagne_*_test.ts.
 */
import { assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { numpyAvailable, runPython } from "./_io_python.ts";
import { ModelFormatError } from "../lib/errors.ts";
import { parseModule, type Stmt } from "../lib/io/python/mod.ts";
import { Evaluator, type Host } from "../lib/io/python/evaluator.ts";
import { isKind, type ScriptValue } from "../lib/io/python/values.ts";

const python = await numpyAvailable();

const SCRIPTS = [
  "../testdata/pytorch/toolbox_net.py",
  "../testdata/pytorch/resnet_small.py",
  "../testdata/pytorch/mnist_example.py",
  "../testdata/lasagne/small_net.py",
  "../testdata/lasagne/lenet5.py",
].map((p) => new URL(p, import.meta.url).pathname);

/** Python's class name of each statement kind of ours. */
const PY_NAMES: Partial<Record<Stmt["t"], string>> = {
  expr: "Expr",
  assign: "Assign",
  augassign: "AugAssign",
  annassign: "AnnAssign",
  import: "Import",
  from: "ImportFrom",
  def: "FunctionDef",
  class: "ClassDef",
  return: "Return",
  if: "If",
  for: "For",
  while: "While",
  with: "With",
  try: "Try",
  raise: "Raise",
  assert: "Assert",
  del: "Delete",
  global: "Global",
  nonlocal: "Nonlocal",
  pass: "Pass",
  break: "Break",
  continue: "Continue",
  "main-guard": "If",
};

const SYNTAX = `import os, sys as system
from . import sibling
from a.b import (c as d, e,)
x: int = 1; y = z = [i * 2 for i in range(3) if i]
def f(a, b=2, *args, c, d=4, **kw) -> int:
    """doc"""
    global g
    return a if b else (lambda q: q)(c)
@staticmethod
def g(): pass
class K(object, metaclass=type):
    attr = {"k": 1, **{}}
    def m(self):
        nonlocal_value = [*range(2)]
        del nonlocal_value
while x < 3:
    x += 1
    if x == 2:
        continue
    else:
        break
else:
    pass
for i, j in zip("ab", "cd"):
    assert i, "msg"
try:
    raise ValueError("v") from None
except (ValueError, KeyError) as e:
    pass
else:
    pass
finally:
    pass
with open("f") as fh, open("g"):
    s = fh[1:2, ::3]
async def h():
    await h()
t = 1 < 2 <= 3 != 4 is not None not in [] and not 0 or ~5 ** -2 // 3 % 4 @ 5 | 6 & 7 ^ 8 << 1 >> 2
u = f"{x}" b"" if 0 else r'\\d' u"\\N{EM DASH}"
`.replace(' b""', "");

Deno.test({
  name: "python front end: statements and their lines equal ast.parse's for model scripts and a syntax tour",
  ignore: !python,
  fn: async () => {
    const tour = await Deno.makeTempFile({ suffix: ".py" });
    try {
      await Deno.writeTextFile(tour, SYNTAX);
      for (const file of [...SCRIPTS, tour]) {
        const source = await Deno.readTextFile(file);
        const ours = parseModule(source, file).map((s) => `${PY_NAMES[s.t] ?? s.t}@${s.line}`);
        const theirs = JSON.parse(
          await runPython(
            "import ast, json, sys\n" +
              "tree = ast.parse(open(sys.argv[1]).read())\n" +
              'print(json.dumps([f\'{type(n).__name__.replace("Async", "")}@{n.lineno}\' for n in tree.body]))',
            [file],
          ),
        );
        assertEquals(ours, theirs, file);
      }
    } finally {
      await Deno.remove(tour);
    }
  },
});

Deno.test({
  name: "python front end: string escapes of a script decode as Python decodes them",
  ignore: !python,
  fn: async () => {
    const literals = [
      String.raw`'\x41\u00e9\U0001F600\101\n\t\\\'\"'`,
      String.raw`"\a\b\f\v\r\0\q\N"`.replace("\\N", "N"),
      String.raw`r'\n\x41' "\
continued"`,
      String.raw`'''triple
"quoted" \t'''`,
      String.raw`b'\x00\xff\u0041'`,
    ];
    const src = literals.map((l, i) => `s${i} = ${l}\n`).join("");
    const body = parseModule(src, "strings.py");
    const ours = body.map((s) => (s.t === "assign" && s.value.t === "str" ? s.value.value : null));
    const theirs = JSON.parse(
      await runPython(
        "import ast, json, sys\n" +
          "vals = [n.value.value for n in ast.parse(sys.argv[1]).body]\n" +
          "print(json.dumps([v.decode('latin-1') if isinstance(v, bytes) else v for v in vals]))",
        [src],
      ),
    );
    assertEquals(ours, theirs);
  },
});

/** A host for plain Python: no imported modules. */
const PLAIN: Host = { callRef: () => undefined };

function toJson(v: ScriptValue): unknown {
  if (Array.isArray(v)) return v.map(toJson);
  if (isKind(v, "tuple") || isKind(v, "range")) return v.items.map(toJson);
  if (isKind(v, "dict")) return Object.fromEntries([...v.map].map(([k, x]) => [String(k), toJson(x)]));
  if (isKind(v, "instance")) return Object.fromEntries([...v.attrs].map(([k, x]) => [k, toJson(x)]));
  return v;
}

const PROGRAMS = [
  // classes, inheritance, super(), methods, class attributes, properties
  `class A:
    scale = 3
    def __init__(self, n):
        self.n = n * self.scale
    def twice(self):
        return self.n * 2
class B(A):
    def __init__(self, n, extra=1):
        super().__init__(n)
        self.extra = extra
    def twice(self):
        return super().twice() + self.extra
class C(B):
    def __init__(self):
        super(C, self).__init__(2, extra=10)
result = [B(1).twice(), C().twice(), C().n, isinstance(C(), A), isinstance(A(1), B)]`,
  // functions: defaults, *args, **kwargs, keyword-only, closures, lambdas, recursion
  `def f(a, b=2, *rest, c=3, **kw):
    return [a, b, list(rest), c, sorted(kw.items())]
def outer(k):
    def inner(x):
        return x + k
    return inner
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)
sq = lambda v: v * v
result = [f(1), f(1, 5, 6, 7, c=0, z=9), outer(10)(5), fact(6), list(map(sq, [1, 2])) if False else [sq(3)]]`,
  // comprehensions, loops with else/break/continue, while, slicing, unpacking
  `acc = []
for i in range(10):
    if i % 2:
        continue
    if i > 6:
        break
    acc.append(i)
else:
    acc.append(-1)
n = 0
while n < 5:
    n += 2
pairs = [(i, j) for i in range(3) for j in range(i) if j != 1]
d = {k: v * 2 for k, v in zip("abc", range(3))}
first, *_ = [[1, 2]]
a, b = 1, 2
a, b = b, a
result = [acc, n, pairs, d, "abcdef"[1:5:2], [1, 2, 3, 4][::-1], (1, 2, 3)[-2:], a, b, first]`,
  // arithmetic and comparisons with Python's semantics
  `result = [7 // 2, -7 // 2, -7 % 3, 7 % -3, 2 ** 10, 7 / 2, 1 < 2 < 3, 1 < 3 < 2, True + True,
  not [], [] or "x", 0 and 1, 5 if None is None else 6, "a" in "cat", 3 not in (1, 2), 6 & 3, 6 | 3, 6 ^ 3, 1 << 4,
  round(2.5), round(3.5), abs(-2), min(3, 1, 2), max([4, 9]), sum(range(5)), len({"a": 1}), -3 + +4]`,
  // strings: formatting, methods
  `name = "conv"
result = [f"{name}{1 + 1}", "%s_%d" % (name, 3.7), "{}-{}".format(1, "b"), "{0}{0}{x}".format("k", x=2),
  "-".join(["a", "b"]), "A.b".lower(), "a,b".split(","), " s ".strip(), "ab" * 3, str(None), str(True)]`,
  // dicts and lists: methods, OrderedDict, enumerate, zip
  `from collections import OrderedDict
od = OrderedDict([("x", 1), ("y", 2)])
od["z"] = 3
dd = dict(a=1)
dd.update({"b": 2})
lst = [3, 1]
lst.extend([2])
lst.insert(0, 9)
popped = lst.pop()
result = [list(od.keys()), list(od.values()), dd.get("c", 0), dd.get("a"), lst, popped, list(enumerate("ab", 1)),
  list(zip([1, 2, 3], "xy")), sorted([3, 1, 2], reverse=True), any([0, 1]), all([]), lst.index(1)]`,
];

Deno.test({
  name: "python front end: the static evaluator computes what exec() computes",
  ignore: !python,
  fn: async () => {
    for (const program of PROGRAMS) {
      const ev = new Evaluator("prog.py", PLAIN);
      ev.runModule(parseModule(program, "prog.py"));
      const ours = toJson(ev.globals.get("result")!);
      const theirs = JSON.parse(
        await runPython(
          "import json, sys\ng = {}\nexec(sys.argv[1], g)\n" +
            "print(json.dumps(g['result'], default=lambda o: o.__dict__))",
          [program],
        ),
      );
      assertEquals(ours, theirs, program.split("\n")[0]);
    }
  },
});

Deno.test("python front end: syntax errors and runaway scripts are one ModelFormatError naming file and line", async () => {
  const fails = async (src: string, re: RegExp) => {
    await assertRejects(
      () => {
        const ev = new Evaluator("bad.py", PLAIN);
        ev.runModule(parseModule(src, "bad.py"));
      },
      ModelFormatError,
      re,
    );
  };
  await fails("x = 1\ny = (2,\n", /^bad\.py:2: '\(' was never closed/);
  await fails("x = 1\n  y = 2\n", /^bad\.py:2: unexpected indent/);
  await fails("if x:\npass\n", /^bad\.py:2: expected an indented block/);
  await fails("x = 1\ndef f(1):\n  pass\n", /^bad\.py:2: expected a parameter name/);
  await fails("x = '\\xZZ'\n", /^bad\.py:1: truncated \\xXX escape/);
  await fails("x = " + "(".repeat(250) + ")".repeat(250), /^bad\.py:1: too many nested parentheses/);
  await fails("def f(n):\n    return f(n + 1)\nf(0)\n", /^bad\.py:2: calls nested more than 200 deep/);
  await fails("n = 0\nwhile True:\n    n += 1\n", /^bad\.py:\d: the script runs more than 5000000 steps/);
  await fails("x = list(range(10**9))\n", /^bad\.py:1: range\(1000000000\) has 1000000000 items/);
  await fails(
    "x = [1]\nfor i in range(40):\n    x = x + x\n",
    /^bad\.py:3: a list of 131072 items; a model script may build at most 100000/,
  );
  await fails("x = [1]\nfor i in range(40):\n    x += x\n", /^bad\.py:3: a list of 131072 items/);
  await fails("s = 'ab'\nwhile True:\n    s = s + s\n", /^bad\.py:3: a string of 1048576 items/);
  await fails("x = " + "1 + ".repeat(2000) + "1\n", /^bad\.py:1: expression too deeply nested/);
  await fails("x = a" + ".b".repeat(2000) + "\n", /^bad\.py:1: expression too deeply nested/);
  await fails("x = undefined_name\n", /^bad\.py:1: name 'undefined_name' is not defined/);
  await fails(
    "import os\nos.system('ls')\n",
    /^bad\.py:2: calling os\.system\(\) is outside the supported subset/,
  );
});

Deno.test("python front end: a 10,000-line generated script parses (no recursion per statement)", () => {
  const src = Array.from({ length: 10_000 }, (_, i) => `v${i} = ${i} + 1`).join("\n");
  const body = parseModule(src, "long.py");
  assertEquals(body.length, 10_000);
  assertTrue(body.every((s, i) => s.line === i + 1));
  assertMatch(JSON.stringify(body[9999]), /"line":10000/);
});
