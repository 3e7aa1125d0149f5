"""Agent files: the Claude Code format read exactly, precedence, and broken files reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.agents import (
    AgentFileError,
    discover,
    is_agent_file,
    load_agent_file,
    parse_agent,
)

CANONICAL = Path(__file__).parent / "fixtures" / "agents" / "backend-engineer.md"


def _agent(text: str):  # type: ignore[no-untyped-def]
    return parse_agent(text, Path("/w/.claude/agents/a.md"), "workspace")


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _simple(name: str, prompt: str = "You help.", model: str = "sonnet") -> str:
    return f"---\nname: {name}\ndescription: Helps with {name}\nmodel: {model}\n---\n{prompt}\n"


def test_the_canonical_agent_loads_with_its_name_model_and_verbatim_body() -> None:
    agent = load_agent_file(CANONICAL, "workspace")
    text = CANONICAL.read_text(encoding="utf-8")
    assert agent.name == "backend-engineer"
    assert agent.model == "inherit"
    assert agent.description.startswith("Use this agent when")
    assert agent.description.count("<example>") == 3
    assert agent.prompt == text.split("---\n", 2)[2].lstrip("\n")
    assert agent.prompt.startswith("You are a senior backend software engineer")
    assert agent.prompt.rstrip().endswith("trade-offs or considerations.")
    assert agent.summary.startswith("Use this agent when you need backend development expertise")
    assert "<example>" not in agent.summary


def test_tools_may_be_a_comma_separated_string_or_a_list() -> None:
    assert _agent(_simple("a").replace("model", "tools: Read, Grep,Glob\nmodel")).tools == (
        "Read",
        "Grep",
        "Glob",
    )
    listed = "---\nname: a\ndescription: d\ntools:\n  - Read\n  - Edit\n---\nbody\n"
    assert _agent(listed).tools == ("Read", "Edit")
    assert _agent(_simple("a")).tools is None


def test_unknown_keys_and_color_are_kept() -> None:
    agent = _agent("---\nname: a\ndescription: d\ncolor: green\npriority: 3\n---\nbody\n")
    assert agent.color == "green"
    assert agent.extra == {"priority": 3}


@pytest.mark.parametrize(
    "model", ["sonnet", "opus", "haiku", "inherit", "claude-sonnet-4-5-20250929"]
)
def test_model_aliases_and_full_ids_are_accepted(model: str) -> None:
    assert _agent(_simple("a", model=model)).model == model


def test_an_unquoted_description_with_colons_and_quotes_is_tolerated() -> None:
    text = (
        "---\nname: a\ndescription: Use it when: the user says 'go' <example>user: hi</example>\n"
        "model: haiku\n---\nbody\n"
    )
    agent = _agent(text)
    assert agent.description == "Use it when: the user says 'go' <example>user: hi</example>"
    assert agent.model == "haiku"


def test_crlf_line_endings_and_a_byte_order_mark_are_tolerated() -> None:
    agent = _agent("\ufeff" + _simple("a", prompt="Line one.\nLine two.").replace("\n", "\r\n"))
    assert agent.name == "a" and agent.prompt == "Line one.\nLine two.\n"


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("---\nname: a\ndescription: d\ntools: [Read, Grep\n---\nbody\n", "not valid YAML", 4),
        ("---\ndescription: d\n---\nbody\n", "missing required field 'name'", 1),
        ("---\nname: Bad Name\ndescription: d\n---\nbody\n", "lowercase letters", 1),
        ("---\nname: a\n---\nbody\n", "'description'", 1),
        ("just markdown\n", "no YAML frontmatter", 0),
        ("---\nname: a\ndescription: d\n---\n\n", "no prompt", 4),
    ],
)
def test_broken_files_are_reported_with_a_sentence_and_a_line(
    text: str, words: str, line: int
) -> None:
    with pytest.raises(AgentFileError) as caught:
        _agent(text)
    assert words in caught.value.error.message
    assert caught.value.error.line == line


def test_workspace_agents_win_over_user_agents(tmp_path: Path) -> None:
    root, user = tmp_path / "w", tmp_path / "user"
    _write(root / ".claude" / "agents", "be.md", _simple("backend-engineer", "workspace prompt"))
    _write(user, "be.md", _simple("backend-engineer", "user prompt"))
    _write(user, "reviewer.md", _simple("reviewer"))

    found = discover([root], user)

    assert [a.name for a in found.ordered()] == ["backend-engineer", "reviewer"]
    backend = found.get("backend-engineer")
    assert backend is not None and backend.prompt == "workspace prompt\n"
    assert found.default().name == "backend-engineer"


def test_the_bundled_agent_is_used_only_when_no_other_agent_exists(tmp_path: Path) -> None:
    bundled = discover([tmp_path], tmp_path / "no-user-dir")
    (agent,) = bundled.ordered()
    assert (agent.name, agent.source, agent.model) == ("backend-engineer", "bundled", "sonnet")

    _write(tmp_path / ".claude" / "agents", "r.md", _simple("reviewer"))
    assert [a.source for a in discover([tmp_path], None).ordered()] == ["workspace"]


def test_a_broken_file_is_skipped_while_the_others_load(tmp_path: Path) -> None:
    agents = tmp_path / ".claude" / "agents"
    _write(agents, "good.md", _simple("good"))
    broken = _write(agents, "broken.md", "---\nname: [\n---\nbody\n")
    _write(agents, "notes.txt", "not an agent")

    found = discover([tmp_path], None)

    assert list(found.agents) == ["good"]
    (error,) = found.errors
    assert error.path == broken


def test_agent_files_are_recognised_only_in_agent_folders(tmp_path: Path) -> None:
    user = tmp_path / "user"
    assert is_agent_file(tmp_path / ".claude" / "agents" / "a.md", [tmp_path], user)
    assert is_agent_file(user / "b.md", [tmp_path], user)
    assert not is_agent_file(tmp_path / "README.md", [tmp_path], user)
    assert not is_agent_file(tmp_path / ".claude" / "agents" / "a.txt", [tmp_path], user)
