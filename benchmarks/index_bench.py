"""The workspace reference index: how long it takes to build, what it costs in memory, how long
a context that reaches back takes once it is built, and whether code-action listing notices it.

Run: .venv/bin/python benchmarks/index_bench.py [--files 2000] [--runs 30]
     [--real /tmp/repos/openstatus] [--compare-src /work/main/src]
Cold: a fresh index over a workspace whose files the OS has cached (the second read of a
checkout). Warm context: the index and parse trees reused, as the server does. Listing: the
server over stdio on the generated workspace, code actions at 100 cursor positions while the
index is being built and after; with --compare-src, the same for the server from that source
tree (for instance the branch before the index). Not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.anthropic_api import FakeAnthropic
from wire import SERVER_COMMAND, WireClient, code_action_params, server_env

from subagent_lsp.context.gather import gather_context
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.references import ReferenceIndex
from subagent_lsp.exclusions import Exclusions

_TABLES = 40
_SCHEMA = """\
import {{ integer, pgTable, serial, text }} from "drizzle-orm/pg-core";
{tables}
"""
_TABLE = """
export const items{n} = pgTable("items{n}", {{
  id: serial("id").primaryKey(),
  ownerId: integer("owner_id").notNull(),
  title: text("title").notNull(),
}});
"""
_HANDLER = """\
import type {{ FastifyReply, FastifyRequest }} from "fastify";
import {{ eq }} from "drizzle-orm";
import {{ db, items{t} }} from "../db/index.js";
import {{ audit }} from "../lib/audit.js";

export async function handler{n}(request: FastifyRequest, reply: FastifyReply) {{
  const ownerId = request.user!.id;
  const rows = await db.select().from(items{t}).where(eq(items{t}.ownerId, ownerId));
  await audit(request, "list{n}");
  return reply.send(rows);
}}
"""
_ROUTES = """\
import type {{ FastifyInstance }} from "fastify";
import {{ requireUser }} from "../auth/guards.js";
{imports}

export async function module{m}Routes(app: FastifyInstance) {{
{routes}
}}
"""
_SERVER = """\
import Fastify from "fastify";
{imports}

