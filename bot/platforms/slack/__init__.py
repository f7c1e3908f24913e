"""Slack: Bolt AsyncApp over Socket Mode or HTTP, Block Kit renderer, app manifest."""
