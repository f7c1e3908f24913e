"""YAML files that remember line numbers, so every problem can point at file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# libyaml's safe loader where PyYAML was built with it (ten times faster: content/ is read at
# every start); the pure-Python one otherwise. Both construct only plain data.
FAST: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        return f"{where}: {self.message}{fix}"


class ProblemsFound(Exception):
    """Raised with every problem found in configuration or content files."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class YamlDoc:
    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """Line of the node at `path`, or of its nearest ancestor that exists."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Path_, message: str, fix: str = "") -> Problem:
        return Problem(self.file, self.line(path), message, fix)


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            _walk(value, (*path, name), lines)
            lines[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def load_yaml(path: Path, shown_as: str | None = None) -> YamlDoc:
    """Parse `path`; raise ProblemsFound (never a traceback) if it is missing or malformed."""
    name = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemsFound(
            [Problem(name, None, "file not found", "create it or fix the path")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemsFound(
            [
                Problem(
                    name,
                    None,
                    f"cannot read the file ({exc.__class__.__name__})",
                    "save it as UTF-8 text",
                )
            ]
        ) from None
    try:
        try:
            node, data = _read(name, text, FAST)
        except yaml.YAMLError:
            # The pure-Python parser words its errors the same everywhere: it says what is wrong.
            node, data = _read(name, text, yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        opened = getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or "not valid YAML"
        flow = "flow" in (getattr(exc, "context", None) or "")  # inside [ ] or { }
        if flow and opened is not None and line is not None and opened.line + 1 < line:
            # e.g. an unclosed bracket: the mistake is where it opened, not where YAML noticed
            reason = f"{reason} (noticed on line {line})"
            line = opened.line + 1
        raise ProblemsFound(
            [
                Problem(
                    name,
                    line,
                    f"YAML syntax: {reason}",
                    "check indentation, colons and quotes on this line",
                )
            ]
        ) from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDoc(name, data, lines)


def _read(name: str, text: str, loader: Any) -> tuple[Any, Any]:
    """(node tree, data) of a YAML text, refusing aliases first."""
    _refuse_aliases(name, text, loader)
    return yaml.compose(text, Loader=loader), yaml.load(text, Loader=loader)


def _refuse_aliases(name: str, text: str, loader: Any) -> None:
    """No `*alias` anywhere: settings and content never need one, and a few nested aliases
    (a "billion laughs") expand into gigabytes when loaded. Read as a stream of parser events,
    which does not expand them."""
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else None
            raise ProblemsFound(
                [
                    Problem(
                        name,
                        line,
                        f"YAML alias *{event.anchor}: aliases are not allowed here",
                        "write the value out in full instead of an &anchor and *alias",
                    )
                ]
            )


def pydantic_problems(doc: YamlDoc, error: Any) -> list[Problem]:
    """Turn a pydantic ValidationError into problems that point into `doc`."""
    out = []
    for err in error.errors():
        loc = tuple(err["loc"])
        field_name = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "missing":
            fix = f"add `{loc[-1]}`"
        elif err["type"] == "extra_forbidden":
            fix = f"remove `{loc[-1]}` or check its spelling"
        else:
            fix = f"correct the value of `{field_name}`"
        out.append(doc.problem(loc, f"{field_name}: {msg}", fix))
    return out
