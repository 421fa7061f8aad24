"""Reading the Terraform module without Terraform.

python-hcl2 parses every file into dicts; strings keep their HCL quotes and
expressions come back as "${...}" text, so `unquote` and `is_literal` tell the
two apart. `raw_attribute` returns an attribute's expression exactly as written
(for the README tables), which the parsed form loses.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import hcl2

INFRA = Path(__file__).resolve().parents[1]
REPO = INFRA.parent
PATTERNS_DIR = INFRA / "event-patterns"


def module_files() -> list[Path]:
    """The module's own .tf files (not the examples)."""
    return sorted(INFRA.glob("*.tf"))


def all_tf_files() -> list[Path]:
    """Every .tf file under infra/, examples included."""
    return sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


@lru_cache(maxsize=None)
def parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle)


def unquote(value: Any) -> Any:
    """'"text"' -> 'text'; anything else (expressions, numbers) unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        if "${" not in inner:
            return json.loads(value)
        return inner.replace('\\"', '"').replace("\\\\", "\\")
    return value


def is_literal(value: Any) -> bool:
    """A plain quoted string with no interpolation."""
    return isinstance(value, str) and value.startswith('"') and value.endswith('"') and "${" not in value


def blocks(kind: str, paths: list[Path] | None = None) -> Iterator[tuple[Path, str, Any]]:
    """Top-level blocks of one kind: ('variable' -> (path, name, body)),
    ('resource'/'data' -> (path, 'type.name', body)), ('locals' -> (path, '', body))."""
    for path in paths if paths is not None else module_files():
        for entry in parse(path).get(kind, []):
            if kind == "locals":
                yield path, "", entry
                continue
            for key, body in entry.items():
                first = unquote(key)
                if kind in ("resource", "data"):
                    for name, inner in body.items():
                        yield path, f"{first}.{unquote(name)}", inner
                else:
                    yield path, first, body


def locals_map(paths: list[Path] | None = None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for _, _, body in blocks("locals", paths):
        merged.update({k: v for k, v in body.items() if not k.startswith("__")})
    return merged


def walk(node: Any) -> Iterator[tuple[str | None, Any, Any]]:
    """Yield (key, value, parent) for every attribute in a parsed tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value, node
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield None, item, node
            yield from walk(item)


def strings(node: Any) -> Iterator[str]:
    for _, value, _ in walk(node):
        if isinstance(value, str):
            yield value


# --------------------------------------------------------------------------
# Raw expression text, for documentation
# --------------------------------------------------------------------------


def _skip_string(text: str, i: int) -> int:
    """i is just after an opening quote; return the index after the closing one."""
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif text.startswith("${", i) or text.startswith("%{", i):
            i = _skip_brackets(text, i + 2, "}")
        else:
            i += 1
    raise ValueError("unterminated string")


def _skip_brackets(text: str, i: int, closing: str) -> int:
    """Scan an expression until `closing` at depth 0; return the index after it."""
    stack = [closing]
    pairs = {"(": ")", "[": "]", "{": "}"}
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i + 1)
            continue
        if c == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if c != stack[-1]:
                raise ValueError(f"unbalanced {c!r} at {i}")
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    raise ValueError("unbalanced expression")


def _expression_end(text: str, i: int) -> int:
    """End of an attribute expression starting at i: the newline at depth 0."""
    depth_openers = {"(": ")", "[": "]", "{": "}"}
    while i < len(text):
        c = text[i]
        if c == "\n":
            return i
        if c == '"':
            i = _skip_string(text, i + 1)
            continue
        if c == "#" or text.startswith("//", i):
            return i
        if c in depth_openers:
            i = _skip_brackets(text, i + 1, depth_openers[c])
            continue
        i += 1
    return i


def block_body(text: str, header_regex: str) -> str | None:
    match = re.search(header_regex, text)
    if not match:
        return None
    start = match.end()  # just after "{"
    end = _skip_brackets(text, start, "}")
    return text[start : end - 1]


def raw_attribute(block_text: str, name: str) -> str | None:
    """The expression of a top-level attribute of a block body, as written."""
    i = 0
    depth_openers = {"(": ")", "[": "]", "{": "}"}
    line_start = True
    while i < len(block_text):
        c = block_text[i]
        if line_start:
            match = re.match(rf"[ \t]*{re.escape(name)}[ \t]*=(?!=)[ \t]*", block_text[i:])
            if match:
                begin = i + match.end()
                end = _expression_end(block_text, begin)
                return block_text[begin:end].rstrip()
        line_start = False
        if c == "\n":
            line_start = True
            i += 1
        elif c == '"':
            i = _skip_string(block_text, i + 1)
        elif c in depth_openers:
            i = _skip_brackets(block_text, i + 1, depth_openers[c])
        elif c == "#" or block_text.startswith("//", i):
            nl = block_text.find("\n", i)
            i = len(block_text) if nl < 0 else nl
        else:
            i += 1
    return None


def dedent_expression(expr: str) -> str:
    """Re-indent a multi-line expression so that its closing line starts at column 0."""
    lines = expr.split("\n")
    if len(lines) == 1:
        return expr
    tail_indent = len(lines[-1]) - len(lines[-1].lstrip())
    return "\n".join([lines[0]] + [line[tail_indent:] if line[:tail_indent].strip() == "" else line.lstrip() for line in lines[1:]])
