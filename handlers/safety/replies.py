"""What leads a reply when a message raised a concern, and the resources for a region."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Block, Divider, Section
from handlers.content import Region, Resource
from handlers.context import Context
from handlers.safety.concerns import Concern, Level
from handlers.safety.detect import Assessment


# --- resources -------------------------------------------------------------------------------
def _region(ctx: Context, region_code: str | None) -> Region:
    return ctx.content.resources.region(region_code or ctx.app.organisation.region)


def _lines(ctx: Context, resources: list[Resource]) -> list[Section]:
    out = []
    for r in resources:
        key = "safety.line_link" if r.url else "safety.line"
        out.append(ctx.section(key, name=r.name, contact=r.contact, url=r.url))
    return out


def _self_blocks(ctx: Context, region: Region) -> list[Block]:
    return [
        ctx.section("safety.crisis_title"),
        ctx.section("safety.crisis_emergency", emergency=region.emergency),
        ctx.section("safety.crisis_lines_intro"),
        *_lines(ctx, region.crisis_lines),
    ]


# The order concerns lead a reply in: what needs an emergency service first.
_ORDER = (
    Concern.HARM_DONE,
    Concern.SELF,
    Concern.SOMEONE_ELSE,
    Concern.OTHERS,
    Concern.PSYCHOSIS,
    Concern.EATING,
    Concern.ABUSE,
    Concern.CHILD,
    Concern.ASSAULT,
)


@dataclass(frozen=True)
class _Guidance:
    """A concern's own section: message keys (written out, so `allybot check` finds each one)
    and the region's lines it lists (None: the crisis lines are its lines)."""

    title: str
    first_step: str
    lines_intro: str
    lines: str | None = None
    supporter_intro: str | None = None


_OWN: dict[Concern, _Guidance] = {
    Concern.HARM_DONE: _Guidance(
        "safety.harm_done_title", "safety.harm_done_emergency", "safety.harm_done_lines_intro"
    ),
    Concern.SOMEONE_ELSE: _Guidance(
        "safety.someone_else_title",
        "safety.someone_else_emergency",
        "safety.someone_else_lines_intro",
    ),
    Concern.OTHERS: _Guidance(
        "safety.others_title", "safety.others_emergency", "safety.others_lines_intro"
    ),
    Concern.PSYCHOSIS: _Guidance(
        "safety.psychosis_title", "safety.psychosis_emergency", "safety.psychosis_lines_intro"
    ),
    Concern.EATING: _Guidance(
        "safety.eating_title",
        "safety.eating_emergency",
        "safety.eating_lines_intro",
        "eating_lines",
        "safety.supporter_eating_intro",
    ),
    Concern.ABUSE: _Guidance(
        "safety.abuse_title",
        "safety.abuse_emergency",
        "safety.abuse_lines_intro",
        "abuse_lines",
        "safety.supporter_abuse_intro",
    ),
    Concern.CHILD: _Guidance(
        "safety.child_title",
        "safety.child_emergency",
        "safety.child_lines_intro",
        "child_lines",
        "safety.supporter_child_intro",
    ),
    Concern.ASSAULT: _Guidance(
        "safety.assault_title",
        "safety.assault_emergency",
        "safety.assault_lines_intro",
        "assault_lines",
        "safety.supporter_assault_intro",
    ),
}


def _own_lines(region: Region, concern: Concern) -> list[Resource]:
    guidance = _OWN.get(concern)
    return list(getattr(region, guidance.lines)) if guidance and guidance.lines else []


