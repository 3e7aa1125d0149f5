"""subagent-lsp beside typescript-language-server, in one run: start-up, code actions, the action
pipeline without the model, memory, and the cached share of each request.

Run it through benchmarks/run, which installs typescript-language-server from npm first.
Both servers run as subprocesses over stdio and are driven by pytest-lsp's client, on the same
documents and ranges. The model is the test suite's fake Messages API on 127.0.0.1, answering at
once, so what is measured is everything that is not the model. Medians unless it says p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from context_bench import generated_routes  # noqa: E402
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply  # noqa: E402

EXAMPLES = HERE.parent / "examples"
TLS = HERE / "node_modules" / ".bin" / "typescript-language-server"
TSSERVER = HERE / "node_modules" / "typescript" / "lib" / "tsserver.js"
CASES = [
    ("src/routes/users.ts", 'app.post("/users"'),
    ("src/routes/posts.ts", "const rows = await db"),
    ("src/routes/reports.ts", 'app.get("/reports/170/:id"'),
]


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def _position(text: str, offset: int) -> types.Position:
    before = text[:offset]
    return types.Position(line=before.count("\n"), character=offset - (before.rfind("\n") + 1))


def _rss_mb(client: LanguageClient) -> float:
    process = client._server
    assert process is not None
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], options: Any) -> None:
        self.name, self.command, self.env, self.options = name, command, env, options
        self.client: LanguageClient | None = None
        self.opened: set[str] = set()

    async def start(self, root: Path) -> tuple[float, LanguageClient]:
        started = time.perf_counter()
        client = await ClientServerConfig(server_command=self.command, server_env=self.env).start()
        client.feature(types.WORKSPACE_APPLY_EDIT)(_accept_edit)
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options=self.options,
            )
        )
        self.client = client
        return (time.perf_counter() - started) * 1000, client

    def open(self, path: Path) -> str:
        assert self.client is not None
        uri = path.as_uri()
        if uri not in self.opened:
            self.opened.add(uri)
            self.client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=uri,
                        language_id="typescript",
                        version=1,
                        text=path.read_text(encoding="utf-8"),
                    )
                )
            )
        return uri

    async def code_action(self, uri: str, at: types.Position) -> float:
        assert self.client is not None
        started = time.perf_counter()
        await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=at, end=at),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        return (time.perf_counter() - started) * 1000

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.shutdown_session()
            await self.client.stop()


async def _accept_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
    return types.ApplyWorkspaceEditResult(applied=True)


async def suite(runs: int) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"runs: {runs} per measurement\n")
    with FakeAnthropic() as api, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "examples"
        shutil.copytree(EXAMPLES, root)
        root = root.resolve()
        (root / "src/routes/reports.ts").write_text(generated_routes(5000), encoding="utf-8")
        home = Path(tmp) / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
        env.update(
            {
                "HOME": str(home),
                "ANTHROPIC_API_KEY": "bench-dummy-key",
                "ANTHROPIC_BASE_URL": api.base_url,
            }
        )
        ours = Server(
            "subagent-lsp",
            [sys.executable, "-m", "subagent_lsp", "--log-level", "WARNING"],
            env,
            None,
        )
        theirs = Server(
            "typescript-language-server",
            [str(TLS), "--stdio"],
            env,
            {"tsserver": {"path": str(TSSERVER)}},
        )

        # Start-up: process start to the initialize answer, and to the first code-action answer.
        print("## Start-up (ms)")
        print(f"{'server':28} {'initialize':>11} {'first code action':>18}")
        for server in (ours, theirs):
            init_times, first_times = [], []
            for _ in range(max(3, runs // 20)):
                started = time.perf_counter()
                init_ms, _ = await server.start(root)
                uri = server.open(root / CASES[0][0])
                text = (root / CASES[0][0]).read_text(encoding="utf-8")
                await server.code_action(uri, _position(text, text.index(CASES[0][1])))
                first_times.append((time.perf_counter() - started) * 1000)
                init_times.append(init_ms)
                await server.stop()
                server.opened.clear()
            print(
                f"{server.name:28} {statistics.median(init_times):11.0f} "
                f"{statistics.median(first_times):18.0f}"
            )

        # Code-action latency on the same documents and ranges, warm.
        for server in (ours, theirs):
            await server.start(root)
        print("\n## textDocument/codeAction (ms)")
        print(f"{'document':34} {'ours med':>9} {'p95':>6} {'tsls med':>9} {'p95':>6} {'ratio':>6}")
        for relative, needle in CASES:
            text = (root / relative).read_text(encoding="utf-8")
            at = _position(text, text.index(needle))
            timings: dict[str, list[float]] = {}
            for server in (ours, theirs):
                uri = server.open(root / relative)
                for _ in range(5):
                    await server.code_action(uri, at)  # warm-up: project load, first parse
                timings[server.name] = [await server.code_action(uri, at) for _ in range(runs)]
            mine, other = timings[ours.name], timings[theirs.name]
            label = f"{relative.split('/')[-1]} ({text.count(chr(10))} lines)"
            print(
                f"{label:34} {statistics.median(mine):9.2f} {_p95(mine):6.2f} "
                f"{statistics.median(other):9.2f} {_p95(other):6.2f} "
                f"{statistics.median(mine) / statistics.median(other):6.2f}"
            )

        # The whole action with a model that answers at once: everything that is not the model.
        assert ours.client is not None
        route = root / "src/routes/health.ts"
        uri = ours.open(route)
        original = route.read_text(encoding="utf-8")
        edit = {
            "command": "str_replace",
            "path": "src/routes/health.ts",
            "old_str": 'status: "ok"',
            "new_str": 'status: "ok", checkedAt: Date.now()',
        }
        pipeline: list[float] = []
        for version in range(2, runs + 2):
            api.enqueue(tool_reply([edit]), text_reply("Done."))
            arguments = [
                {
                    "uri": uri,
                    "range": {
                        "start": {"line": 6, "character": 4},
                        "end": {"line": 6, "character": 4},
                    },
                    "agent": "backend-engineer",
                    "action": "error-handling",
                }
            ]
            started = time.perf_counter()
            result = await ours.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="subagent-lsp.runAction", arguments=arguments)
            )
            pipeline.append((time.perf_counter() - started) * 1000)
            assert result["applied"], result
            # The editor accepted the edit; put the text back for the next run.
            ours.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=original)],
                )
            )
        print("\n## One action with a zero-latency model (single-file edit), ms")
        print(
            f"median {statistics.median(pipeline):.1f}, p95 {_p95(pipeline):.1f} "
            "(two model turns, tool execution, edit built and applied)"
        )

        # Consecutive actions: how much of each request is the byte-identical cached prefix.
        bodies = [r.body for r in api.requests[-4:] if r.body.get("messages")]
        prefixes = [json.dumps([b.get("tools"), b.get("system")], sort_keys=True) for b in bodies]
        shares = [
            len(p) / len(json.dumps(b, sort_keys=True))
            for p, b in zip(prefixes, bodies, strict=True)
        ]
        print("\n## Cached prefix across consecutive requests")
        print(
            f"identical prefix in all {len(prefixes)} requests: {len(set(prefixes)) == 1}; "
            f"share of the request: {min(shares):.0%}–{max(shares):.0%}"
        )

        # Memory: idle, then with 200 files open and parsed.
        await ours.stop()
        ours.opened.clear()
        _, client = await ours.start(root)
        await asyncio.sleep(0.5)
        idle = _rss_mb(client)
        many = root / "src" / "many"
        many.mkdir()
        source = (root / "src/routes/posts.ts").read_text(encoding="utf-8")
        for n in range(200):
            path = many / f"route{n}.ts"
            path.write_text(source.replace("/posts", f"/posts{n}"), encoding="utf-8")
            uri = ours.open(path)
            await ours.code_action(uri, _position(source, source.index("const rows")))
        await asyncio.sleep(0.5)
        print("\n## Resident memory of subagent-lsp (MB)")
        print(f"idle {idle:.0f}, with 200 files open {_rss_mb(client):.0f}")
        await ours.stop()
        await theirs.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    if not TLS.exists():
        sys.exit("typescript-language-server is not installed: run benchmarks/run")
    asyncio.run(suite(parser.parse_args().runs))


if __name__ == "__main__":
    main()
