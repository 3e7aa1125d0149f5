"""The edit tool the model uses, in the native form Claude models are trained on or as a plain tool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EDIT_TOOL_NAME = "str_replace_based_edit_tool"
EDIT_TOOL_TYPE = "text_editor_20250728"


@dataclass(frozen=True)
class ToolResult:
    """What one tool call answers the model: text for it to read, and whether the call failed."""

    content: str
    is_error: bool


_DESCRIPTION = (
    "View, create and edit files of the user's workspace. Paths are relative to the workspace root. "
    "Commands: `view` a file (optionally a `view_range` [start, end], 1-based, end -1 for the end) or "
    "a directory; `str_replace` an `old_str` that occurs exactly once with `new_str`; `create` a file "
    "with `file_text`; `insert` `new_str` after line `insert_line` (0 for the top of the file)."
)

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "enum": ["view", "str_replace", "create", "insert"]},
        "path": {"type": "string", "description": "File or directory path, relative to the root."},
        "view_range": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "For view: [start_line, end_line], 1-based; end -1 means end of file.",
        },
        "old_str": {"type": "string", "description": "For str_replace: exact text, unique."},
        "new_str": {"type": "string", "description": "For str_replace and insert: the new text."},
        "file_text": {"type": "string", "description": "For create: the whole file."},
        "insert_line": {"type": "integer", "description": "For insert: insert after this line."},
    },
    "required": ["command", "path"],
}


def edit_tool(*, compatible: bool, cache: bool) -> dict[str, Any]:
    """The tool definition; with ``cache`` it closes the cached prefix (tools come first in a request)."""
    tool: dict[str, Any]
    if compatible:
        tool = {"name": EDIT_TOOL_NAME, "description": _DESCRIPTION, "input_schema": _SCHEMA}
    else:
        tool = {"type": EDIT_TOOL_TYPE, "name": EDIT_TOOL_NAME}
    if cache:
        tool["cache_control"] = {"type": "ephemeral"}
    return tool
