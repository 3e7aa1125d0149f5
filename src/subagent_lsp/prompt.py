"""Assemble what the model is sent: the agent's prompt, the editor protocol, the code and the task.

The request is ordered so that everything stable comes first (tools, the agent prompt, the editor
protocol) and carries the cache mark; the parts that change with every selection come last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .agents import Agent
from .capabilities import Capabilities
from .context.items import Context
from .findings import REPORT_TOOL, REPORT_TOOL_NAME
from .model.loop import ModelRequest
from .model.tools import (
    EDIT_TOOL_NAME,
    REFERENCES_TOOL,
    SEARCH_TOOLS,
    WEB_BETAS,
    WEB_TOOLS,
    edit_tool,
)
from .redaction import sendable
from .settings import Settings

EDITOR_PROTOCOL = f"""\
# Working inside the editor
You are answering a request made from a developer's code editor. The developer selected code and asked
for one change. Make it with the `{EDIT_TOOL_NAME}` tool:
- Prefer `str_replace`. Copy `old_str` exactly from the file (never include the line-number gutter
  shown in the context) with enough surrounding lines to occur exactly once.
- Use `insert` to add lines, and `create` only when the change needs a new file (for example a schema
  module); then update the imports that use it.
- Paths are relative to the workspace root. You may `view` other files of the workspace when the
  context below is not enough.
- Change only what the request needs. Keep the file's style, naming and formatting; do not reformat
  or reorder unrelated code.
- Text shown as `<redacted secret>` stands for a credential that is not sent; leave it as it is.
- Do not ask questions. If the request cannot be done, make no edits and say why in one sentence.
When you are done, reply with one or two sentences saying what you changed and why."""

REVIEW_PROTOCOL = f"""\
# Working inside the editor
You are answering a request made from a developer's code editor about the code they selected. You
may read the workspace with the `{EDIT_TOOL_NAME}` tool's `view` command (and the search tools
when you have them), but you cannot change any file. Report each finding with the
`{REPORT_TOOL_NAME}` tool, most serious first, on the lines it is about; they appear in the
developer's editor. Then answer with one or two sentences that sum up the review.
Text shown as `<redacted secret>` stands for a credential that is not sent."""

HOVER_PROTOCOL = """\
# Explaining code in the editor
A developer is hovering over code in their editor. In at most 120 words of Markdown:
1. say what the code does, in one or two sentences;
2. list the real risks you see (validation, error handling, performance, security), most serious first,
   and say "no notable risks" if there are none;
3. give one concrete suggestion, with a short code snippet only if it is clearer than words.
Do not repeat the facts already shown above your explanation. No headings, no preamble."""


def _system(
    agent: Agent,
    protocol: str,
    settings: Settings,
    skills: Sequence[tuple[str, str]] = (),
    conventions: str | None = None,
) -> list[dict[str, Any]]:
    # All of it stays the same from one selection to the next in a file: the cached prefix.
    system: list[dict[str, Any]] = [{"type": "text", "text": agent.prompt}]
    system += [{"type": "text", "text": f"# Skill: {name}\n{text}"} for name, text in skills]
    if conventions:
        system.append({"type": "text", "text": sendable(conventions)})
    system.append({"type": "text", "text": protocol})
    if settings.prompt_caching:
        # The agent prompt and the protocol are the same for every request: one cached prefix.
        system[-1]["cache_control"] = {"type": "ephemeral"}
    return system


def build_request(
    *,
    agent: Agent,
    model: str,
    instruction: str,
    display_path: str,
    context: Context,
    settings: Settings,
    skills: Sequence[tuple[str, str]] = (),
    conventions: str | None = None,
    capabilities: Capabilities | None = None,
) -> ModelRequest:
    able = capabilities or agent.capabilities
    web = able.web if settings.web_tools else ()
    if web:
        able = able.with_web()
    protocol = EDITOR_PROTOCOL if able.can_edit else REVIEW_PROTOCOL
    note = able.note()
    system = _system(
        agent, protocol + (f"\n\n{note}" if note else ""), settings, skills, conventions
    )
    tools = [edit_tool(compatible=settings.compatible_endpoint, cache=False)]
    if able.can_search:
        tools += [dict(tool) for tool in SEARCH_TOOLS]
    if able.can_read or able.can_search:
        tools.append(dict(REFERENCES_TOOL))
    if not able.can_edit:
        tools.append(dict(REPORT_TOOL))
    tools += [dict(WEB_TOOLS[name]) for name in web]
    user = [
        {"type": "text", "text": sendable(context.render())},
        {
            "type": "text",
            "text": f"## Request\n{sendable(instruction.strip())}\n\nApply it to the marked selection in "
            f"`{display_path}`.",
        },
    ]
    return ModelRequest(
        model=model,
        system=system,
        user=user,
        tools=tools,
        max_tokens=settings.max_tokens,
        cache_turns=settings.prompt_caching,
        betas=tuple(WEB_BETAS[name] for name in web if name in WEB_BETAS),
    )


def build_explanation_request(
    *, agent: Agent, model: str, facts: str, context: Context, settings: Settings
) -> ModelRequest:
    """The hover explanation: the agent's view of code whose facts are already shown."""
    return ModelRequest(
        model=model,
        system=_system(agent, HOVER_PROTOCOL, settings),
        user=[
            {"type": "text", "text": sendable(context.render())},
            {"type": "text", "text": f"## Shown above your explanation\n{sendable(facts)}"},
        ],
        tools=[],
        max_tokens=settings.hover_max_tokens,
    )


def render(request: ModelRequest) -> str:
    """The request as readable text, for the command line's dry run."""
    out = [f"model: {request.model}", f"max_tokens: {request.max_tokens}", "", "# system"]
    out += [str(block.get("text", "")) for block in request.system]
    out += ["", "# user"]
    out += [str(block.get("text", "")) for block in request.user]
    return "\n".join(out)
