"""The configuration file as YAML 1.2 reads it, every scalar kept as the text the user wrote.

PyYAML implements YAML 1.1, whose implicit types silently change a configuration: ``1:10`` is
the sexagesimal integer 70, ``NO``/``on`` are booleans, ``010`` is octal 8. The original plugin
reads its file with Go's yaml.v3 (YAML 1.2), and a mapping leaf is a JavaScript expression, so
here the only implicit type is null (``~``, ``null``, ``Null``, ``NULL``, nothing: the YAML 1.2
core schema); every other scalar, plain or quoted, is the string of its source text, and an
explicit ``!!int``/``!!float``/``!!bool``/``!!timestamp`` tag keeps that text too. The merge key
``<<`` (not YAML 1.2) is an ordinary key. A null *key* becomes a ``NullKey`` that prints as
written (``~``), so that errors name it as the user wrote it.

A key given twice in one mapping is an error naming both lines (yaml.v3 refuses them as well);
``load`` returns these problems instead of raising, so they are reported together with every
other problem of the configuration.
"""

from __future__ import annotations

import re

from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

__all__ = ["NullKey", "StrictLoader", "load"]

_NULL = "tag:yaml.org,2002:null"


class _Resolver(BaseResolver):
    """YAML 1.2 core schema nulls; nothing else is resolved implicitly (all else is ``str``)."""


_Resolver.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class NullKey:
    """A mapping *key* that YAML reads as null (``~:``, ``null:``, ``: x``), kept apart from any
    string and printed as written, so that an error names the key the user wrote (``~``), not
    Python's ``None``. Each one is its own key (two in one mapping are duplicates anyway)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


class _Constructor(SafeConstructor):
    def construct_text(self, node: ScalarNode) -> str:
        return self.construct_scalar(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        for i, (key, value) in enumerate(node.value):
            if isinstance(key, ScalarNode) and key.tag == _NULL:
                node.value[i] = (ScalarNode(_NULL_KEY, key.value, key.start_mark, key.end_mark), value)
        return super().construct_mapping(node, deep)

    def construct_null_key(self, node: ScalarNode) -> NullKey:
        return NullKey(node.value)


_NULL_KEY = "tag:streamproc,2026:null-key"
_Constructor.add_constructor(_NULL_KEY, _Constructor.construct_null_key)


for _tag in ("int", "float", "bool", "timestamp"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _Constructor.construct_text)


class StrictLoader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
    """A PyYAML loader with YAML 1.2 core-schema nulls and every other scalar as its text."""

    def __init__(self, stream: str | bytes) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


def _key_text(node: Node) -> object:
    if isinstance(node, ScalarNode):
        return None if node.tag == _NULL else node.value
    return id(node)  # a complex key: the constructor refuses it if unhashable


def _duplicates(root: Node | None) -> list[str]:
    """One line per key that repeats an earlier key of the same mapping, with both lines."""
    problems: list[tuple[int, int, str]] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[Node, str]] = [(root, "")] if root is not None else []
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:  # anchors and aliases may share (or loop back to) a node
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[object, Node] = {}
            for key, value in node.value:
                text = _key_text(key)
                where = path or "the top level"
                if text in first:
                    here, there = key.start_mark, first[text].start_mark
                    if here.line == there.line:
                        at = f"line {here.line + 1}, column {here.column + 1}"
                        was = f"line {there.line + 1}, column {there.column + 1}"
                    else:
                        at, was = f"line {here.line + 1}", f"line {there.line + 1}"
                    problems.append((here.line, here.column,
                                     f"{path + '.' if path else ''}{text}: duplicate key in {where} "
                                     f"at {at} (first at {was})"))
                else:
                    first[text] = key
                stack.append((value, f"{path + '.' if path else ''}{text}"))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, f"{path}[{i}]"))
    problems.sort()  # document order
    return [p[2] for p in problems]


def load(text: str | bytes) -> tuple[object, list[str]]:
    """Parse one YAML document: (the data, the duplicate-key problems). Raises
    ``yaml.YAMLError`` for a syntax error."""
    loader = StrictLoader(text)
    try:
        root = loader.get_single_node()
        problems = _duplicates(root)
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return data, problems
