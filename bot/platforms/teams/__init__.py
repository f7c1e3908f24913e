"""Microsoft Teams: Agents SDK CloudAdapter, Adaptive Card renderer, Teams app package."""
