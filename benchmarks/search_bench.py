"""The agents' workspace search on a generated 2,000-file workspace: grep and glob latency.

Run: .venv/bin/python benchmarks/search_bench.py [--files 2000] [--runs 20]
Not part of the tests. The files look like a backend's: routes, schemas, services.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from subagent_lsp.exclusions import Exclusions
from subagent_lsp.search import glob_files, grep

ROUTE = """\
import type {{ FastifyInstance }} from "fastify";
import {{ eq }} from "drizzle-orm";
import {{ db }} from "../db/client.js";
import {{ items{n} }} from "../db/schema.js";

export async function routes{n}(app: FastifyInstance) {{
  app.get("/items{n}/:id", async (request, reply) => {{
    const {{ id }} = request.params as {{ id: string }};
    const rows = await db.select().from(items{n}).where(eq(items{n}.id, Number(id)));
    if (rows.length === 0) return reply.code(404).send();
    return rows[0];
  }});
}}
"""


def _workspace(root: Path, files: int) -> None:
    for n in range(files):
        folder = root / "src" / f"module{n % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"route{n}.ts").write_text(ROUTE.format(n=n), encoding="utf-8")
    (root / "node_modules" / "big").mkdir(parents=True)
    (root / "node_modules" / "big" / "index.ts").write_text("x\n" * 100_000, encoding="utf-8")
    (root / ".gitignore").write_text("dist/\n*.log\n", encoding="utf-8")


def _time(run: object, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        _workspace(root, args.files)
        roots = (root,)
        print(f"machine: {platform.machine()}, Python {platform.python_version()}")
        print(f"workspace: {args.files} TypeScript files, runs: {args.runs}\n")
        print("search                                    median ms    p95 ms")
        warm = Exclusions(roots)
        cases = {
            "grep a rare name (cold exclusions)": lambda: grep(
                roots, Exclusions(roots), r"items1999\b"
            ),
            "grep a rare name": lambda e=warm: grep(roots, e, r"items1999\b"),
            "grep a common word, stops at 100": lambda e=warm: grep(roots, e, "return"),
            "grep with glob *.ts and a folder": lambda e=warm: grep(
                roots, e, "reply.code", glob="*.ts", under=root / "src" / "module7"
            ),
            "glob src/**/route1*.ts": lambda e=warm: glob_files(roots, e, "src/**/route1*.ts"),
        }
        for name, run in cases.items():
            median, p95 = _time(run, args.runs)
            print(f"{name:40} {median:9.1f} {p95:9.1f}")


if __name__ == "__main__":
    main()
