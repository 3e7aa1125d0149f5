"""The VS Code extension in real VS Code: code-server with the packaged .vsix, driven in Chromium.

`scripts/editor-deps` (run by `scripts/test`) installs what this needs; when something is missing the
test fails with the command to run, it never skips.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editors.script import SEND_201, SEND_LINE, answer_201, run_driver
from tests.fakes.anthropic_api import FakeAnthropic, Reply, text_reply, tool_reply
from tests.helpers import DUMMY_KEY, REPO

pytestmark = pytest.mark.heavy

HERE = Path(__file__).parent / "vscode"
VSIX = REPO / "editors" / "vscode" / "subagent-lsp.vsix"
CODE_SERVER = HERE / "node_modules" / ".bin" / "code-server"
# scripts/editor-deps links Node.js 24 from the test extra's wheel next to the interpreter.
NODE = Path(sys.executable).parent / "node"
CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "run scripts/editor-deps (scripts/test does) to install it"

# Every run opens users.ts: the status bar names the extension and the agent, the file its route.
USERS_ROUTE = {
    "STATUS_TEXT": "subagent-lsp: backend-engineer",
    "ROUTE_NAME": "users.ts",
    "FILE_SHOWS": "return reply.send(created)",
}

REVIEWER = """---
name: api-reviewer
description: Reviews Fastify routes for HTTP semantics.
model: haiku
---
You review HTTP APIs.
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"code-server exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"code-server did not answer:\n{log.read_text(errors='replace')}")


