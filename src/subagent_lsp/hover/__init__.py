"""Hover: instant facts from the code, then the agent's explanation."""
