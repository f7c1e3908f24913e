"""The one loader for content/: the bot's words, resources by region, the ally questionnaire,
the role description and the demo organisation.

Templates are YAML strings with a small markup: `*bold*`, `[label](https://link)` and
`{placeholder}`. Placeholder values are inserted as plain spans and never parsed, so a value
such as `<!channel>` or `*x*` stays literal on every platform.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.messages import Rich, Span
from handlers import when
from handlers.promises import broken_promise
from handlers.yamlfile import Problem, ProblemsFound, YamlDoc, load_yaml, pydantic_problems

log = logging.getLogger(__name__)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
CODE_DIRS = ("handlers", "bot")
# A message key in code is "section.key" where the section is one of messages.yaml's.
_KEY_IN_CODE = re.compile(r'"([a-z]+\.[a-z_]+)"')
ROLE_PLACEHOLDERS = {"organisation"}
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
    # The five kinds of line (REQUIRED_LINES) are required in every region: the loader checks
    # them, and says where and how to fix a missing one.
    crisis_lines: list[Resource] = Field(default_factory=list)
    abuse_lines: list[Resource] = Field(default_factory=list)
    child_lines: list[Resource] = Field(default_factory=list)
    assault_lines: list[Resource] = Field(default_factory=list)
    eating_lines: list[Resource] = Field(default_factory=list)
    support: list[Resource] = Field(default_factory=list)


# What each required list holds, as the loader's fix names it.
REQUIRED_LINES = {
    "crisis_lines": "crisis helpline (suicide or emotional crisis)",
    "abuse_lines": "domestic abuse helpline",
    "child_lines": "child protection helpline (children at risk, or an adult worried about one)",
    "assault_lines": "sexual assault or rape crisis helpline",
    "eating_lines": "eating disorder helpline",
}


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
    # Relative, so the demo tells the same story whenever it is run (Dee's refresher is overdue).
    trained_days_ago: int | None = Field(default=None, ge=0, le=3650)


class DemoPerson(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str
    department: str
    region: str | None = None
    ally: DemoAlly | None = None


class Demo(_Strict):
    people: list[DemoPerson]


Words = list[str]


class Keywords(_Strict):
    """What a person can type in the questionnaire (compared ignoring case and punctuation)."""

    start: Words = Field(min_length=1)
    role: Words = Field(min_length=1)
    back: Words = Field(min_length=1)
    skip: Words = Field(min_length=1)
    cancel: Words = Field(min_length=1)
    help: Words = Field(min_length=1)
    status: Words = Field(min_length=1)
    submit: Words = Field(min_length=1)
    agree: Words = Field(min_length=1)

    @model_validator(mode="after")
    def _each_word_once(self) -> Keywords:
        seen: dict[str, str] = {}
        for name, words in self:
            for word in words:
                said = normalise_words(word)
                if said in seen and seen[said] != name:
                    raise ValueError(f"{word!r} is listed under both {seen[said]} and {name}")
                seen[said] = name
        return self

    def meaning(self, text: str) -> str | None:
        """Which keyword `text` is, if it is one: "back", "skip", ... or None."""
        said = normalise_words(text)
        for name, words in self:
            if said in {normalise_words(w) for w in words}:
                return name
        return None


def normalise_words(text: str) -> str:
    return " ".join(re.sub(r"[^\w?]+", " ", text.casefold()).split())


def _without_placeholders(text: str) -> str:
    if _PLACEHOLDER.search(text):
        raise ValueError("questionnaire text cannot use {placeholders}; write the words out")
    return text


class Question(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=60)
    ask: str = Field(min_length=1, max_length=1000)
    kind: Literal["line", "email", "text"]
    max: int = Field(ge=1, le=3000)
    prefill: Literal["name", "email", "title", "department"] | None = None
    optional: bool = False

    @field_validator("ask", "label")
    @classmethod
    def _no_placeholders(cls, text: str) -> str:
        return _without_placeholders(text)


class Questionnaire(_Strict):
    privacy: str = Field(min_length=1, max_length=2900)
    keywords: Keywords
    questions: list[Question] = Field(min_length=1, max_length=20)

    @field_validator("privacy")
    @classmethod
    def _no_placeholders(cls, text: str) -> str:
        return _without_placeholders(text)

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: list[Question]) -> list[Question]:
        ids = [q.id for q in questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"question ids must be unique; repeated: {', '.join(dupes)}")
        return questions

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)


# The bot's own calendar entries (handlers/schedules.py), which awareness ids must not take.
DIGEST_ID, DAILY_ID = "digest", "daily"
RESERVED_IDS = {DIGEST_ID, DAILY_ID}


class Tip(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    text: str = Field(min_length=1, max_length=2500)


class AwarenessItem(_Strict):
    """An awareness message with its schedule, or a series of tips that take turns."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    title: str = Field(min_length=1, max_length=80)
    when: str | None = None
    cron: str | None = None
    at: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    days_before: int = Field(default=0, ge=0, le=27)
    channels: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")]] | None = None
    starts: date | None = None
    ends: date | None = None
    text: str | None = Field(default=None, min_length=1, max_length=2500)
    tips: list[Tip] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> AwarenessItem:
        if self.id in RESERVED_IDS:
            raise ValueError(f"`{self.id}` names one of the bot's own jobs; choose another id")
        if (self.when is None) == (self.cron is None):
            raise ValueError(f"{self.id}: give exactly one of `when` and `cron`")
        if self.cron is not None and self.at is not None:
            raise ValueError(f"{self.id}: a `cron` line has its own time; drop `at`")
        if self.when is not None:
            when.fields(self.when)
        if self.cron is not None:
            when.crontab(self.cron)
        if (self.text is None) == (self.tips is None):
            raise ValueError(f"{self.id}: give either `text` or a list of `tips`")
        if self.tips is not None:
            ids = [t.id for t in self.tips]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{self.id}: tip ids must be unique; repeated: {dupes}")
        if self.starts and self.ends and self.ends < self.starts:
            raise ValueError(f"{self.id}: `ends` is before `starts`")
        return self

    def active_on(self, day: date) -> bool:
        return (self.starts is None or day >= self.starts) and (
            self.ends is None or day <= self.ends
        )


