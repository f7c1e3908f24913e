"""What the bot remembers: tables, sessions and migrations."""
