#!/usr/bin/python3
"""Write the expected results of the config differential tests with the real Python.

Run from anywhere with the system Python (3.11 here):

    /usr/bin/python3 testdata/config/gen_expected.py

1. INI corpus: for every ``cases/NAME.ini`` (``NAME.user.ini``, when present, is
   read after it, as the toolbox reads its defaults then the user's file) it
   writes ``expected/NAME.json`` with what ``configparser.ConfigParser()``
   gives: sections, every interpolated value (or the exception class), the
   ``getboolean``/``getint``/``getfloat`` result of every value (or the
   exception class), ``items()`` order, and a few lookups of absent names.
   Cases whose name contains ``keepcase`` use ``optionxform = str`` as the
   Python toolbox does.
2. Toolbox-style configuration: ``toolbox_style/experiment.ini`` read over
   the defaults (``cases/00_toolbox_defaults.ini``) with ``optionxform = str``,
   as the toolbox's ``update_setup`` reads them, before its derived values;
   written to ``expected/toolbox_style.json`` as ``{section: {key: value}}``.
   Also 400 seeded random INI texts, same checks (``expected/ini_random.json``).
3. Literal corpus: evaluates the texts in ``LITERALS`` with ``ast.literal_eval``
   (texts using set union ``|``, which the toolbox evaluates with ``eval``,
   with a builtins-free ``eval``) and writes ``expected/literals.json``; plus
   1,200 seeded random texts (``expected/literals_random.json``).
"""
import ast
import configparser
import glob
import json
import os
import random
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SAFE = 2 ** 53 - 1


def err_name(e):
    """The exception class name; SyntaxError subclasses (IndentationError) count as SyntaxError."""
    if isinstance(e, SyntaxError):
        return "SyntaxError"
    return type(e).__name__


def attempt(fn):
    try:
        return True, fn()
    except Exception as e:  # noqa: BLE001 - the class name is the expected result
        return False, err_name(e)


def conversions(cp, section, key):
    out = {}
    ok, v = attempt(lambda: cp.get(section, key))
    if not ok:
        return {"error": v}
    out["v"] = v
    ok, b = attempt(lambda: cp.getboolean(section, key))
    out["b"] = b if ok else {"error": b}
    ok, i = attempt(lambda: cp.getint(section, key))
    out["i"] = str(i) if ok else {"error": i}
    ok, f = attempt(lambda: cp.getfloat(section, key))
    out["f"] = repr(f) if ok else {"error": f}
    return out


def ini_case(path):
    name = os.path.basename(path)[:-len(".ini")]
    cp = configparser.ConfigParser()
    if "keepcase" in name:
        cp.optionxform = str
    files = [path]
    user = path[:-len(".ini")] + ".user.ini"
    if os.path.exists(user):
        files.append(user)
    result = {"files": [os.path.basename(f) for f in files], "keepcase": "keepcase" in name}
    try:
        cp.read(files, encoding="utf-8")
    except Exception as e:  # noqa: BLE001
        result["error"] = err_name(e)
        return name, result
    result["sections"] = cp.sections()
    values = {}
    keys = {}
    items_error = {}
    for section in [cp.default_section] + cp.sections():
        raw = cp.items(section, raw=True) if section != cp.default_section else list(cp.defaults().items())
        keys[section] = [k for k, _ in raw]
        values[section] = {k: conversions(cp, section, k) for k, _ in raw}
        ok, err = attempt(lambda: cp.items(section))
        items_error[section] = None if ok else err
    result["values"] = values
    result["keys"] = keys
    result["items_error"] = items_error
    first = cp.sections()[0] if cp.sections() else cp.default_section
    probes = []
    for section, option in [("no such section", "x"), (first, "no_such_option"), (cp.default_section, "no_such")]:
        ok, v = attempt(lambda: cp.get(section, option))
        probes.append({"section": section, "option": option, "get": v if ok else {"error": v},
                       "has": cp.has_option(section, option)})
    for section in cp.sections()[:1]:
        for option in keys[section][:2]:
            probes.append({"section": section, "option": option.upper(), "get": conversions(cp, section, option.upper()),
                           "has": cp.has_option(section, option.upper())})
    result["probes"] = probes
    return name, result


def encode(v):
    """Unambiguous JSON for a literal value (see tests/config_literal_test.ts)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"num": str(v)} if abs(v) <= MAX_SAFE else {"int": str(v)}
    if isinstance(v, float):
        if v == v and abs(v) != float("inf") and v.is_integer() and abs(v) <= MAX_SAFE:
            return {"num": str(int(v))}
        return {"num": repr(v)}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, tuple):
        return {"tuple": [encode(x) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {"set": sorted((encode(x) for x in v), key=lambda e: json.dumps(e, sort_keys=True))}
    if isinstance(v, dict):
        return {"dict": [[encode(k), encode(x)] for k, x in v.items()]}
    raise TypeError("cannot encode %r" % (v,))


def repr_comparable(v):
    """Whether Python's repr is deterministic and distinguishable in JS (no multi-item sets, no integral floats)."""
    if isinstance(v, float):
        return not (v == v and abs(v) != float("inf") and v.is_integer())
    if isinstance(v, (list, tuple)):
        return all(repr_comparable(x) for x in v)
    if isinstance(v, (set, frozenset)):
        return len(v) <= 1 and all(repr_comparable(x) for x in v)
    if isinstance(v, dict):
        return all(repr_comparable(k) and repr_comparable(x) for k, x in v.items())
    return True


