"""Hover latency through the protocol: the static facts, and an explanation served from the cache.

Run: .venv/bin/python benchmarks/hover_bench.py [--runs N]
The server runs as a subprocess over stdio, as an editor starts it; the model is the test suite's
fake Messages API on 127.0.0.1, used once per hover target to fill the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.anthropic_api import FakeAnthropic, text_reply

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TARGETS = [
    ("src/routes/users.ts", 'app.post("/users"', 4, "route"),
    ("src/routes/users.ts", "users.createdAt", 2, "table"),
    ("src/routes/posts.ts", "const rows = await db", 20, "query"),
    ("src/routes/posts.ts", "listPostsQuery.parse", 3, "zod schema"),
    ("src/routes/posts.ts", "function slugify", 3, "nothing to say"),
]


def _position(text: str, needle: str, delta: int) -> types.Position:
    offset = text.index(needle) + delta
    before = text[:offset]
    return types.Position(line=before.count("\n"), character=offset - (before.rfind("\n") + 1))


async def _run(runs: int) -> None:
    with FakeAnthropic() as api, tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
        env.update(
            {
                "HOME": home,
                "ANTHROPIC_API_KEY": "bench-dummy-key",
                "ANTHROPIC_BASE_URL": api.base_url,
            }
        )
        client = await ClientServerConfig(
            server_command=[sys.executable, "-m", "subagent_lsp", "--log-level", "WARNING"],
            server_env=env,
        ).start()
        root = EXAMPLES.resolve()
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="examples")],
            )
        )
        texts = {}
        for relative in {t[0] for t in TARGETS}:
            texts[relative] = (root / relative).read_text(encoding="utf-8")
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=(root / relative).as_uri(),
                        language_id="typescript",
                        version=1,
                        text=texts[relative],
                    )
                )
            )

        async def hover(relative: str, needle: str, delta: int) -> float:
            params = types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=(root / relative).as_uri()),
                position=_position(texts[relative], needle, delta),
            )
            started = time.perf_counter()
            await client.text_document_hover_async(params)
            return (time.perf_counter() - started) * 1000

        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        print(f"runs per target: {runs}, round trip through stdio (medians and p95)\n")
        print(f"{'hover':34} {'static ms':>10} {'p95':>6} {'cache hit ms':>13} {'p95':>6}")
        for relative, needle, delta, label in TARGETS:
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(
                    settings={"subagentLsp": {"hoverMode": "static"}}
                )
            )
            await hover(relative, needle, delta)
            static = [await hover(relative, needle, delta) for _ in range(runs)]
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"subagentLsp": {"hoverMode": "model"}})
            )
            api.enqueue(text_reply("A cached explanation."))
            await hover(relative, needle, delta)  # fills the cache (one model request)
            cached = [await hover(relative, needle, delta) for _ in range(runs)]

            def p95(values: list[float]) -> float:
                return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

            print(
                f"{label + ' (' + Path(relative).name + ')':34} {statistics.median(static):10.2f} "
                f"{p95(static):6.2f} {statistics.median(cached):13.2f} {p95(cached):6.2f}"
            )
        await client.shutdown_session()
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(_run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