class AwarenessFile(_Strict):
    items: list[AwarenessItem] = Field(min_length=1)


@dataclass(frozen=True)
class Content:
    texts: dict[str, str]
    resources: Resources
    demo: Demo
    questionnaire: Questionnaire
    role: tuple[str, ...]  # the role description as templates, one per section
    awareness: tuple[AwarenessItem, ...] = ()

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

    def markup(self, template: str, **values: Any) -> Rich:
        """A template from content/ other than messages.yaml (questions, the role)."""
        return tuple(_spans(template, _Tolerant(values)))


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
    for name in ("messages.yaml", "resources.yaml", "demo.yaml", "questionnaire.yaml"):
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
    if isinstance(raw_regions, dict):
        problems.extend(_regions_without_lines(docs["resources.yaml"], raw_regions))
    for key, template in texts.items():
        _check_promise(docs["messages.yaml"], tuple(key.split(".")), template, problems)
    if "messages.yaml" in docs:
        sections = set(docs["messages.yaml"].data or {})
        used = {k for k in keys_used_by_code() if k.split(".")[0] in sections}
        for key in sorted(used - set(texts)):
            problems.append(
                docs["messages.yaml"].problem(
                    (), f"`{key}` is missing", "add it back: the bot uses it"
                )
            )
    demo = _model(docs["demo.yaml"], Demo, problems) if "demo.yaml" in docs else None
    questionnaire = (
        _model(docs["questionnaire.yaml"], Questionnaire, problems)
        if "questionnaire.yaml" in docs
        else None
    )
    if questionnaire is not None:
        _check_promise(docs["questionnaire.yaml"], ("privacy",), questionnaire.privacy, problems)
    role = _load_role(root / "role.md", problems)
    awareness = _load_awareness(root / "awareness", problems)
    if problems:
        raise ProblemsFound(problems)
    return Content(
        texts=texts,
        resources=resources,
        demo=demo,
        questionnaire=questionnaire,
        role=role,
        awareness=awareness,
    )