LITERALS = [
    # strings
    "'single'", '"double"', "'''triple\nline'''", '"""tri"ple"""', "'a' \"b\" '''c'''", "('x'\n 'y')",
    r"'esc\n\t\\\'\"'", r"'\x41\101\u00e9\U0001F600'", r"'\q unknown'", r"r'raw\n\d'", r"R'raw'", r"u'unicode'",
    "'it''s'", "\"it's\"", "'say \"hi\"'", "'both \\' and \"'", "'tab\\\nnewline-escaped'", "''", "'\u00e4\u20ac'",
    r"'\0'", r"'\777'", r"'\x4'", "'unterminated", "'''open", "'new\nline'", r"rb'x'", "b'bytes'", "f'fmt'",
    "b'x' 'y'", "'a' f'b'",
    # ints
    "0", "42", "-7", "+3", "1_000_000", "0x1F", "0o17", "0b1011", "0X_ff", "00", "007", "0_7", "1__0", "1_",
    "9007199254740991", "9007199254740992", "-9007199254740993", "123456789012345678901234567890", "12abc",
    # floats
    "1.5", "1e-3", ".5", "5.", "1.e5", "1e1_0", "1_0.5", "-2.5e-7", "1e400", "-1e400", "0.1", "1e16", "1e-05",
    "123456789.123", "-0.0", "3.14159265358979", "2.0", "1e22", "inf", "nan", "-inf", "1.2.3",
    # constants
    "True", "False", "None", "true", "none",
    # containers
    "[]", "[1, 2, 3]", "[1, [2, [3, []]]]", "[1,]", "()", "(1,)", "(1)", "(1, 2)", "1, 2", "1,", "((),)",
    "{}", "{1, 2, 3}", "{'a': 1, 'b': [1, 2]}", "{1: 'x', True: 'y', 1.0: 'z'}", "{(1, 2): 'tuple key'}",
    "{1, True, 1.0}", "{'a', 'a', 'b'}", "set()", "set([])", "{0, -0.0}", "{'k': {'n': (1, [2])}}",
    "[\n  1,  # comment\n  2,\n]", "{'font.size': 13,\n'figure.figsize': (7, 6)}", "  [1]", "\t(2,)",
    "[1, 2", "[1 2]", "(,)", "[,]", "{,}", "{1: }", "{1: 2, 3}", "]", "[1))",
    # unary / binary
    "-1", "- 1", "-(1)", "+1.5", "--1", "-True", "-'a'", "1+2", "1 -2", "1 +", "2*3", "10**2", "~1",
    # not literals
    "foo", "foo bar", "foo()", "[x for x in y]", "a.b", "x[0]", "lambda: 1", "1 if 2 else 3", "not 1",
    "1 < 2", "{**a}", "[*a]", "1\n2", "1;2", "x = 1", "$", "1 # trailing comment", "\n\n1\n\n", "\n  1",
    "1if 1 else 2", "1in x", "1abc", "x[,]", "x[]", "+lambda", "lambda", "lambda x: 1", "x.if", "1\n ",
    "1\n  \n", "1\\\n", "'\\N{BULLET}' 1",
    "{'x'} | [1]", "{'x'} | 'y'", "1 | 2", "{[1]}", "{[1], foo}", "{1: [], []: 2}", "{{}: 1}", "{(1, [2])}",
]
# Set union: not in ast.literal_eval, but the toolbox evaluates [restrictions] with eval().
UNION_LITERALS = [
    "{'a', 'b'} | {'c'}", "{'nest', 'brian'} | {'INI', 'brian'}", "{1} | {2} | {1, 3}", "set() | {'x'}",
    "{'a'} | {'b'}, {'c'}", "{'a'} | {'b', [1]}",
]


def literal_case(text, uses_union):
    try:
        warnings.simplefilter("ignore", SyntaxWarning)  # e.g. for '1if 1 else 2'
        if uses_union:
            v = eval(text, {"__builtins__": {}, "set": set})  # noqa: S307 - set-union cases only, fixed texts
        else:
            v = ast.literal_eval(text)
    except Exception as e:  # noqa: BLE001
        return {"text": text, "error": err_name(e)}
    try:
        enc = encode(v)
    except TypeError:
        return {"text": text, "unsupported": type(v).__name__}
    return {"text": text, "value": enc, "repr": repr(v) if repr_comparable(v) else None, "union": uses_union}


def toolbox_style():
    cp = configparser.ConfigParser()
    cp.optionxform = str
    cp.read([os.path.join(HERE, "cases", "00_toolbox_defaults.ini"),
             os.path.join(HERE, "toolbox_style", "experiment.ini")], encoding="utf-8")
    return {s: dict(cp.items(s)) for s in cp.sections()}


