#!/usr/bin/env python3
"""Generates ``bindings/python/luarun/_ffi_generated.py`` from ``include/luarun.h``.

The header is cbindgen's output, which is regular: ``#define LUARUN_*`` constants, one
``typedef enum`` (the statuses), ``typedef`` aliases of fixed-width integers, opaque and
complete ``typedef struct``s, callback ``typedef``s and one declaration per function,
each after its ``/** ... */`` doc comment. This script reads those shapes and nothing
else; anything it does not recognise that looks like a luarun declaration is an error,
so a new shape in the header cannot be skipped silently.

Usage::

    python3 tools/generate_python_ffi.py            # rewrite the generated module
    python3 tools/generate_python_ffi.py --check    # exit 1 if it is stale

``tests/python/test_generated.py`` runs :func:`generate` and compares, so a header
change without a regeneration fails the Python tests with this command to run.
Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEADER = REPO / "include" / "luarun.h"
OUTPUT = REPO / "bindings" / "python" / "luarun" / "_ffi_generated.py"
COMMAND = "python3 tools/generate_python_ffi.py"
PREFIX = "LUARUN_"

#: C scalar types and their ctypes names.
SCALARS = {
    "bool": "c_bool",
    "char": "c_char",
    "int": "c_int",
    "double": "c_double",
    "float": "c_float",
    "size_t": "c_size_t",
    "int8_t": "c_int8",
    "int16_t": "c_int16",
    "int32_t": "c_int32",
    "int64_t": "c_int64",
    "uint8_t": "c_uint8",
    "uint16_t": "c_uint16",
    "uint32_t": "c_uint32",
    "uint64_t": "c_uint64",
}


@dataclass
class Constant:
    name: str  # the C name, LUARUN_...
    value: int
    doc: str


@dataclass
class Param:
    ctype: str  # normalised C type: "const char *", "struct luarun_value *"
    name: str


@dataclass
class Struct:
    name: str
    doc: str
    fields: list[Param]


@dataclass
class Callback:
    name: str
    doc: str
    result: str
    params: list[Param]


@dataclass
class Function:
    name: str
    result: str
    params: list[Param]


@dataclass
class Header:
    constants: list[Constant] = field(default_factory=list)
    enums: dict[str, str] = field(default_factory=dict)  # typedef name -> doc
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (C type, doc)
    opaque: dict[str, str] = field(default_factory=dict)  # struct name -> doc
    # Structs and callbacks in header order (a struct may hold a callback type).
    types: list[Struct | Callback] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)


# --- parsing -------------------------------------------------------------------------

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_DEFINE = re.compile(r"^#define[ \t]+(\w+)(?:[ \t]+(.+?))?[ \t]*$", re.M)
_ENUM = re.compile(r"\btypedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", re.S)
_ENUM_ENTRY = re.compile(r"(\w+)\s*=\s*([^,]+?)\s*(?:,|$)")
_OPAQUE = re.compile(r"\btypedef\s+struct\s+(\w+)\s+(\w+)\s*;")
_ALIAS = re.compile(r"\btypedef\s+(\w+)\s+(\w+)\s*;")
_STRUCT = re.compile(r"\btypedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", re.S)
_CALLBACK = re.compile(r"\btypedef\s+([^;{}]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*?)\)\s*;", re.S)
_FUNCTION = re.compile(r"^([A-Za-z_][\w \t*]*?)\b(luarun_\w+)\s*\(([^;]*?)\)\s*;", re.M | re.S)


def _blank_comments(text: str) -> str:
    """``text`` with every comment replaced by spaces (newlines kept), so positions in
    it are positions in the header."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _doc_before(text: str, docs: dict[int, str], position: int) -> str:
    """The doc comment that ends right before ``position`` (only blanks between)."""
    end = position
    while end > 0 and text[end - 1] in " \t\n":
        end -= 1
    return docs.get(end, "")


def _doc_text(comment: str) -> str:
    lines = comment[3:-2].splitlines()
    return "\n".join(re.sub(r"^\s*\* ?", "", line).rstrip() for line in lines).strip()


