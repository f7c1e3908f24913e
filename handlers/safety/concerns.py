"""What a message can raise: the kind of danger (`Concern`) and how strongly to answer (`Level`)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Concern(StrEnum):
    """The kind of danger a message suggests; each has its own guidance and lines."""

    SELF = "self"  # the writer may end their life or harm themself
    HARM_DONE = (
        "harm_done"  # the writer has already taken something or is injured: a medical emergency
    )
    OTHERS = "others"  # the writer may harm someone else
    ABUSE = "abuse"  # the writer is unsafe at home: abused, threatened or controlled
    CHILD = "child"  # a child is being harmed or is at risk
    ASSAULT = "assault"  # the writer was sexually assaulted
    SOMEONE_ELSE = "someone_else"  # another adult is in danger; the writer is the helper
    PSYCHOSIS = (
        "psychosis"  # voices or beliefs pushing towards harm, losing touch with what is real
    )
    EATING = "eating"  # medical danger from an eating disorder


class Level(IntEnum):
    """How the reply leads. Ordered, so the stronger of two readings is `max`."""

    NONE = 0  # nothing about danger: the normal reply only
    QUIET = 1  # a quieter "if you are not safe right now, here is help" line with the lines
    HIGH = 2  # emergency guidance and the crisis lines lead the reply
