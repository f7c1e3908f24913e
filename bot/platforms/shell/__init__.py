"""The local console: personas, numbered buttons, scriptable stdin."""