def _normalise_type(ctype: str) -> str:
    ctype = re.sub(r"\s+", " ", ctype).strip()
    return re.sub(r"\s*\*\s*", " *", ctype).replace("* *", "**").strip()


def _params(text: str) -> list[Param]:
    text = re.sub(r"\s+", " ", text).strip()
    if text in ("", "void"):
        return []
    params = []
    for part in text.split(","):
        match = re.fullmatch(r"(.+?)\s*\b(\w+)", part.strip())
        if match is None:
            raise ValueError(f"cannot read the parameter {part.strip()!r}")
        params.append(Param(_normalise_type(match.group(1)), match.group(2)))
    return params


def _evaluate(expression: str, known: dict[str, int], name: str) -> int:
    """An integer constant expression of the header (``(1 << 5)``, ``(A | B)``)."""

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            operators = {
                ast.BitOr: lambda: left | right,
                ast.BitAnd: lambda: left & right,
                ast.LShift: lambda: left << right,
                ast.Add: lambda: left + right,
                ast.Sub: lambda: left - right,
            }
            if type(node.op) in operators:
                return operators[type(node.op)]()
        raise ValueError(f"{name}: cannot evaluate {expression!r}")

    text = re.sub(r"(?<=\d)[uUlL]+\b", "", expression)  # 1u, 2UL
    return value(ast.parse(text, mode="eval").body)


def parse(text: str) -> Header:
    """The declarations of the luarun header ``text``."""
    code = _blank_comments(text)
    docs = {m.end(): _doc_text(m.group()) for m in re.finditer(r"/\*\*.*?\*/", text, re.S)}
    header = Header()
    known: dict[str, int] = {}
    found: list[tuple[int, str, object]] = []  # (position, kind, item) in header order
    claimed: list[tuple[int, int]] = []

    def claim(match: re.Match[str]) -> None:
        claimed.append(match.span())

    for match in _DEFINE.finditer(code):
        name, expression = match.group(1), match.group(2)
        if not name.startswith(PREFIX) or expression is None:
            continue  # the include guard
        found.append((match.start(), "constant", (name, expression.strip())))
    for match in _ENUM.finditer(code):
        claim(match)
        header.enums[match.group(3)] = _doc_before(text, docs, match.start())
        body_start = match.start(2)
        for entry in _ENUM_ENTRY.finditer(match.group(2)):
            position = body_start + entry.start()
            found.append((position, "constant", (entry.group(1), entry.group(2))))
    for match in _STRUCT.finditer(code):
        claim(match)
        fields = _params(match.group(2).replace(";", ",").rstrip(", \n"))
        doc = _doc_before(text, docs, match.start())
        found.append((match.start(), "type", Struct(match.group(3), doc, fields)))
    for match in _OPAQUE.finditer(code):
        claim(match)
        header.opaque[match.group(2)] = _doc_before(text, docs, match.start())
    for match in _ALIAS.finditer(code):
        claim(match)
        doc = _doc_before(text, docs, match.start())
        header.aliases[match.group(2)] = (match.group(1), doc)
    for match in _CALLBACK.finditer(code):
        claim(match)
        doc = _doc_before(text, docs, match.start())
        callback = Callback(
            match.group(2), doc, _normalise_type(match.group(1)), _params(match.group(3))
        )
        found.append((match.start(), "type", callback))
    for match in _FUNCTION.finditer(code):
        if any(start <= match.start() < end for start, end in claimed):
            continue
        claim(match)
        result = _normalise_type(match.group(1))
        found.append((match.start(), "function", Function(match.group(2), result, _params(match.group(3)))))

    for position, kind, item in sorted(found, key=lambda entry: entry[0]):
        if kind == "constant":
            name, expression = item  # type: ignore[misc]
            known[name] = _evaluate(expression, known, name)
            header.constants.append(Constant(name, known[name], _doc_before(text, docs, position)))
        elif kind == "type":
            header.types.append(item)  # type: ignore[arg-type]
        else:
            header.functions.append(item)  # type: ignore[arg-type]
    _check_everything_read(code, claimed)
    return header