export const app = Fastify();
{registers}
"""


def generated(root: Path, files: int) -> list[tuple[str, str]]:
    """A backend of ``files`` TypeScript files: handlers in 40 modules, each module's routes
    file registering them behind a guard, a server registering every module with a prefix."""
    (root / "src/db").mkdir(parents=True)
    (root / "src/auth").mkdir()
    (root / "src/lib").mkdir()
    (root / "package.json").write_text('{"type": "module", "dependencies": {"fastify": "^5"}}')
    tables = "".join(_TABLE.format(n=n) for n in range(_TABLES))
    (root / "src/db/schema.ts").write_text(_SCHEMA.format(tables=tables))
    (root / "src/db/client.ts").write_text("export const db = {} as any;\n")
    (root / "src/db/index.ts").write_text(
        'export * from "./schema.js";\nexport { db } from "./client.js";\n'
    )
    (root / "src/auth/guards.ts").write_text(
        "export async function requireUser(request: any, reply: any) {}\n"
    )
    (root / "src/lib/audit.ts").write_text("export async function audit(r: any, s: string) {}\n")
    (root / "src/types").mkdir()
    (root / "src/types/fastify.d.ts").write_text(
        'import "fastify";\ndeclare module "fastify" {\n  interface FastifyRequest {\n'
        "    user: { id: number } | null;\n  }\n}\n"
    )
    modules = 40
    handlers = files - 8 - 2 * modules
    by_module: dict[int, list[int]] = {m: [] for m in range(modules)}
    for n in range(handlers):
        m = n % modules
        folder = root / "src" / f"module{m}"
        folder.mkdir(exist_ok=True)
        (folder / f"handler{n}.ts").write_text(_HANDLER.format(n=n, t=n % _TABLES))
        by_module[m].append(n)
    for m, numbers in by_module.items():
        folder = root / "src" / f"module{m}"
        imports = "\n".join(f'import {{ handler{n} }} from "./handler{n}.js";' for n in numbers)
        routes = "\n".join(
            f'  app.get("/h{n}", {{ preHandler: [requireUser] }}, handler{n});' for n in numbers
        )
        (folder / "routes.ts").write_text(_ROUTES.format(m=m, imports=imports, routes=routes))
        (folder / "helpers.ts").write_text(f"export const helper{m} = (x: number) => x + {m};\n")
    imports = "\n".join(
        f'import {{ module{m}Routes }} from "./module{m}/routes.js";' for m in range(modules)
    )
    registers = "\n".join(
        f'app.register(module{m}Routes, {{ prefix: "/m{m}" }});' for m in range(modules)
    )
    (root / "src/server.ts").write_text(_SERVER.format(imports=imports, registers=registers))
    return [
        ("src/module3/handler123.ts", "const rows"),
        ("src/module7/routes.ts", "app.get("),
        ("src/db/schema.ts", 'ownerId: integer("owner_id")'),
        ("src/auth/guards.ts", "export async function requireUser"),
        ("src/lib/audit.ts", "export async function audit"),
    ]


_GROWTH = """
import gc, os, sys
from pathlib import Path
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.references import ReferenceIndex
from subagent_lsp.exclusions import Exclusions
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
root = Path(sys.argv[1])
index = ProjectIndex([root])
exclusions = Exclusions((root,))
gc.collect()
before = rss()
refs = ReferenceIndex((root,), index.resolver, exclusions)
refs.build()
gc.collect()
print(rss() - before)
"""


def _rss_growth(root: Path) -> float:
    """Resident memory the built index adds, in a fresh interpreter (a heap grown by earlier
    builds in this one would hide it)."""
    done = subprocess.run(
        [sys.executable, "-c", _GROWTH, str(root)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def p95(values: list[float]) -> float:
    return sorted(values)[max(int(len(values) * 0.95) - 1, 0)]


def measure_index(root: Path, selections: list[tuple[str, str]], runs: int) -> dict[str, Any]:
    exclusions = Exclusions((root,))
    cold: list[float] = []
    for _ in range(3):
        index = ProjectIndex([root])
        started = time.perf_counter()
        ReferenceIndex((root,), index.resolver, Exclusions((root,))).build()
        cold.append(time.perf_counter() - started)
    grown = _rss_growth(root)
    index = ProjectIndex([root])
    refs = ReferenceIndex((root,), index.resolver, exclusions)
    refs.build()
    contexts: list[tuple[str, float, float, int, int]] = []
    for relative, needle in selections:
        path = root / relative
        src = index.source(path, {})
        assert src is not None
        at = src.text.index(needle)
        times: list[float] = []
        context = None
        for run in range(runs + 1):
            started = time.perf_counter()
            _, context = gather_context(
                path,
                src,
                at,
                at,
                index=index,
                documents={},
                exclusions=exclusions,
                budget=6000,
                references=refs,
            )
            if run:  # the first run parses the files the sites are in
                times.append((time.perf_counter() - started) * 1000)
        assert context is not None
        backward = sum(1 for item, _ in context.items if item.kind in ("usage", "augmentation"))
        label = f"{relative}:{needle[:20]}"
        contexts.append(
            (label, statistics.median(times), p95(times), backward, context.used_tokens)
        )
    return {"files": refs.file_count(), "cold": cold, "rss": grown, "contexts": contexts}


def real_selections(root: Path, count: int = 5) -> list[tuple[str, str]]:
    """The most used declarations of a real workspace, each selected where it is declared."""
    index = ProjectIndex([root])
    refs = ReferenceIndex((root,), index.resolver, Exclusions((root,)))
    refs.build()
    ranked = sorted(refs._users.items(), key=lambda kv: -len(kv[1]))
    chosen: list[tuple[str, str]] = []
    for (path, name), _ in ranked:
        if path.suffix != ".ts" or len(chosen) >= count:
            continue
        text = path.read_text(encoding="utf-8")
        for keyword in ("const", "function", "class", "type", "interface"):
            needle = f"{keyword} {name}"
            if needle in text:
                chosen.append((path.relative_to(root).as_posix(), needle))
                break
    return chosen


async def listing(
    root: Path, relative: str, src_dir: str | None
) -> tuple[list[float], list[float]]:
    """Code-action latency while the index builds (right after `initialized`) and after."""
    env = server_env(root.parent / "home", "http://127.0.0.1:9")
    (root.parent / "home").mkdir(exist_ok=True)
    if src_dir is not None:
        env["PYTHONPATH"] = src_dir
    client = await WireClient.start(SERVER_COMMAND, env)
    await client.initialize(root)
    path = root / relative
    uri = client.open(path)
    lines = path.read_text(encoding="utf-8").count("\n")
    positions = [{"line": (i * 7) % lines, "character": 2} for i in range(100)]
    during = [
        await client.timed("textDocument/codeAction", code_action_params(uri, p)) for p in positions
    ]
    for _ in range(400):
        status = await client.request(
            "workspace/executeCommand", {"command": "subagent-lsp.status", "arguments": []}
        )
        if status.get("referenceIndex", "ready") == "ready":
            break
        await asyncio.sleep(0.05)
    after = [
        await client.timed("textDocument/codeAction", code_action_params(uri, p)) for p in positions
    ]
    await client.stop()
    return during, after


def _report(name: str, result: dict[str, Any]) -> None:
    cold = result["cold"]
    print(
        f"{name}: {result['files']} files, index cold {statistics.median(cold):.2f} s "
        f"(min {min(cold):.2f}), +{result['rss']:.1f} MB RSS"
    )
    print(f"  {'selection':60} {'warm ms':>8} {'p95':>7} {'backward':>9} {'tokens':>7}")
    for label, median, high, backward, tokens in result["contexts"]:
        print(f"  {label:60} {median:8.1f} {high:7.1f} {backward:9d} {tokens:7d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--real", default="/tmp/repos/openstatus")
    parser.add_argument("--compare-src", default=None)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic():
        root = Path(tmp, "generated").resolve()
        selections = generated(root, args.files)
        _report("generated", measure_index(root, selections, args.runs))
        real = Path(args.real)
        if real.is_dir():
            real = real.resolve()
            _report(real.name, measure_index(real, real_selections(real), args.runs))
        servers = [("this tree", None)]
        if args.compare_src:
            servers.append((args.compare_src, args.compare_src))
        for name, src_dir in servers:
            during, after = asyncio.run(listing(root, "src/module3/routes.ts", src_dir))
            print(
                f"listing ({name}): while building {statistics.median(during):.2f} / "
                f"{p95(during):.2f} ms, after {statistics.median(after):.2f} / "
                f"{p95(after):.2f} ms (median / p95)"
            )


if __name__ == "__main__":
    main()
