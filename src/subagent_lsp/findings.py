"""What a reviewing agent reports: findings with a place, a severity and a suggested fix, sent
through the `report_finding` tool and checked here before anything shows them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Severity = Literal["error", "warning", "information", "hint"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "information", "hint")
MAX_FINDINGS = 50
"""Per review: a review that reports more is reporting noise."""
_MAX_TEXT = 600

REPORT_TOOL_NAME = "report_finding"
REPORT_TOOL: dict[str, object] = {
    "name": REPORT_TOOL_NAME,
    "description": "Report one finding of your review: the file, the 1-based lines it is about, "
    "how serious it is, what is wrong, and the fix in words. Call it once per finding; they are "
    "shown to the developer in the editor, on those lines.",
    "input_schema": {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "File path, relative to the workspace."},
            "start_line": {"type": "integer", "minimum": 1},
            "end_line": {"type": "integer", "minimum": 1},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "message": {"type": "string", "description": "What is wrong, in one sentence."},
            "fix": {"type": "string", "description": "What to change, in words."},
        },
        "required": ["path", "start_line", "severity", "message"],
    },
}


@dataclass(frozen=True)
class Finding:
    path: str
    """As the model named it: resolved by the caller against the workspace."""
    start_line: int
    """0-based, inclusive."""
    end_line: int
    severity: Severity
    message: str
    fix: str


class BadFinding(ValueError):
    """A report that cannot be shown; ``str()`` tells the model what to correct."""


def read_finding(tool_input: Mapping[str, object]) -> Finding:
    path, message = tool_input.get("path"), tool_input.get("message")
    start, end = (
        tool_input.get("start_line"),
        tool_input.get("end_line", tool_input.get("start_line")),
    )
    severity, fix = tool_input.get("severity", "warning"), tool_input.get("fix", "")
    if not isinstance(path, str) or not path.strip():
        raise BadFinding("`path` must name the file the finding is about.")
    if not isinstance(message, str) or not message.strip():
        raise BadFinding("`message` must say what is wrong.")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (start, end)):
        raise BadFinding("`start_line` and `end_line` must be line numbers from 1.")
    assert isinstance(start, int) and isinstance(end, int)
    if severity not in SEVERITIES:
        raise BadFinding(f"`severity` must be one of {', '.join(SEVERITIES)}.")
    if not isinstance(fix, str):
        raise BadFinding("`fix` must be text.")
    first, last = sorted((start - 1, end - 1))
    return Finding(
        path.strip(),
        first,
        last,
        severity,
        " ".join(message.split())[:_MAX_TEXT],
        " ".join(fix.split())[:_MAX_TEXT],
    )


class Findings:
    """The findings of one review: deduplicated and capped."""

    def __init__(self) -> None:
        self.items: list[Finding] = []
        self._seen: set[tuple[str, int, int, str]] = set()

    def add(self, finding: Finding) -> str:
        key = (finding.path, finding.start_line, finding.end_line, finding.message)
        if key in self._seen:
            return "Already reported."
        if len(self.items) >= MAX_FINDINGS:
            raise BadFinding(f"At most {MAX_FINDINGS} findings are shown; report the most serious.")
        self._seen.add(key)
        self.items.append(finding)
        return f"Reported ({len(self.items)})."