def _regions_without_lines(doc: YamlDoc, regions: dict[Any, Any]) -> list[Problem]:
    """Every region must list each kind of line in REQUIRED_LINES: the bot shows them all with
    the region's resources, crisis lines with the urgent help, and each kind when a message is
    about that concern (someone unsafe at home, a child at risk, sexual assault, eating). One
    problem per missing or empty list, at the region's line."""
    out = []
    for code, region in regions.items():
        if not isinstance(region, dict):
            continue  # the model reports a region that is not a mapping
        for key, what in REQUIRED_LINES.items():
            if not region.get(key):
                out.append(
                    doc.problem(
                        ("regions", code),
                        f"region `{code}` has no `{key}`",
                        f"add `{key}:` with at least one {what} for the region"
                        " (name, contact, url), as the other regions have; where the country"
                        " has none, list the closest real service and say so in `contact`",
                    )
                )
    return out


def _load_awareness(folder: Path, problems: list[Problem]) -> tuple[AwarenessItem, ...]:
    """Every content/awareness/*.yaml, in file-name order; ids are unique across them."""
    items: list[AwarenessItem] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        shown = f"content/awareness/{path.name}"
        try:
            doc = load_yaml(path, shown_as=shown)
        except ProblemsFound as exc:
            problems.extend(exc.problems)
            continue
        parsed = _model(doc, AwarenessFile, problems)
        for number, item in enumerate(parsed.items if parsed else []):
            if item.id in seen:
                problems.append(
                    doc.problem(
                        ("items", number, "id"),
                        f"id `{item.id}` is used in {seen[item.id]} too",
                        "give each awareness message its own id",
                    )
                )
            seen[item.id] = shown
            items.append(item)
            texts = [(("items", number, "text"), item.text)] if item.text else []
            texts += [
                (("items", number, "tips", n, "text"), tip.text)
                for n, tip in enumerate(item.tips or [])
            ]
            for where, text in texts:
                _check_promise(doc, where, text, problems)
    return tuple(items)


def _load_role(path: Path, problems: list[Problem]) -> tuple[str, ...]:
    """content/role.md as message sections: `#`/`##` headings start a section in bold, `- `
    items become bullets, `**bold**` becomes bold. `{organisation}` is the only placeholder."""
    shown = "content/role.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(
            Problem(shown, None, f"cannot read it ({type(exc).__name__})", "restore it")
        )
        return ()
    sections: list[list[str]] = [[]]
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"\*\*([^*\n]+)\*\*", r"*\1*", raw.rstrip())
        for name in _PLACEHOLDER.findall(line):
            if name not in ROLE_PLACEHOLDERS:
                problems.append(
                    Problem(shown, number, f"unknown placeholder {{{name}}}", "only {organisation}")
                )
        if phrase := broken_promise(line):
            problems.append(Problem(shown, number, *_promise_problem(phrase)))
        if heading := re.match(r"^#{1,3}\s+(.+)$", line):
            sections.append([f"*{heading.group(1)}*"])
        elif item := re.match(r"^[-*]\s+(.+)$", line):
            sections[-1].append(f"• {item.group(1)}")
        elif line:
            sections[-1].append(line)
    out = tuple("\n".join(lines) for lines in sections if lines)
    if not out:
        problems.append(Problem(shown, None, "the role description is empty", "write it"))
    for part in out:
        if len(part) > 2900:
            problems.append(
                Problem(shown, None, f"a section is {len(part)} characters", "split it with ##")
            )
    return out


def _promise_problem(phrase: str) -> tuple[str, str]:
    return (
        f"promises confidentiality without its limit (“{phrase}”)",
        "say in the same text that allies keep it private unless someone's safety is at risk",
    )


def _check_promise(
    doc: YamlDoc, where: tuple[str | int, ...], text: str, problems: list[Problem]
) -> None:
    if phrase := broken_promise(text):
        problems.append(doc.problem(where, *_promise_problem(phrase)))


def keys_used_by_code() -> set[str]:
    """Message keys named in the code ("section.key"; button action ids are "area:verb")."""
    root = CONTENT_DIR.parent
    found: set[str] = set()
    for folder in CODE_DIRS:
        for path in (root / folder).rglob("*.py"):
            found.update(_KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return found
