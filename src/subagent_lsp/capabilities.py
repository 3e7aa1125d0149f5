"""What an agent may do in the editor, from its Claude Code `tools`, `disallowedTools` and
`permissionMode`, mapped onto what an editor can safely offer.

Claude Code: no `tools` means every tool; `disallowedTools` is taken away first, then `tools`
is applied to what is left; `permissionMode: plan` is read-only. Here `Read` and `LS` become
the edit tool's `view`, `Grep` and `Glob` the workspace search tools, `Edit`, `MultiEdit` and
`Write` the edit tool's editing commands. Everything else (Bash, notebooks, sub-agents, MCP
servers) has no safe equivalent in an editor and is left out, and the model is told so; the web
tools map to the API's server-side web search and fetch only when the user allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

READ = frozenset({"Read", "LS"})
SEARCH = frozenset({"Grep", "Glob"})
EDIT = frozenset({"Edit", "MultiEdit", "Write"})
WEB = frozenset({"WebSearch", "WebFetch"})
"""Offered only when the user turns on the API's server-side web tools (`webTools`)."""
KNOWN = READ | SEARCH | EDIT
"""The Claude Code tools an editor offers an equivalent of."""
EVERY_TOOL = (
    "Read",
    "LS",
    "Grep",
    "Glob",
    "Edit",
    "MultiEdit",
    "Write",
    "Bash",
    "WebFetch",
    "WebSearch",
    "NotebookEdit",
    "Task",
)
"""What "no `tools` field" grants, as far as the editor is concerned."""


@dataclass(frozen=True)
class Capabilities:
    can_read: bool
    can_search: bool
    can_edit: bool
    absent: tuple[str, ...]
    """Tools the agent has in Claude Code that the editor leaves out, for the prompt and log."""
    web: tuple[str, ...] = ()
    """Its web tools (WebSearch, WebFetch), which the API can run on its side when allowed."""

    def with_web(self) -> Capabilities:
        """These capabilities with the web tools offered instead of left out."""
        return replace(self, absent=tuple(t for t in self.absent if _base(t) not in WEB))

    @property
    def read_only(self) -> bool:
        return not self.can_edit

    def note(self) -> str | None:
        """What the model is told about its tools here, or None when nothing is missing."""
        lines = []
        if self.absent:
            lines.append(
                "These tools you would have in Claude Code are not available in the editor: "
                + ", ".join(self.absent)
                + ". Work with the tools you are given."
            )
        if not self.can_edit:
            lines.append(
                "You are read-only here: you cannot change files. Report what you find instead."
            )
        return "\n".join(lines) or None


@lru_cache(maxsize=256)
def capabilities(
    tools: tuple[str, ...] | None, disallowed: tuple[str, ...], permission_mode: str
) -> Capabilities:
    granted = [t for t in (EVERY_TOOL if tools is None else tools) if t not in disallowed]
    names = {_base(t) for t in granted}
    absent = tuple(dict.fromkeys(t for t in granted if _base(t) not in KNOWN))
    return Capabilities(
        can_read=bool(names & READ) or bool(names & EDIT),
        can_search=bool(names & SEARCH),
        can_edit=bool(names & EDIT) and permission_mode != "plan",
        absent=absent,
        web=tuple(sorted(names & WEB)),
    )


def _base(tool: str) -> str:
    """`Bash(npm test:*)` -> `Bash`: a permission specifier does not change the tool."""
    return tool.split("(", 1)[0].strip()
