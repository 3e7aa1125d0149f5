"""How long building the context takes, and how many tokens it costs against sending whole files.

Run: .venv/bin/python benchmarks/context_bench.py [--runs N]
Cold: a fresh project index (every file parsed and every tsconfig read again).
Warm: the same index reused, as the language server does between requests.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from subagent_lsp.context.gather import gather_context
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.items import estimate_tokens
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.syntax import imports

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SELECTIONS = [
    ("src/routes/users.ts", 'app.post("/users"'),
    ("src/routes/users.ts", "const [user] = await db"),
    ("src/routes/posts.ts", "const rows = await db"),
    ("src/routes/posts.ts", "const post = await db.query.posts"),
    ("src/routes/health.ts", "await db.execute"),
]

_ROUTE = """\
  app.get("/reports/{n}/:id", {{ schema: {{ params: userParams }} }}, async (request, reply) => {{
    const {{ id }} = userParams.parse(request.params);
    const rows = await db
      .select({{ id: posts.id, title: posts.title, author: users.displayName }})
      .from(posts)
      .innerJoin(users, eq(users.id, posts.authorId))
      .where(and(eq(posts.authorId, id), eq(posts.status, "published")))
      .orderBy(desc(posts.publishedAt))
      .limit(50);
    if (rows.length === 0) {{
      return reply.code(404).send({{ error: "No report {n}" }});
    }}
    const summary = rows.map((row) => ({{ ...row, score: row.title.length * {n} }}));
    return {{ report: {n}, total: summary.length, items: summary }};
  }});

"""


def generated_routes(lines: int) -> str:
    head = (
        'import type { FastifyInstance } from "fastify";\n'
        'import { and, desc, eq } from "drizzle-orm";\n\n'
        'import { db, posts, users } from "@/db/index.js";\n'
        'import { userParams } from "../schemas/index.js";\n\n'
        "export async function reportRoutes(app: FastifyInstance) {\n"
    )
    body = []
    n = 0
    while len(head.splitlines()) + sum(part.count("\n") for part in body) < lines - 1:
        body.append(_ROUTE.format(n=n))
        n += 1
    return head + "".join(body) + "}\n"


def whole_files_tokens(root: Path, path: Path, index: ProjectIndex) -> tuple[int, int]:
    """Tokens of the whole file, and of the whole file plus every workspace file it imports."""
    src = index.source(path, {})
    assert src is not None
    whole = estimate_tokens(src.text)
    imported = 0
    for statement in imports(src):
        target = index.resolver.resolve(path, statement.source)
        if target is not None:
            imported += estimate_tokens(target.read_text(encoding="utf-8"))
    return whole, whole + imported


def measure(root: Path, relative: str, needle: str, runs: int) -> dict[str, float]:
    path = root / relative
    exclusions = Exclusions((root,))
    cold: list[float] = []
    for _ in range(runs):
        index = ProjectIndex([root])
        started = time.perf_counter()
        src = index.source(path, {})
        assert src is not None
        at = src.text.index(needle)
        gather_context(
            path, src, at, at, index=index, documents={}, exclusions=exclusions, budget=6000
        )
        cold.append((time.perf_counter() - started) * 1000)
    index = ProjectIndex([root])
    src = index.source(path, {})
    assert src is not None
    at = src.text.index(needle)
    warm: list[float] = []
    context = None
    for _ in range(runs):
        started = time.perf_counter()
        _, context = gather_context(
            path, src, at, at, index=index, documents={}, exclusions=exclusions, budget=6000
        )
        warm.append((time.perf_counter() - started) * 1000)
    assert context is not None
    whole, with_imports = whole_files_tokens(root, path, index)
    return {
        "cold_ms": statistics.median(cold),
        "warm_ms": statistics.median(warm),
        "warm_p95_ms": sorted(warm)[int(len(warm) * 0.95) - 1],
        "tokens": context.used_tokens,
        "whole_file": whole,
        "with_imports": with_imports,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"runs per selection: {args.runs} (medians; warm p95 too)\n")
    header = (
        f"{'selection':45} {'cold ms':>8} {'warm ms':>8} {'warm p95':>8} "
        f"{'context':>8} {'file':>7} {'+imports':>9}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "examples"
        shutil.copytree(EXAMPLES, root)
        big = root / "src/routes/reports.ts"
        big.write_text(generated_routes(5000), encoding="utf-8")
        cases = [*SELECTIONS, ("src/routes/reports.ts", 'app.get("/reports/170/:id"')]
        for relative, needle in cases:
            result = measure(root.resolve(), relative, needle, args.runs)
            lines = (root / relative).read_text(encoding="utf-8").count("\n")
            label = f"{relative}:{needle[:18]}… ({lines} lines)"
            print(
                f"{label:45} {result['cold_ms']:8.1f} {result['warm_ms']:8.1f} "
                f"{result['warm_p95_ms']:8.1f} {result['tokens']:8d} {result['whole_file']:7d} "
                f"{result['with_imports']:9d}"
            )


if __name__ == "__main__":
    main()
