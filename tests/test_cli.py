"""The command line, run as a user runs it: a real process against the fake API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
            "refactor.rewrite.agent",
            "quickfix",
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


def _env(home: Path, fake_api: FakeAnthropic) -> dict[str, str]:
    return {
        "HOME": str(home),
        "ANTHROPIC_API_KEY": DUMMY_KEY,
        "ANTHROPIC_BASE_URL": fake_api.base_url,
    }


def _mark(path: str, line: str) -> dict[str, str]:
    """The model's edit: append a comment to one line."""
    return {
        "command": "str_replace",
        "path": path,
        "old_str": line,
        "new_str": line + " // checked",
    }


def _spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    # As a terminal user runs it: block-buffered output, whatever the test run sets.
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    base.pop("PYTHONUNBUFFERED", None)
    base.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "subagent_lsp", *args],
        cwd=cwd,
        env=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _quiet(stderr: str) -> bool:
    return not any(s in stderr for s in ("Traceback", "BrokenPipeError", "Exception ignored"))


@pytest.mark.parametrize("command", ["context", "ask", "agents"])
def test_a_reader_that_is_gone_ends_the_command_quietly(
    project: Path, home: Path, fake_api: FakeAnthropic, command: str
) -> None:
    route = project / "src/routes/health.ts"
    line = _route_line(route, "app.get(")
    fake_api.enqueue(
        tool_reply(
            [
                _mark(
                    "src/routes/health.ts", route.read_text(encoding="utf-8").splitlines()[line - 1]
                )
            ]
        ),
        text_reply("Marked the route."),
    )
    args = {
        "context": ["context", f"{route}:{line}"],
        "ask": ["ask", f"{route}:{line}", "Mark it"],
        "agents": ["agents", str(project)],
    }[command]

    process = _spawn(args, _env(home, fake_api), project)
    assert process.stdout is not None and process.stderr is not None
    # Nobody will ever read: every write the command makes fails with EPIPE.
    process.stdout.close()
    stderr = process.stderr.read().decode()
    status = process.wait(60)

    assert status == 141, stderr
    assert _quiet(stderr), stderr


@pytest.mark.parametrize("unbuffered", [False, True])
def test_context_piped_into_head_ends_quietly(
    project: Path, home: Path, fake_api: FakeAnthropic, unbuffered: bool
) -> None:
    # A selection is always sent whole, so 3,000 lines print far more than a pipe holds.
    big = project / "src/big.ts"
    big.write_text("".join(f"export const value{n} = {n};\n" for n in range(3000)), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.pop("PYTHONUNBUFFERED", None)
    env.update(_env(home, fake_api))
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    command = f'"{sys.executable}" -m subagent_lsp context src/big.ts:1-3000 | head -1'

    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.stdout.startswith("context: ") and done.stdout.count("\n") == 1
    assert _quiet(done.stderr), done.stderr
    assert done.returncode == 141


def _monorepo(tmp_path: Path) -> tuple[Path, Path]:
    """A git repository with its agents at the top and a backend package in `server/`."""
    repo = tmp_path / "repo"
    handler = repo / "server/src/handlers/users.ts"
    handler.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "package.json").write_text('{"private": true, "workspaces": ["server"]}\n', "utf-8")
    (repo / "server/package.json").write_text(
        '{"name": "server", "type": "module", "dependencies": {"fastify": "^5.0.0"}}\n', "utf-8"
    )
    (repo / "server/tsconfig.json").write_text(
        '{"compilerOptions": {"module": "NodeNext", "strict": true}}\n', "utf-8"
    )
    handler.write_text(
        "export function userName(raw: string): string {\n"
        "  const name = raw.trim();\n"
        "  return name;\n"
        "}\n",
        "utf-8",
    )
    agents = repo / ".claude/agents"
    agents.mkdir(parents=True)
    (agents / "repo-reviewer.md").write_text(
        "---\nname: repo-reviewer\ndescription: Reviews the whole repository.\n---\n"
        "You review code across the repository.\n",
        "utf-8",
    )
    return repo, handler


def _git_apply(patch: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "apply", "-v", *extra, "-"],
        input=patch,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ask_in_a_monorepo_prints_a_diff_git_apply_takes_where_it_ran(
    tmp_path: Path, home: Path, fake_api: FakeAnthropic
) -> None:
    repo, handler = _monorepo(tmp_path)
    original = handler.read_text(encoding="utf-8")
    edit = _mark("server/src/handlers/users.ts", "  const name = raw.trim();")
    env = _env(home, fake_api)

    # From the repository's top, naming the file from there; the agent is the repository's.
    fake_api.enqueue(tool_reply([edit]), text_reply("Marked it."))
    top = _run(
        ["ask", "server/src/handlers/users.ts:2", "Mark it", "--agent", "repo-reviewer"], env, repo
    )

    assert top.returncode == 0, top.stderr
    assert "--- a/server/src/handlers/users.ts" in top.stdout
    checked = _git_apply(top.stdout, repo, "--check")
    assert checked.returncode == 0 and "Skipped" not in checked.stderr, checked.stderr

    # From inside the package: git still reads patch paths from the repository's top.
    fake_api.enqueue(tool_reply([edit]), text_reply("Marked it."))
    inside = _run(["ask", "src/handlers/users.ts:2", "Mark it"], env, repo / "server")

    assert inside.returncode == 0, inside.stderr
    applied = _git_apply(inside.stdout, repo / "server")
    assert applied.returncode == 0 and "Skipped" not in applied.stderr, applied.stderr
    assert handler.read_text(encoding="utf-8") == original.replace("trim();", "trim(); // checked")

    # --apply and context name the file as the diff does.
    handler.write_text(original, encoding="utf-8")
    fake_api.enqueue(tool_reply([edit]), text_reply("Marked it."))
    written = _run(["ask", "server/src/handlers/users.ts:2", "Mark it", "--apply"], env, repo)
    context = _run(["context", "server/src/handlers/users.ts:2"], env, repo)

    assert "wrote server/src/handlers/users.ts" in written.stderr
    assert context.stdout.startswith("context: ")
    assert "workspace .\n" in context.stdout.splitlines(keepends=True)[0]
    assert " server/src/handlers/users.ts: The selection" in context.stdout
    assert " server/package.json: project facts" in context.stdout


def test_context_of_a_file_that_is_not_utf8_says_so_in_one_sentence(
    project: Path, home: Path
) -> None:
    latin1 = project / "src/legacy.ts"
    latin1.write_bytes("export const café = 'crème';\n".encode("latin-1"))

    done = _run(["context", "src/legacy.ts:1"], {"HOME": str(home)}, project)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not UTF-8" in done.stderr, done.stderr


def test_ask_in_a_monorepo_also_finds_the_agents_of_the_files_package(
    tmp_path: Path, home: Path
) -> None:
    repo, _ = _monorepo(tmp_path)
    agents = repo / "server/.claude/agents"
    agents.mkdir(parents=True)
    (agents / "server-engineer.md").write_text(
        "---\nname: server-engineer\ndescription: Works on the server package.\n---\n"
        "You are the server package's engineer.\n",
        "utf-8",
    )
    location = "server/src/handlers/users.ts:2"

    package = _run(
        ["ask", location, "Mark it", "--agent", "server-engineer"], {"HOME": str(home)}, repo
    )
    top = _run(["ask", location, "Mark it", "--agent", "repo-reviewer"], {"HOME": str(home)}, repo)

    # Without a key, ask prints the request it would send: each agent's prompt is in its own.
    assert package.returncode == 3 and "the server package's engineer" in package.stdout
    assert top.returncode == 3 and "You review code across the repository" in top.stdout
