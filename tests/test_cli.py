"""The command line, run as a user runs it: a real process against the fake API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.anthropic_api import FakeAnthropic, error_reply, text_reply, tool_reply
from tests.helpers import DUMMY_KEY


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "subagent_lsp", *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _route_line(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_agents_lists_the_workspace_agent_and_broken_files(project: Path, home: Path) -> None:
    (project / ".claude/agents/broken.md").write_text("---\nname: [\n---\nbody\n", encoding="utf-8")

    done = _run(["agents", str(project)], {"HOME": str(home)}, project)

    assert done.returncode == 0
    assert done.stdout.startswith("backend-engineer\tinherit\tworkspace\t")
    assert "broken.md" in done.stderr


def test_ask_without_a_key_shows_the_request_and_how_to_set_a_key(
    project: Path, home: Path
) -> None:
    route = project / "src/routes/users.ts"
    line = _route_line(route, "app.post(")

    done = _run(
        ["ask", f"{route}:{line}", "Validate the body with Zod"], {"HOME": str(home)}, project
    )

    assert done.returncode == 3
    assert "You are a senior backend software engineer" in done.stdout
    assert "Validate the body with Zod" in done.stdout
    assert "src/routes/users.ts" in done.stdout
    assert "ANTHROPIC_API_KEY" in done.stderr


def test_ask_prints_a_diff_and_apply_writes_it(
    project: Path, home: Path, fake_api: FakeAnthropic
) -> None:
    route = project / "src/routes/health.ts"
    original = route.read_text(encoding="utf-8")
    line = _route_line(route, "app.get(")
    first_line = original.splitlines()[line - 1]
    env = {
        "HOME": str(home),
        "ANTHROPIC_API_KEY": DUMMY_KEY,
        "ANTHROPIC_BASE_URL": fake_api.base_url,
    }
    edit = {
        "command": "str_replace",
        "path": "src/routes/health.ts",
        "old_str": first_line,
        "new_str": first_line + " // checked",
    }
    fake_api.enqueue(tool_reply([edit]), text_reply("Marked the route."))

    shown = _run(["ask", f"{route}:{line}", "Mark it"], env, project)

    assert shown.returncode == 0, shown.stderr
    assert f"+{first_line} // checked" in shown.stdout
    assert route.read_text(encoding="utf-8") == original

    fake_api.enqueue(tool_reply([edit]), text_reply("Marked the route."))
    written = _run(["ask", f"{route}:{line}", "Mark it", "--apply"], env, project)

    assert written.returncode == 0, written.stderr
    assert route.read_text(encoding="utf-8") == original.replace(
        first_line, first_line + " // checked", 1
    )


def test_the_server_also_speaks_lsp_over_tcp(home: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["HOME"] = str(home)
    server = subprocess.Popen(
        [sys.executable, "-m", "subagent_lsp", "--tcp", f"127.0.0.1:{port}"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with connection:
            body = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": None, "capabilities": {}},
                }
            ).encode()
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            received = b""
            while b'"result"' not in received:
                chunk = connection.recv(65536)
                assert chunk, "the server closed the connection"
                received += chunk
        reply = next(m for m in _messages(received) if m.get("id") == 1)
        assert reply["result"]["serverInfo"]["name"] == "subagent-lsp"
        assert reply["result"]["capabilities"]["codeActionProvider"]["codeActionKinds"] == [
            "refactor.rewrite.agent"
        ]
    finally:
        server.terminate()
        server.wait(10)


def _messages(stream: bytes) -> list[dict[str, object]]:
    """Split an LSP byte stream into its JSON messages by their Content-Length headers."""
    out = []
    while stream:
        head, _, rest = stream.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
        out.append(json.loads(rest[:length]))
        stream = rest[length:]
    return out


def test_the_key_appears_in_no_output_even_when_the_call_fails(
    project: Path, home: Path, fake_api: FakeAnthropic
) -> None:
    sentinel = "sk-ant-sentinel-7f3a9c-never-print-me"
    env = {
        "HOME": str(home),
        "ANTHROPIC_API_KEY": sentinel,
        "ANTHROPIC_BASE_URL": fake_api.base_url,
    }
    route = project / "src/routes/users.ts"
    line = _route_line(route, "app.post(")
    fake_api.enqueue(error_reply(401, "authentication_error", f"invalid x-api-key {sentinel[:12]}"))

    context = _run(["context", f"{route}:{line}"], env, project)
    failed = _run(["ask", f"{route}:{line}", "Validate the body"], env, project)

    assert context.returncode == 0, context.stderr
    assert failed.returncode != 0
    assert "rejected the API key (401)" in failed.stderr
    for output in (context.stdout, context.stderr, failed.stdout, failed.stderr):
        assert sentinel not in output
    # The key went where it belongs: to the API, and only there.
    (request,) = fake_api.requests
    assert sentinel in request.headers.get("x-api-key", request.headers.get("authorization", ""))
