"""The one loader for content/: the bot's words, resources by region and the demo organisation.

Templates are YAML strings with a small markup: `*bold*`, `[label](https://link)` and
`{placeholder}`. Placeholder values are inserted as plain spans and never parsed, so a value
such as `<!channel>` or `*x*` stays literal on every platform.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.messages import Rich, Span
from handlers.yamlfile import Problem, ProblemsFound, YamlDoc, load_yaml, pydantic_problems

log = logging.getLogger(__name__)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
CODE_DIRS = ("handlers", "bot")
# A message key in code: "section.key" where the section is one of messages.yaml's.
_KEY_IN_CODE = re.compile(r'"((?:findally|safety|allies|help|home)\.[a-z_]+)"')
_TOKEN = re.compile(r"\{(\w+)\}|\*([^*\n]+)\*|\[([^\]\n]+)\]\(((?:https://|tel:)[^)\s]+|\{\w+\})\)")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _spans(template: str, values: dict[str, Any], bold: bool = False) -> list[Span]:
    out: list[Span] = []
    pos = 0
    for m in _TOKEN.finditer(template):
        if m.start() > pos:
            out.append(Span(template[pos : m.start()], bold=bold))
        name, strong, label, url = m.groups()
        if name is not None:
            out.append(Span(str(values[name]), bold=bold))
        elif strong is not None:
            out.extend(_spans(strong, values, bold=True))
        else:
            words = "".join(s.text for s in _spans(label, values))
            if url.startswith("{"):
                url = str(values[url[1:-1]] or "")
            safe = url.startswith(("https://", "tel:")) and not re.search(r"\s", url)
            out.append(Span(words, bold=bold, url=url if safe else None))
        pos = m.end()
    if pos < len(template):
        out.append(Span(template[pos:], bold=bold))
    return out


class _Tolerant(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        log.error("a message uses the unknown placeholder {%s}", key)
        return "{" + key + "}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resource(_Strict):
    name: str = Field(min_length=1, max_length=80)
    contact: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, pattern=r"^https://\S+$")


class Region(_Strict):
    name: str
    emergency: str = Field(pattern=r"^[0-9]{3}$")
    crisis_lines: list[Resource] = Field(min_length=1)
    support: list[Resource] = Field(default_factory=list)


class Resources(_Strict):
    regions: dict[str, Region]
    workplace: list[Resource] = Field(default_factory=list)

    def region(self, code: str | None) -> Region:
        """The region's resources, or the international fallback."""
        return self.regions.get((code or "").upper()) or self.regions["ANY"]


class DemoAlly(_Strict):
    topics: list[str] = Field(default_factory=list)
    capacity: int = Field(ge=1, le=20)
    available: bool = True


class DemoPerson(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str
    department: str
    region: str | None = None
    ally: DemoAlly | None = None


class Demo(_Strict):
    people: list[DemoPerson]


@dataclass(frozen=True)
class Content:
    texts: dict[str, str]
    resources: Resources
    demo: Demo

    def rich(self, key: str, **values: Any) -> Rich:
        """The template `key` with `values` filled in. A missing key or placeholder (someone
        edited content/ without running `allybot check`) shows its name rather than failing."""
        template = self.texts.get(key)
        if template is None:
            log.error("message %s is missing from content/messages.yaml", key)
            template = f"({key})"
        return tuple(_spans(template, _Tolerant(values)))

    def plain(self, key: str, **values: Any) -> str:
        """A template as plain words, for button labels and fallbacks."""
        return "".join(s.text for s in self.rich(key, **values))


def _flatten(
    doc: YamlDoc, node: Any, path: tuple[str, ...], out: dict[str, str], problems: list[Problem]
) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(doc, value, (*path, str(key)), out, problems)
    elif isinstance(node, str):
        out[".".join(path)] = node.rstrip("\n")
    else:
        problems.append(
            doc.problem(
                path,
                f"`{'.'.join(path)}` must be text",
                "quote the value or indent the keys under it",
            )
        )


def _model(doc: YamlDoc, model: type[BaseModel], problems: list[Problem]) -> Any:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(doc, exc))
        return None


def load_content(root: Path = CONTENT_DIR) -> Content:
    """Load and validate content/; raise ProblemsFound listing every problem."""
    problems: list[Problem] = []
    docs: dict[str, YamlDoc] = {}
    for name in ("messages.yaml", "resources.yaml", "demo.yaml"):
        try:
            docs[name] = load_yaml(root / name, shown_as=f"content/{name}")
        except ProblemsFound as exc:
            problems.extend(exc.problems)
    texts: dict[str, str] = {}
    if "messages.yaml" in docs:
        _flatten(docs["messages.yaml"], docs["messages.yaml"].data or {}, (), texts, problems)
        for key, template in texts.items():
            for placeholder in _PLACEHOLDER.findall(template):
                if not placeholder.isidentifier():
                    problems.append(
                        docs["messages.yaml"].problem(
                            tuple(key.split(".")),
                            f"bad placeholder {{{placeholder}}}",
                            "placeholders are words such as {name}",
                        )
                    )
    resources = (
        _model(docs["resources.yaml"], Resources, problems) if "resources.yaml" in docs else None
    )
    raw_regions = (
        (docs["resources.yaml"].data or {}).get("regions")
        if "resources.yaml" in docs and isinstance(docs["resources.yaml"].data, dict)
        else None
    )
    if isinstance(raw_regions, dict) and "ANY" not in raw_regions:
        problems.append(
            docs["resources.yaml"].problem(
                ("regions",), "no `ANY` region", "add an `ANY` region used when none matches"
            )
        )
    if "messages.yaml" in docs:
        for key in sorted(keys_used_by_code() - set(texts)):
            problems.append(
                docs["messages.yaml"].problem(
                    (), f"`{key}` is missing", "add it back: the bot uses it"
                )
            )
    demo = _model(docs["demo.yaml"], Demo, problems) if "demo.yaml" in docs else None
    if problems:
        raise ProblemsFound(problems)
    return Content(texts=texts, resources=resources, demo=demo)


def keys_used_by_code() -> set[str]:
    """Message keys named in the code ("section.key"; button action ids are "area:verb")."""
    root = CONTENT_DIR.parent
    found: set[str] = set()
    for folder in CODE_DIRS:
        for path in (root / folder).rglob("*.py"):
            found.update(_KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return found
