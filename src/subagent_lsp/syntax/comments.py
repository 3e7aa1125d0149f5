"""Instruction comments: `// @agent: do this` (or `// @name: ...` for a named agent) near the code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from .source import SourceFile
from .targets import Target

_INSTRUCTION = re.compile(r"^\s*(?://+|/\*+|\*+)?\s*@([a-z][a-z0-9-]*)\s*:\s*(.*?)\s*(?:\*+/)?\s*$")
_COMMENT_TEXT = re.compile(r"^\s*(?://+|/\*+|\*+)?\s?(.*?)\s*(?:\*+/)?\s*$")
_COMMENTS = "(comment) @comment"
# How far above the target an instruction's first line may start.
_LOOK_BACK_LINES = 12


@dataclass(frozen=True)
class Instruction:
    agent: str | None
    text: str
    start: int
    end: int


def _comments_in(src: SourceFile, start: int, end: int) -> list[Node]:
    """Comments touching the span, in order."""
    b_start, b_end = src.to_byte(start), src.to_byte(end)
    found = src.captures(_COMMENTS, src.tree.root_node, start, end)
    return [n for n in found.get("comment", []) if n.start_byte <= b_end and n.end_byte >= b_start]


def _instruction_from(src: SourceFile, comments: list[Node], index: int) -> Instruction | None:
    first = comments[index]
    lines = src.node_text(first).splitlines()
    match = _INSTRUCTION.match(lines[0]) if lines else None
    if match is None:
        return None
    agent = None if match[1] == "agent" else match[1]
    parts = [match[2]]
    for line in lines[1:]:
        body = _COMMENT_TEXT.match(line)
        if body:
            parts.append(body[1])
    start, end = src.node_span(first)
    last_line = src.line_of(end)
    # Following `//` lines continue the instruction until a new `@x:` or a gap.
    for follower in comments[index + 1 :]:
        f_start, f_end = src.node_span(follower)
        if src.line_of(f_start) != last_line + 1:
            break
        text = src.node_text(follower)
        if _INSTRUCTION.match(text):
            break
        body = _COMMENT_TEXT.match(text)
        parts.append(body[1] if body else text)
        end, last_line = f_end, src.line_of(f_end)
    joined = " ".join(part.strip() for part in parts if part.strip())
    if not joined:
        return None
    return Instruction(agent, joined, start, end)


def find_instruction(src: SourceFile, start: int, end: int, target: Target) -> Instruction | None:
    """An `@agent:` comment inside the selection, at the end of the cursor's line, or right above
    the ``target`` resolved for the same selection."""
    start, end = sorted((start, end))
    first_line = src.line_of(target.start)
    cursor_line = src.line_of(start)
    line_start, line_end = src.line_span(cursor_line)
    # Far enough up to see the first line of a multi-line instruction above the target.
    look_from = src.line_span(max(first_line - _LOOK_BACK_LINES, 0))[0]
    comments = _comments_in(src, min(start, look_from, line_start), max(end, line_end))
    if not comments:
        return None
    # Inside the selection first.
    if end - start > 1:
        for index, node in enumerate(comments):
            c_start, c_end = src.node_span(node)
            if c_start >= start and c_end <= end:
                found = _instruction_from(src, comments, index)
                if found is not None:
                    return found
    # At the end of the cursor's line, or ending on the line right above the target.
    for index, node in enumerate(comments):
        if src.line_of(src.node_span(node)[0]) == cursor_line:
            found = _instruction_from(src, comments, index)
            if found is not None:
                return found
    for index in range(len(comments)):
        found = _instruction_from(src, comments, index)
        if found is not None and src.line_of(found.end) == first_line - 1:
            return found
    # The target itself may begin with the comment (an empty selection on the comment line).
    for index, node in enumerate(comments):
        if target.start <= src.node_span(node)[0] < target.end:
            found = _instruction_from(src, comments, index)
            if found is not None:
                return found
    return None