class CodeServer:
    """code-server with the packaged extension, on a copy of examples/ with two workspace agents."""

    def __init__(
        self,
        project: Path,
        home: Path,
        fake_api: FakeAnthropic,
        tmp_path: Path,
        *,
        key: bool = True,
    ) -> None:
        for needed in (VSIX, CODE_SERVER, NODE, CHROMIUM):
            assert needed.exists(), f"{needed} is missing: {INSTALL_HINT}"
        (project / ".claude" / "agents" / "api-reviewer.md").write_text(REVIEWER, encoding="utf-8")
        self.project, self.tmp_path = project, tmp_path
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
        self.env.update(
            {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_DATA_HOME": str(home / ".data"),
                "PATH": f"{NODE.parent}{os.pathsep}{self.env.get('PATH', '')}",
                "ANTHROPIC_BASE_URL": fake_api.base_url,
            }
        )
        if key:
            self.env["ANTHROPIC_API_KEY"] = DUMMY_KEY

    def start(self, *, trusted: bool) -> None:
        user_data, extensions = self.tmp_path / "user-data", self.tmp_path / "extensions"
        (user_data / "User").mkdir(parents=True)
        settings = {
            "subagentLsp.pythonPath": sys.executable,
            "security.workspace.trust.enabled": not trusted,
            "security.workspace.trust.startupPrompt": "never",
            "workbench.startupEditor": "none",
            "workbench.secondarySideBar.defaultVisibility": "hidden",
            "chat.disableAIFeatures": True,
            "telemetry.telemetryLevel": "off",
            "extensions.autoCheckUpdates": False,
            "extensions.autoUpdate": False,
            "workbench.tips.enabled": False,
            # Only the keyboard shows hovers, so a resting mouse cannot spend a scripted reply.
            "editor.hover.enabled": False,
            "editor.stickyScroll.enabled": False,
        }
        (user_data / "User" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
        subprocess.run(
            [str(CODE_SERVER), *common, "--install-extension", str(VSIX)],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = self.tmp_path / "code-server.log"
        flags = [
            "--auth=none",
            f"--bind-addr=127.0.0.1:{port}",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-getting-started-override",
        ]
        if trusted:
            flags.append("--disable-workspace-trust")
        with log.open("wb") as out:
            self._process = subprocess.Popen(
                [str(CODE_SERVER), *common, *flags, str(self.project)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_until_serving(self.url, self._process, log)

    def drive(self, steps: str, **inputs: str) -> dict[str, Any]:
        """Run the browser driver for ``steps``; what it saw, or a failed assertion with why."""
        result_file, screenshot = self.tmp_path / "result.json", self.tmp_path / "failure.png"
        env = {
            **self.env,
            "CODE_SERVER_URL": self.url,
            "WORKSPACE": str(self.project),
            "CHROMIUM": str(CHROMIUM),
            "RESULT": str(result_file),
            "SCREENSHOT": str(screenshot),
            "STEPS": steps,
            "ROUTE_FILE": str(self.project / "src/routes/users.ts"),
            **inputs,
        }
        result = run_driver(
            [str(NODE), str(HERE / "drive.mjs")],
            env=env,
            cwd=HERE,
            timeout=420,
            result_file=result_file,
        )
        assert result["error"] is None, f"{result['error']}\n(screenshot: {screenshot})"
        return result

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()


@pytest.fixture
def code_server(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> Iterator[CodeServer]:
    server = CodeServer(project, home, fake_api, tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _line_of(text: str, line: str) -> str:
    return str(text.splitlines().index(line) + 1)


DELETE_LINE = "    await db.delete(users).where(eq(users.id, Number(id)));"
DELETE_COMMENT = "    // Deleting a missing user is not an error."
POST_LINE = '  app.post("/users", async (request, reply) => {'
UNVALIDATED = "request.body as { email: string; displayName: string; role?: string }"
VALIDATED = "createUserBody.parse(request.body)"


def _ask_inputs(original: str) -> dict[str, str]:
    """ "Ask agent…" on the delete statement, answered by ``_comment_the_delete``."""
    return {
        "ASK_LINE": _line_of(original, DELETE_LINE),
        "ASK_AGENT": "backend-engineer",
        "ASK_INSTRUCTION": "explain why deleting is idempotent",
        "ASK_PROGRESS": "backend-engineer: Ask",
        "ASK_RESULT": DELETE_COMMENT.strip(),
    }


def _comment_the_delete(**slow: float) -> list[Reply]:
    return [
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/users.ts",
                    "old_str": f"{DELETE_LINE}\n",
                    "new_str": f"{DELETE_COMMENT}\n{DELETE_LINE}\n",
                }
            ],
            **slow,
        ),
        text_reply("Documented the delete."),
    ]


def test_code_action_ask_agent_and_hover_work_in_real_vscode(
    code_server: CodeServer, project: Path, fake_api: FakeAnthropic
) -> None:
    """Each agent change is shown as a diff first: the action's is accepted from the notification,
    the ask's discarded, the quick fix's accepted with the diff's own Accept button."""
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    fake_api.enqueue(
        *answer_201(),
        # Slow enough for the progress in the status bar to be seen.
        *_comment_the_delete(delay=3.0),
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
    code_server.start(trusted=True)
    result = code_server.drive(
        "codeAction@accept,askAgent@discard,hover,quickFix@title",
        **USERS_ROUTE,
        ACTION_LINE=_line_of(original, SEND_LINE),
        ACTION_TITLE="Agent: Follow REST conventions and status codes",
        ACTION_RESULT="return reply.code(201).send(created)",
        **_ask_inputs(original),
        HOVER_AT=_line_of(original, POST_LINE) + ":8",
        HOVER_EXPECT="Creates a user; the body is not validated.",
        FIX_AT=_line_of(original, POST_LINE) + ":8",
        FIX_TITLE="Fix with backend-engineer",
        FIX_RESULT=VALIDATED,
    )

    # The discarded comment is nowhere: not in the file, not in the editor, no unsaved tab.
    expected = original.replace(f"{SEND_LINE}\n", f"{SEND_201}\n").replace(UNVALIDATED, VALIDATED)
    assert route.read_text(encoding="utf-8") == expected
    assert "subagent-lsp: backend-engineer" in result["status"]
    action = result["steps"][0]
    assert any("Follow REST conventions" in t for t in action["titles"])
    # Before it was accepted, the change was a diff and a question, and the file was as it was.
    assert "users.ts" in action["review"]["tab"] and "backend-engineer" in action["review"]["tab"]
    assert "Accept" in action["review"]["notification"]
    assert SEND_201.strip() not in action["review"]["current"]
    assert SEND_201.strip() not in action["review"]["onDisk"]
    discarded = result["steps"][1]["review"]
    assert DELETE_COMMENT.strip() not in discarded["afterDiscard"]
    assert DELETE_COMMENT.strip() not in discarded["onDisk"]
    assert discarded["dirtyTabs"] == 0
    # The picker offers every agent, the default one first, each with its model.
    picked = result["steps"][1]["agents"]
    assert len(picked) == 2
    assert picked[0].startswith("backend-engineer") and "claude-sonnet-5-5" in picked[0]
    assert picked[1].startswith("api-reviewer") and "claude-haiku-5-5" in picked[1]
    progress = result["steps"][1]["progress"]
    assert "starting" in progress or "tokens" in progress
    ask_prompt = "\n".join(b["text"] for b in fake_api.requests[2].body["messages"][0]["content"])
    assert "explain why deleting is idempotent" in ask_prompt
    assert "POST /users" in result["hover"]
    assert "Creates a user; the body is not validated." in result["hover"]
    # The hint on the unvalidated body, fixed through its quick fix.
    assert "Fix with backend-engineer" in result["steps"][-1]["titles"]
    fix_prompt = "\n".join(b["text"] for b in fake_api.requests[-2].body["messages"][0]["content"])
    assert "POST /users reads body that nothing validates" in fix_prompt


def test_an_untrusted_folder_cannot_supply_its_own_agents(
    code_server: CodeServer, project: Path, fake_api: FakeAnthropic
) -> None:
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    # The folder also tries to turn its agents back on through its own settings.
    (project / ".vscode").mkdir()
    (project / ".vscode" / "settings.json").write_text(
        json.dumps({"subagentLsp.workspaceAgents": True}), encoding="utf-8"
    )
    fake_api.enqueue(*_comment_the_delete(delay=1.0))
    code_server.start(trusted=False)
    result = code_server.drive(
        "askAgent@accept",
        **USERS_ROUTE,
        **_ask_inputs(original),
    )

    # Only the bundled agent is offered (no picker, no api-reviewer), and it is what the model hears.
    assert result["steps"][0]["agents"] == []
    assert "backend-engineer" in result["askPrompt"]
    workspace_prompt = (project / ".claude/agents/backend-engineer.md").read_text(encoding="utf-8")
    system = fake_api.requests[0].body["system"]
    system_text = system if isinstance(system, str) else "".join(b["text"] for b in system)
    assert "app.build platform" in workspace_prompt
    assert "app.build platform" not in system_text
    assert DELETE_COMMENT in route.read_text(encoding="utf-8")


ANALYZER = """---
name: codebase-analyzer
description: Analyses how backend API routes, handlers and database queries work; use proactively.
tools: Read, Grep, Glob, LS
---
You explain how the backend code works, with file and line references.
"""
FINDING = "Deleting a missing user answers 200 as if it existed."


def test_a_review_shows_problems_whose_quick_fix_ends_in_an_edit(
    code_server: CodeServer, project: Path, fake_api: FakeAnthropic
) -> None:
    """A read-only agent reviews; its finding is a problem with the agent as source, and "Fix with
    backend-engineer" on it runs the editing agent, whose change is accepted from its diff."""
    (project / ".claude/agents/codebase-analyzer.md").write_text(ANALYZER, encoding="utf-8")
    route = project / "src/routes/users.ts"
    original = route.read_text(encoding="utf-8")
    delete_line = int(_line_of(original, DELETE_LINE))
    finding = {
        "path": "src/routes/users.ts",
        "start_line": delete_line,
        "end_line": delete_line,
        "severity": "warning",
        "message": FINDING,
        "fix": "Say why deleting is idempotent.",
    }
    fake_api.enqueue(
        tool_reply([finding], tool_name="report_finding"),
        text_reply("One finding."),
        *_comment_the_delete(),
    )
    code_server.start(trusted=True)
    result = code_server.drive(
        "codeAction,problems,quickFix@accept",
        **USERS_ROUTE,
        ACTION_LINE=str(delete_line),
        ACTION_TITLE="Review with codebase-analyzer",
        PROBLEM=FINDING,
        FIX_AT=f"{delete_line}:10",
        FIX_TITLE="Fix with backend-engineer",
        FIX_RESULT=DELETE_COMMENT.strip(),
    )

    (problem,) = [row for row in result["steps"][1]["rows"] if FINDING in row]
    assert "codebase-analyzer" in problem
    fix_prompt = "\n".join(b["text"] for b in fake_api.requests[-2].body["messages"][0]["content"])
    assert FINDING in fix_prompt
    expected = original.replace(f"{DELETE_LINE}\n", f"{DELETE_COMMENT}\n{DELETE_LINE}\n")
    assert route.read_text(encoding="utf-8") == expected


def test_without_a_key_the_editor_says_so_and_opens_the_setting(
    project: Path, home: Path, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    """The status bar warns and opens the key's setting; "Ask agent…" and a failed action say
    what is missing with an "Open settings" button; no instruction is asked for, no model called."""
    original = (project / "src/routes/users.ts").read_text(encoding="utf-8")
    server = CodeServer(project, home, fake_api, tmp_path, key=False)
    try:
        server.start(trusted=True)
        result = server.drive(
            "statusBar,askWithoutKey,actionWithoutKey",
            **{**USERS_ROUTE, "STATUS_TEXT": "subagent-lsp: no API key"},
            SETTING="Api Key",
            NO_KEY_ASK="needs an Anthropic API key",
            NO_KEY_ACTION="No Anthropic API key is set",
            ACTION_LINE=_line_of(original, SEND_LINE),
            ACTION_TITLE="Follow REST conventions and status codes",
        )
    finally:
        server.stop()

    steps = {step["step"]: step for step in result["steps"]}
    status, ask, action = steps["statusBar"], steps["askWithoutKey"], steps["actionWithoutKey"]
    assert "warning-kind" in status["classes"]
    assert "Api Key" in status["setting"]
    assert ask["asked"] is False and "Open settings" in ask["notification"]
    assert "Open settings" in action["notification"]
    assert fake_api.requests == []