RANDOM_TOKENS = [
    "1", "0", "-", "+", "2.5", ".5", "1e3", "0x1f", "007", "1_0", "'a'", '"b"', "'''c\nd'''", r"r'\n'", r"'\x41'",
    "True", "None", "false", "foo", "(", ")", "[", "]", "{", "}", ",", ":", " ", " ", "\n", "#x\n", "|", "*", "set",
    "()", "not", "if", "else", "for", "in", ".", "lambda", "b'x'", "\\\n", r"'\q'", "~", "**", "9007199254740993",
]
RANDOM_ATOMS = [
    "1", "-2", "0.5", "1e-3", "'s'", '"d"', "True", "None", "x", "()", "[]", "{}", "set()", "1_000", "0b11", "-0.0",
    "1e400", "'a' 'b'", "2**3", "[1]", "(1,)",
]


def random_nested(rng, depth=0):
    """A random, mostly well-formed nesting of literals (and a few non-literals)."""
    r = rng.random()
    if depth > 3 or r < 0.35:
        return rng.choice(RANDOM_ATOMS)

    def items(lo, hi):
        return [random_nested(rng, depth + 1) for _ in range(rng.randint(lo, hi))]

    if r < 0.5:
        return "[" + ", ".join(items(0, 3)) + rng.choice(["", ","]) + "]"
    if r < 0.65:
        return "(" + ", ".join(items(0, 3)) + rng.choice(["", ","]) + ")"
    if r < 0.78:
        return "{" + ", ".join(items(1, 3)) + "}"
    if r < 0.9:
        pairs = [random_nested(rng, depth + 1) + ": " + random_nested(rng, depth + 1) for _ in range(rng.randint(1, 3))]
        return "{" + ", ".join(pairs) + "}"
    if r < 0.95:
        return "-" + rng.choice(RANDOM_ATOMS)
    return random_nested(rng, depth + 1) + rng.choice([" + ", " ", ",", "\n"]) + random_nested(rng, depth + 1)


def random_literals(n, seed=20261128):
    """Texts for the random literal corpus: token soup (mostly errors) and nested literals (mostly values)."""
    rng = random.Random(seed)
    soup = ["".join(rng.choice(RANDOM_TOKENS) for _ in range(rng.randint(1, 9))) for _ in range(n)]
    nested = [random_nested(rng) for _ in range(n)]
    return soup + nested


INI_PIECES = [
    "[s]", "[t]", "[DEFAULT]", "[S]", "  [s]", "a = 1", "A=2", "b: %(a)s", "c = %(b)s%(a)s", "d = %%", "e = 50%",
    "f = %(zz)s", "  cont", "\tcont2", "", "   ", "# c", "; c", "  # ic", "g = yes", "h = 1e3", "i = _1", "j :",
    "k = =v", "=v", "noline", "l = %(l)s", "m = [1,", "    2]", "n = x # y", "[]", "[a]]", " o = p", "p=%(a)s%%",
    "q = True", "r = \t", "s = a:b=c", "x= %(DEFAULT_KEY)s", "default_key = dk", "u = -0x10", "v = 1_000",
    "w =  Off ", "y = %(A)s",
]


def random_inis(n, seed=1128):
    """Random INI texts assembled from lines that exercise the parser's corner cases."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        # Most texts start with a header; otherwise nearly all would be MissingSectionHeaderError.
        head = [rng.choice(["[s]", "[DEFAULT]", "[t]"])] if rng.random() < 0.9 else []
        lines = head + [rng.choice(INI_PIECES) for _ in range(rng.randint(1, 12))]
        texts.append("\n".join(lines) + rng.choice(["", "\n", "\n\n"]))
    return texts


def main():
    out_dir = os.path.join(HERE, "expected")
    os.makedirs(out_dir, exist_ok=True)
    count = 0
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "*.ini"))):
        if path.endswith(".user.ini"):
            continue
        name, result = ini_case(path)
        with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, ensure_ascii=False)
            f.write("\n")
        count += 1
    randoms = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(random_inis(400)):
            path = os.path.join(tmp, "random_%03d.ini" % i)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            _, result = ini_case(path)
            randoms.append({"text": text, "result": result})
    with open(os.path.join(out_dir, "ini_random.json"), "w", encoding="utf-8") as f:
        json.dump({"python": sys.version.split()[0], "cases": randoms}, f, indent=0, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out_dir, "toolbox_style.json"), "w", encoding="utf-8") as f:
        json.dump(toolbox_style(), f, indent=1, ensure_ascii=False)
        f.write("\n")
    lits = [literal_case(t, False) for t in LITERALS] + [literal_case(t, True) for t in UNION_LITERALS]
    randoms = [literal_case(t, False) for t in random_literals(600)]
    with open(os.path.join(out_dir, "literals_random.json"), "w", encoding="utf-8") as f:
        json.dump({"python": sys.version.split()[0], "cases": randoms}, f, indent=0, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out_dir, "literals.json"), "w", encoding="utf-8") as f:
        json.dump({"python": sys.version.split()[0], "cases": lits}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %d INI cases and %d literal cases with Python %s" % (count, len(lits), sys.version.split()[0]))


if __name__ == "__main__":
    main()
