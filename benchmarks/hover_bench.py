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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from suite import p95  # noqa: E402
from tests.fakes.anthropic_api import FakeAnthropic, text_reply  # noqa: E402
from wire import SERVER_COMMAND, WireClient, at, server_env  # noqa: E402

EXAMPLES = HERE.parent / "examples"
TARGETS = [
    ("src/routes/users.ts", 'app.post("/users"', 4, "route"),
    ("src/routes/users.ts", "users.createdAt", 2, "table"),
    ("src/routes/posts.ts", "const rows = await db", 20, "query"),
    ("src/routes/posts.ts", "listPostsQuery.parse", 3, "zod schema"),
    ("src/routes/posts.ts", "function slugify", 3, "nothing to say"),
]


async def _run(runs: int) -> None:
    with FakeAnthropic() as api, tempfile.TemporaryDirectory() as home:
        client = await WireClient.start(SERVER_COMMAND, server_env(Path(home), api.base_url))
        root = EXAMPLES.resolve()
        await client.initialize(root)
        texts = {}
        opened = time.perf_counter()
        for relative in sorted({t[0] for t in TARGETS}):
            texts[relative] = (root / relative).read_text(encoding="utf-8")
            client.open(root / relative)

        async def settle(since: float) -> dict[str, float]:
            # The hints computed after a document opens (or the settings change) come first:
            # what is timed is the steady state of a user hovering around.
            return {
                relative: 1000
                * await client.notified(
                    "textDocument/publishDiagnostics", (root / relative).as_uri(), since
                )
                for relative in texts
            }

        hinted = await settle(opened)

        async def hover_mode(mode: str) -> None:
            since = time.perf_counter()
            client.notify(
                "workspace/didChangeConfiguration",
                {"settings": {"subagentLsp": {"hoverMode": mode}}},
            )
            await settle(since)

        async def hover(relative: str, needle: str, delta: int) -> float:
            params = {
                "textDocument": {"uri": (root / relative).as_uri()},
                "position": at(texts[relative], needle, delta),
            }
            return await client.timed("textDocument/hover", params)

        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        print(f"runs per target: {runs}, round trip through stdio (medians and p95)\n")
        print(f"{'hover':34} {'static ms':>10} {'p95':>6} {'cache hit ms':>13} {'p95':>6}")
        for relative, needle, delta, label in TARGETS:
            await hover_mode("static")
            await hover(relative, needle, delta)
            static = [await hover(relative, needle, delta) for _ in range(runs)]
            await hover_mode("model")
            api.enqueue(text_reply("A cached explanation."))
            await hover(relative, needle, delta)  # fills the cache (one model request)
            cached = [await hover(relative, needle, delta) for _ in range(runs)]
            print(
                f"{label + ' (' + Path(relative).name + ')':34} {statistics.median(static):10.2f} "
                f"{p95(static):6.2f} {statistics.median(cached):13.2f} {p95(cached):6.2f}"
            )
        print("\nhints (diagnostics from the facts), didOpen to publishDiagnostics:")
        for relative, took in hinted.items():
            print(f"{relative:35} {took:9.1f} ms")
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(_run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
