"""Block Kit from neutral messages stays inside Slack's limits and valid."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.messages import Button, Buttons, Message, Note, Section, Span
from bot.platforms.slack.blocks import MAX_BLOCKS, action_name, chunks, escape, to_blocks


def test_long_text_labels_and_values_are_trimmed_to_the_limits():
    message = Message(
        (
            Section((Span("x" * 5000),)),
            Note((Span("n" * 4000),)),
            Buttons(tuple(Button("L" * 80, "findally:start", "v" * 2500) for _ in range(30))),
        )
    )
    blocks = to_blocks(message)
    assert sum(len(e["text"]) for e in blocks[0]["elements"][0]["elements"]) <= 3000
    assert len(blocks[1]["elements"][0]["text"]) <= 3000
    buttons = [b for block in blocks if block["type"] == "actions" for b in block["elements"]]
    assert len(buttons) == 30 and all(len(block["elements"]) <= 25 for block in blocks[2:])
    assert all(len(b["text"]["text"]) <= 75 and len(b["value"]) <= 2000 for b in buttons)
    assert len({b["action_id"] for b in buttons}) == 30  # unique, as Slack requires
    assert {action_name(b["action_id"]) for b in buttons} == {"findally:start"}
    for raw in blocks:
        Block.parse(raw).validate_json()


def test_a_message_over_fifty_blocks_is_split():
    message = Message(tuple(Section((Span(f"line {i}"),)) for i in range(120)))
    parts = chunks(message)
    assert [len(blocks) for blocks, _ in parts] == [MAX_BLOCKS, MAX_BLOCKS, 20]
    assert all(text for _, text in parts)


def test_the_mrkdwn_fallback_is_escaped():
    assert escape("<!channel> & <@U1|x>") == "&lt;!channel&gt; &amp; &lt;@U1|x&gt;"