def lead_blocks(ctx: Context, region_code: str | None, assessment: Assessment) -> list[Block]:
    """What leads the reply to a message that raised `assessment`, in the person's region.

    Emergency-first (Level.HIGH): for each concern, what to do now, in order of urgency; the
    crisis lines are listed once. The quiet line (Level.QUIET): one sentence and the lines,
    for a message that only may be about danger (the router sends it after the reply)."""
    if not assessment:
        return []
    region = _region(ctx, region_code)
    concerns = [c for c in _ORDER if c in assessment.concerns] or [Concern.SELF]
    if assessment.level < Level.HIGH:
        own = [r for c in concerns for r in _own_lines(region, c)]
        return [
            ctx.section("safety.quiet", emergency=region.emergency),
            *_lines(ctx, _unique([*region.crisis_lines, *own])),
        ]
    blocks: list[Block] = []
    crisis_lines_shown = False
    for concern in concerns:
        if concern is Concern.SELF:
            blocks += _self_blocks(ctx, region)
            crisis_lines_shown = True
            continue
        guidance = _OWN[concern]
        blocks += [
            ctx.section(guidance.title, emergency=region.emergency),
            ctx.section(guidance.first_step, emergency=region.emergency),
        ]
        if guidance.lines:
            blocks += [
                ctx.section(guidance.lines_intro),
                *_lines(ctx, _own_lines(region, concern)),
            ]
        elif crisis_lines_shown:
            blocks.append(ctx.section("safety.lines_above"))
        else:
            blocks += [ctx.section(guidance.lines_intro), *_lines(ctx, region.crisis_lines)]
            crisis_lines_shown = True
    return [*blocks, Divider()]


def _unique(resources: list[Resource]) -> list[Resource]:
    seen: set[str] = set()
    return [r for r in resources if not (r.name in seen or seen.add(r.name))]


def supporter_blocks(
    ctx: Context, region_code: str | None, assessment: Assessment, who: str
) -> list[Block]:
    """For someone supporting the writer of words that raised `assessment` (the other side of a
    relay): what to do now and whom to point them to, in the writer's region (`region_code`).
    `who` names the writer as the reader knows them ("your colleague")."""
    if not assessment:
        return []
    region = _region(ctx, region_code)
    blocks: list[Block] = [
        Divider(),
        ctx.section("safety.supporter_title", who=who),
        ctx.section("safety.supporter_emergency", emergency=region.emergency),
        ctx.section("safety.supporter_lines_intro"),
        *_lines(ctx, region.crisis_lines),
    ]
    for concern in _ORDER:
        guidance = _OWN.get(concern)
        if concern in assessment.concerns and guidance and guidance.supporter_intro:
            blocks += [
                ctx.section(guidance.supporter_intro),
                *_lines(ctx, _own_lines(region, concern)),
            ]
    return blocks


def supporter_lines(ctx: Context, region_code: str | None) -> list[Block]:
    """For someone worried about another person: the emergency number and the crisis lines,
    which help supporters too."""
    region = _region(ctx, region_code)
    return [
        ctx.section("safety.supporter_emergency", emergency=region.emergency),
        ctx.section("safety.supporter_lines_intro"),
        *_lines(ctx, region.crisis_lines),
    ]


def crisis_blocks(ctx: Context, region_code: str | None) -> list[Block]:
    """Urgent help: the emergency number and crisis lines, then a short section with the
    domestic abuse lines, so both are one click away. Shown first, never hidden."""
    region = _region(ctx, region_code)
    return [
        *_self_blocks(ctx, region),
        ctx.section("safety.abuse_short_title"),
        *_lines(ctx, region.abuse_lines),
        Divider(),
    ]


def resource_blocks(ctx: Context, region_code: str | None) -> list[Block]:
    """Everything for the region: crisis lines, other support, abuse lines, what work offers."""
    resources = ctx.content.resources
    region = _region(ctx, region_code)
    blocks: list[Block] = [
        ctx.section("safety.resources_title", region=region.name),
        ctx.section("safety.crisis_emergency", emergency=region.emergency),
        *_lines(ctx, region.crisis_lines + region.support),
        ctx.section("safety.abuse_short_title"),
        *_lines(ctx, region.abuse_lines),
        ctx.section("safety.child_short_title"),
        *_lines(ctx, region.child_lines),
        ctx.section("safety.assault_short_title"),
        *_lines(ctx, region.assault_lines),
        ctx.section("safety.eating_short_title"),
        *_lines(ctx, region.eating_lines),
    ]
    if resources.workplace:
        blocks += [ctx.section("safety.workplace_title"), *_lines(ctx, resources.workplace)]
    return blocks