def _check_everything_read(code: str, claimed: list[tuple[int, int]]) -> None:
    """Fails on a ``typedef`` or luarun declaration none of the patterns read."""
    for match in re.finditer(r"\btypedef\b|\bluarun_\w+\s*\(", code):
        if not any(start <= match.start() < end for start, end in claimed):
            line = code.count("\n", 0, match.start()) + 1
            raise ValueError(f"include/luarun.h:{line}: a declaration this script cannot read")


# --- C types to ctypes ---------------------------------------------------------------


class Types:
    """Turns the header's C types into ctypes expressions."""

    def __init__(self, header: Header) -> None:
        self.header = header
        self.structs = {t.name for t in header.types if isinstance(t, Struct)}
        self.callbacks = {t.name for t in header.types if isinstance(t, Callback)}

    def base(self, name: str) -> str:
        if name in SCALARS:
            return SCALARS[name]
        if name in self.header.aliases or name in self.header.enums:
            return name
        if name in self.structs or name in self.callbacks:
            return name
        raise ValueError(f"unknown C type {name!r}")

    def ctypes(self, ctype: str, followed_by_length: bool = False, in_callback: bool = False) -> str:
        """The ctypes expression for ``ctype``.

        Pointers the library reads as (pointer, length) pairs and every pointer a
        callback receives are ``c_void_p``: such bytes may hold NULs, and callbacks read
        their arguments by address (cheaper than a ctypes pointer object per call). A
        lone ``char *`` is a NUL-terminated string, ``c_char_p``; a pointer to an
        opaque struct is a ``c_void_p`` handle."""
        words = [w for w in ctype.replace("*", " * ").split() if w not in ("const", "struct", "enum")]
        stars = words.count("*")
        name = " ".join(w for w in words if w != "*")
        if stars == 0:
            return "None" if name == "void" else self.base(name)
        if in_callback and stars == 1:
            return "c_void_p"
        if stars == 1:
            if name == "void" or name in self.header.opaque:
                return "c_void_p"
            if name == "char":
                return "c_void_p" if followed_by_length else "c_char_p"
            return f"POINTER({self.base(name)})"
        if stars == 2 and (name == "void" or name in self.header.opaque):
            return "POINTER(c_void_p)"
        raise ValueError(f"no ctypes rule for {ctype!r}")

    def list(self, params: list[Param], in_callback: bool = False) -> list[str]:
        out = []
        for index, param in enumerate(params):
            following = params[index + 1] if index + 1 < len(params) else None
            paired = following is not None and following.ctype == "size_t"
            out.append(self.ctypes(param.ctype, paired, in_callback))
        return out


# --- output --------------------------------------------------------------------------

BANNER = '''\
"""ctypes facts of ``include/luarun.h``: constants, types, structs and prototypes.

GENERATED by tools/generate_python_ffi.py from include/luarun.h: do not edit. After
the header changes, run ``{command}``
(tests/python/test_generated.py fails while this file is stale).

Every ``LUARUN_X`` constant of the header is ``X`` here (``CONSTANTS`` has them by
their C names, in the header's order). Pointer rules: a (pointer, length) pair and
every pointer a callback receives are ``c_void_p`` (any bytes, read by address); a
lone ``char *`` is ``c_char_p``; a pointer to an opaque struct is a ``c_void_p``.
"""

# fmt: off
from __future__ import annotations

from ctypes import CFUNCTYPE, POINTER, Structure  # noqa: F401
from ctypes import c_bool, c_char, c_char_p, c_double, c_float, c_int, c_int8  # noqa: F401
from ctypes import c_int16, c_int32, c_int64, c_size_t, c_uint8, c_uint16  # noqa: F401
from ctypes import c_uint32, c_uint64, c_void_p  # noqa: F401
'''


#: Longest line the generated module has where it can wrap.
WIDTH = 92


def _first_sentence(doc: str) -> str:
    """The doc's first sentence, on one line."""
    paragraph = " ".join(doc.split("\n\n", 1)[0].split())
    match = re.match(r"(.+?\.)(?=\s+[A-Z(`]|$)", paragraph)
    return match.group(1) if match else paragraph


def _comment(doc: str) -> list[str]:
    sentence = _first_sentence(doc)
    return textwrap.wrap(sentence, WIDTH, initial_indent="#: ", subsequent_indent="#: ")


