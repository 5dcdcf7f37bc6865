"""Reads the YAML text and remembers where every key and value stands in the file.

The loader is PyYAML's safe loader with YAML 1.1's surprises taken out: `no`/`on` stay
strings (a country code NO is not False), dates stay text until the schema reads them (so
2026-02-30 is reported, not a crash), and digits with a leading zero or a + stay text
(0701234567 is not an octal number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from routing.config.errors import ConfigIssue, Path, format_path


class _PyLoader(yaml.SafeLoader):
    """The pure-Python reader: its syntax errors say more (they are what admins are shown)."""


# libyaml's parser (in PyYAML's wheel) is 5-10 times faster: a config of 20,000 people reads
# in a second, not ten. A file it refuses is read again by _PyLoader for the message. The tag
# resolvers below are Python in both.
_Loader: type[yaml.SafeLoader] = type("_Loader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})


_REPLACED_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("timestamp", "bool", "int", "float"))
# PyYAML's wording, with what an admin most likely has to change.
_SYNTAX_HINTS = {
    "mapping values are not allowed here": "check the indentation, or put a value that contains ': ' in quotes",
    "found character '\\t' that cannot start any token": "indent with spaces, not tabs",
    "expected <block end>": "check the indentation, and that every quote is closed",
    "found undefined alias": "a value starting with * must be in quotes",
    "that cannot start any token": "put a value starting with this character in quotes",
}

for _loader in (_Loader, _PyLoader):
    _loader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag not in _REPLACED_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:0|-?[1-9][0-9]*)$"), list("-0123456789"))
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^-?(?:[0-9]+\.[0-9]*|\.[0-9]+)$"),
        list("-.0123456789"),
    )


@dataclass
class Positions:
    """Line and column (1-based) of each value and each mapping key, by key path."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """The closest known position: the path itself, else its nearest parent."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            if path[:cut] in table:
                return table[path[:cut]]
            if key and path[:cut] in self.values:
                return self.values[path[:cut]]
        return (1, 1)


@dataclass
class Source:
    """The parsed file. Where each key stands is worked out only when a problem must be shown
    (a config of 20,000 people has 400,000 of them; a valid file never needs one)."""

    file: str
    data: Any
    text: str = ""
    _positions: Positions | None = None

    @property
    def positions(self) -> Positions:
        if self._positions is None:
            self._positions = _positions_of(self.text, self.file)
        return self._positions

    def issue(self, path: Path, message: str, *, key: bool = False) -> ConfigIssue:
        line, column = self.positions.of(path, key=key)
        return ConfigIssue(self.file, line, column, format_path(path), message)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(node: yaml.Node, path: Path, positions: Positions, file: str, issues: list[ConfigIssue]) -> None:
    positions.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            if key in seen:
                line, column = _mark(key_node)
                issues.append(
                    ConfigIssue(file, line, column, format_path(child), f"key given twice (first on line {seen[key]})")
                )
                continue
            seen[key] = _mark(key_node)[0]
            positions.keys[child] = _mark(key_node)
            _walk(value_node, child, positions, file, issues)
            if isinstance(value_node, yaml.CollectionNode) and value_node.start_mark.line > key_node.start_mark.line:
                # A block mapping or list starts on the line after its key: a problem with the
                # whole block (a key missing in it, two secrets …) is shown at its key's line.
                positions.values[child] = _mark(key_node)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), positions, file, issues)


def _has_duplicate_keys(root: yaml.Node) -> bool:
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            keys = [k.value if isinstance(k, yaml.ScalarNode) else str(k.value) for k, _ in node.value]
            if len(set(keys)) != len(keys):
                return True
            pending.extend(value for _, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return False


def _positions_of(text: str, file: str) -> Positions:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    positions = Positions()
    if node is not None:
        _walk(node, (), positions, file, [])
    return positions


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "not valid YAML"
    message = f"YAML syntax: {problem}"
    start, where = exc.context_mark, exc.problem_mark
    if exc.context and start is not None and where is not None and start.line != where.line:
        message += f" ({exc.context} that starts on line {start.line + 1})"
    hint = next((hint for text, hint in _SYNTAX_HINTS.items() if text in problem), None)
    return f"{message}: {hint}" if hint else message


def parse(text: str, file: str) -> tuple[Source, list[ConfigIssue]]:
    """Parse YAML text; syntax errors and duplicate keys come back as issues, not exceptions."""
    source, issues = _parse(text, file, _Loader)
    if issues and issues[0].path == "(yaml)" and _Loader is not _PyLoader:
        return _parse(text, file, _PyLoader)  # the same error, in the words admins are shown
    return source, issues


def _parse(text: str, file: str, reader: type[yaml.SafeLoader]) -> tuple[Source, list[ConfigIssue]]:
    loader = reader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Source(file, None, text, Positions()), [
                ConfigIssue(file, 1, 1, "(top)", "the file is empty: it needs at least version: 1")
            ]
        positions: Positions | None = None
        issues: list[ConfigIssue] = []
        if _has_duplicate_keys(node):  # reported with where they are, so positions now
            positions = Positions()
            _walk(node, (), positions, file, issues)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return Source(file, None, text, Positions()), [ConfigIssue(file, line, column, "(yaml)", _syntax_message(exc))]
    finally:
        loader.dispose()
    return Source(file, data, text, positions), issues
