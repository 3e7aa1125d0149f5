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


GREP_TOOL_NAME = "grep"
GLOB_TOOL_NAME = "glob"
SEARCH_TOOLS: tuple[dict[str, Any], ...] = (
    {
        "name": GREP_TOOL_NAME,
        "description": "Search the workspace's files for lines matching a regular expression "
        "(Python syntax). Returns `path:line: text`, at most 100 matches. Excluded files "
        "(secrets, dependencies, build output, .gitignore) are never searched.",
        "input_schema": {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "A regular expression."},
                "glob": {"type": "string", "description": "Only files matching, e.g. *.ts"},
                "path": {"type": "string", "description": "Only below this folder."},
                "ignore_case": {"type": "boolean"},
            },
            "required": ["pattern"],
        },
    },
    {
        "name": GLOB_TOOL_NAME,
        "description": "List the workspace's files matching a glob such as `src/**/*.ts`, at "
        "most 200, relative to the workspace root.",
        "input_schema": {
            "type": "object",
            "properties": {"pattern": {"type": "string"}},
            "required": ["pattern"],
        },
    },
)
WEB_TOOLS: dict[str, dict[str, Any]] = {
    "WebSearch": {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    "WebFetch": {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 5},
}
"""Claude Code's web tools as the API's server tools, run on Anthropic's side."""
WEB_BETAS = {"WebFetch": "web-fetch-2025-09-10"}
"""The beta a server tool still needs, sent as the `anthropic-beta` header."""
REFERENCES_TOOL_NAME = "references"
REFERENCES_TOOL: dict[str, Any] = {
    "name": REFERENCES_TOOL_NAME,
    "description": "Where a declaration of the workspace is used: every line that uses it, as "
    "`path:line: text` under the declaration it means (imports through barrels and re-exports "
    "followed), at most 100 lines. Give `path` (the file that declares or imports the symbol) "
    "to mean one declaration when several share the name.",
    "input_schema": {
        "type": "object",
        "properties": {
            "symbol": {"type": "string", "description": "A top-level name, e.g. listItems."},
            "path": {"type": "string", "description": "A file that declares or imports it."},
        },
        "required": ["symbol"],
    },
}
EDIT_COMMANDS = frozenset({"str_replace", "create", "insert"})
"""The edit tool's commands that change a file; `view` only reads."""
