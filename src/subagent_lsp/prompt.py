"""Assemble what the model is sent: the agent's prompt, the editor protocol, the code and the task.

The request is ordered so that everything stable comes first (tools, the agent prompt, the editor
protocol) and carries the cache mark; the parts that change with every selection come last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .agents import Agent
from .model.loop import ModelRequest
from .model.tools import EDIT_TOOL_NAME, edit_tool
from .project import ProjectFacts
from .settings import Settings
from .syntax import ImportDecl, SourceFile, Target

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
- Do not ask questions. If the request cannot be done, make no edits and say why in one sentence.
When you are done, reply with one or two sentences saying what you changed and why."""


@dataclass(frozen=True)
class Selection:
    """The code the user pointed at, in the text the editor has now."""

    display_path: str
    source: SourceFile
    start: int
    end: int


def _fence(code: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return fence


def numbered(text: str, first_line: int, last_line: int, mark: tuple[int, int] | None) -> str:
    """Lines ``first_line..last_line`` (0-based) with 1-based numbers; marked lines get a ``>``."""
    lines = text.splitlines()
    width = len(str(last_line + 1))
    out = []
    for index in range(first_line, min(last_line, len(lines) - 1) + 1):
        flag = ">" if mark is not None and mark[0] <= index <= mark[1] else " "
        out.append(f"{flag}{index + 1:>{width}}| {lines[index]}")
    return "\n".join(out)


def describe_code(selection: Selection, target: Target, imports: Sequence[ImportDecl]) -> str:
    src = selection.source
    first, _ = src.line_col(target.enclosing_start)
    last, _ = src.line_col(max(target.enclosing_end - 1, target.enclosing_start))
    mark_first, _ = src.line_col(target.start)
    mark_last, _ = src.line_col(max(target.end - 1, target.start))
    fence_lang = "tsx" if src.language == "tsx" else "ts"
    parts = [f"## File `{selection.display_path}`"]
    if imports:
        import_text = "\n".join(src.text[i.start : i.end] for i in imports)
        fence = _fence(import_text)
        parts.append(f"Imports:\n{fence}{fence_lang}\n{import_text}\n{fence}")
    where = target.enclosing_kind + (f" `{target.enclosing_name}`" if target.enclosing_name else "")
    body = numbered(src.text, first, last, (mark_first, mark_last))
    fence = _fence(body)
    parts.append(
        f"The selection (lines {mark_first + 1}-{mark_last + 1}, marked with `>`) inside its "
        f"enclosing {where}:\n{fence}{fence_lang}\n{body}\n{fence}"
    )
    return "\n\n".join(parts)


def build_request(
    *,
    agent: Agent,
    model: str,
    instruction: str,
    selection: Selection,
    target: Target,
    imports: Sequence[ImportDecl],
    facts: ProjectFacts,
    settings: Settings,
) -> ModelRequest:
    cache: Mapping[str, Any] = {"type": "ephemeral"}
    system: list[dict[str, Any]] = [
        {"type": "text", "text": agent.prompt},
        {"type": "text", "text": EDITOR_PROTOCOL},
    ]
    if settings.prompt_caching:
        system[-1]["cache_control"] = dict(cache)
    context_parts = []
    described = facts.describe()
    if described:
        context_parts.append(f"## Project\n{described}")
    context_parts.append(describe_code(selection, target, imports))
    user = [
        {"type": "text", "text": "\n\n".join(context_parts)},
        {
            "type": "text",
            "text": f"## Request\n{instruction.strip()}\n\nApply it to the marked selection in "
            f"`{selection.display_path}`.",
        },
    ]
    return ModelRequest(
        model=model,
        system=system,
        user=user,
        tools=[edit_tool(compatible=settings.compatible_endpoint, cache=False)],
        max_tokens=settings.max_tokens,
    )


def render(request: ModelRequest) -> str:
    """The request as readable text, for the command line's dry run."""
    out = [f"model: {request.model}", f"max_tokens: {request.max_tokens}", "", "# system"]
    out += [str(block.get("text", "")) for block in request.system]
    out += ["", "# user"]
    out += [str(block.get("text", "")) for block in request.user]
    return "\n".join(out)
