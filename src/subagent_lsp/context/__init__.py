"""The context engine: what a senior backend engineer would read before touching the selection."""
