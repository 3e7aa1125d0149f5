"""Agent files as Claude Code reads them, and what each agent may do in the editor."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.agents import AgentFileError, parse_agent
from subagent_lsp.capabilities import capabilities


def _agent(front: str):  # type: ignore[no-untyped-def]
    return parse_agent(
        f"---\nname: a\ndescription: d\n{front}---\nPrompt.\n", Path("/w/a.md"), "workspace"
    )


@pytest.mark.parametrize(
    ("tools", "disallowed", "mode", "read", "search", "edit", "absent"),
    [
        (
            None,
            (),
            "default",
            True,
            True,
            True,
            ("Bash", "WebFetch", "WebSearch", "NotebookEdit", "Task"),
        ),
        (("Read", "Grep", "Glob", "LS"), (), "default", True, True, False, ()),
        (("Read", "Edit"), (), "default", True, False, True, ()),
        (("Read", "Edit"), (), "plan", True, False, False, ()),
        (
            None,
            ("Edit", "Write", "MultiEdit"),
            "default",
            True,
            True,
            False,
            ("Bash", "WebFetch", "WebSearch", "NotebookEdit", "Task"),
        ),
        (("Edit",), ("Edit",), "default", False, False, False, ()),
        (
            ("mcp__github__create_issue", "Bash(npm test:*)"),
            (),
            "default",
            False,
            False,
            False,
            ("mcp__github__create_issue", "Bash(npm test:*)"),
        ),
        (("Write",), (), "acceptEdits", True, False, True, ()),
        ((), (), "default", False, False, False, ()),
    ],
)
def test_tools_map_onto_what_the_editor_offers(
    tools: tuple[str, ...] | None,
    disallowed: tuple[str, ...],
    mode: str,
    read: bool,
    search: bool,
    edit: bool,
    absent: tuple[str, ...],
) -> None:
    able = capabilities(tools, disallowed, mode)
    assert (able.can_read, able.can_search, able.can_edit, able.absent) == (
        read,
        search,
        edit,
        absent,
    )


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("tools: Read, Grep\n", {"tools": ("Read", "Grep")}),
        ("tools:\n  - Read\n  - Edit\n", {"tools": ("Read", "Edit")}),
        ("disallowedTools: Write, Edit\n", {"disallowed_tools": ("Write", "Edit")}),
        ("permissionMode: plan\n", {"permission_mode": "plan"}),
        ("permissionMode: acceptEdits\n", {"permission_mode": "acceptEdits"}),
        ("maxTurns: 3\n", {"max_turns": 3}),
        ("skills: a, b\n", {"skills": ("a", "b")}),
        ("model: claude-opus-5-5\n", {"model": "claude-opus-5-5"}),
        ("model: haiku\n", {"model": "haiku"}),
        (
            "hooks: {}\nmcpServers: [github]\nmemory: project\nbackground: true\neffort: high\n"
            "isolation: worktree\ninitialPrompt: hi\ncolor: cyan\n",
            {"color": "cyan"},
        ),
    ],
)
def test_claude_code_fields_are_read(front: str, expected: dict[str, object]) -> None:
    agent = _agent(front)
    assert {key: getattr(agent, key) for key in expected} == expected


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("model: gpt-5\n", "cannot map it"),
        ("permissionMode: yolo\n", "'permissionMode' must be one of"),
        ("maxTurns: 0\n", "'maxTurns' must be a whole number"),
        ("maxTurns: many\n", "'maxTurns' must be a whole number"),
        ("disallowedTools: 3\n", "'disallowedTools' must be"),
        ("skills: {a: 1}\n", "'skills' must be"),
    ],
)
def test_what_the_editor_cannot_use_is_a_clear_error(front: str, message: str) -> None:
    with pytest.raises(AgentFileError, match=message):
        _agent(front)


@pytest.mark.parametrize(
    ("tools", "disallowed", "web", "absent_with_web"),
    [
        (None, (), ("WebFetch", "WebSearch"), ("Bash", "NotebookEdit", "Task")),
        (("WebSearch", "Read"), (), ("WebSearch",), ()),
        (("WebSearch(domain:zod.dev)",), (), ("WebSearch",), ()),
        (None, ("WebFetch",), ("WebSearch",), ("Bash", "NotebookEdit", "Task")),
        (("Read", "Grep"), (), (), ()),
    ],
)
def test_web_tools_are_named_and_offered_only_on_request(
    tools: tuple[str, ...] | None,
    disallowed: tuple[str, ...],
    web: tuple[str, ...],
    absent_with_web: tuple[str, ...],
) -> None:
    able = capabilities(tools, disallowed, "default")
    assert able.web == web
    assert all(any(a.startswith(w) for a in able.absent) for w in web), "left out by default"
    assert able.with_web().absent == absent_with_web