def _signature(params: list[Param]) -> str:
    return ", ".join(f"{p.ctype}{'' if p.ctype.endswith('*') else ' '}{p.name}" for p in params)


def _entry(key: str, result: str, argtypes: list[str]) -> list[str]:
    """One ``PROTOTYPES`` entry, wrapped one argument a line when it is long."""
    line = f'    "{key}": ({result}, [{", ".join(argtypes)}]),'
    if len(line) <= WIDTH:
        return [line]
    head = [f'    "{key}": (', f"        {result},", "        ["]
    return head + [f"            {argtype}," for argtype in argtypes] + ["        ],", "    ),"]


def _struct(item: Struct, types: Types) -> list[str]:
    doc = textwrap.wrap(f"``{item.name}``: {_first_sentence(item.doc)}", WIDTH - 7)
    doc[0] = '"""' + doc[0]
    doc[-1] += '"""'
    out = [f"class {item.name}(Structure):"] + [f"    {line}" for line in doc]
    out += ["", "    _fields_ = ["]
    out += [f'        ("{p.name}", {c}),' for p, c in zip(item.fields, types.list(item.fields))]
    return out + ["    ]"]


def render(header: Header) -> str:
    """The generated module's text for ``header``."""
    types = Types(header)
    out = [BANNER.format(command=COMMAND)]

    out.append("# --- constants (#define LUARUN_* and enum luarun_status) ---\n")
    for constant in header.constants:
        out.extend(_comment(constant.doc))
        out.append(f"{constant.name[len(PREFIX):]} = {constant.value}")
    out.append("")
    out.append("#: Every constant by its C name, in the header's order.")
    out.append("CONSTANTS: dict[str, int] = {")
    for constant in header.constants:
        out.append(f'    "{constant.name}": {constant.name[len(PREFIX):]},')
    out.append("}\n")

    out.append("# --- types ---\n")
    for name, doc in header.enums.items():
        out.extend(_comment(doc))
        out.append(f"{name} = c_int  # a C enum")
    for name, (ctype, doc) in header.aliases.items():
        out.extend(_comment(doc))
        out.append(f"{name} = {types.ctypes(ctype)}")
    opaque = ", ".join(header.opaque)
    out.extend(textwrap.wrap(f"Opaque structs, passed as c_void_p handles: {opaque}.", WIDTH,
                             initial_indent="# ", subsequent_indent="# "))
    for item in header.types:
        out += ["", ""]
        if isinstance(item, Callback):
            out.extend(_comment(item.doc))
            argtypes = ", ".join([types.ctypes(item.result)] + types.list(item.params, True))
            c_signature = f"{item.result} (*{item.name})({_signature(item.params)})"
            out.extend(textwrap.wrap(c_signature, WIDTH, initial_indent="# ",
                                     subsequent_indent="#     "))
            out.append(f"{item.name} = CFUNCTYPE({argtypes})")
        else:
            out.extend(_struct(item, types))
    out += ["", ""]

    out.append("#: Every function of the header: name -> (restype, argtypes), in its order.")
    out.append("PROTOTYPES: dict[str, tuple[object, list[object]]] = {")
    for function in header.functions:
        out.extend(_entry(function.name, types.ctypes(function.result), types.list(function.params)))
    out.append("}")

    exported = [c.name[len(PREFIX):] for c in header.constants] + ["CONSTANTS"]
    exported += list(header.enums) + list(header.aliases) + [t.name for t in header.types]
    names = " ".join(f'"{name}",' for name in exported + ["PROTOTYPES"])
    out += ["", "#: What ``from ._ffi_generated import *`` takes.", "__all__ = ["]
    out += textwrap.wrap(names, WIDTH, initial_indent="    ", subsequent_indent="    ")
    out.append("]")
    return "\n".join(out) + "\n"


def generate(header_text: str | None = None) -> str:
    """The generated module for the header text (default: ``include/luarun.h``)."""
    return render(parse(HEADER.read_text() if header_text is None else header_text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = generate()
    current = OUTPUT.read_text() if OUTPUT.exists() else ""
    if args.check:
        if current != text:
            print(f"{OUTPUT.relative_to(REPO)} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
