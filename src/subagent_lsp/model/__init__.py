"""Talking to Anthropic's Messages API: client, edit tool, tool loop and error sentences."""
