"""The context recall benchmark's matching rule, pin check and measurement on a tiny workspace, so
that the benchmark cannot silently stop counting what it says it counts."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from subagent_lsp.context.items import Context, ContextItem
from tests.helpers import REPO


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "context_recall", REPO / "benchmarks" / "context_recall.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["context_recall"] = module
    spec.loader.exec_module(module)
    return module


recall = _load()

FILES = {
    "package.json": json.dumps(
        {"name": "tiny", "dependencies": {"fastify": "^5.0.0", "drizzle-orm": "^0.44.0"}}
    ),
    "drizzle.config.ts": 'export default { dialect: "postgresql", schema: "./src/db/schema.ts",'
    ' out: "./drizzle" };\n',
    "drizzle/0000_init.sql": (
        'CREATE TABLE "items" ("id" serial PRIMARY KEY, "owner_id" integer NOT NULL);\n'
        "--> statement-breakpoint\n"
        'CREATE INDEX "items_owner_idx" ON "items" ("owner_id");--> statement-breakpoint\n'
    ),
    "src/db/schema.ts": (
        'import { index, integer, pgTable, serial } from "drizzle-orm/pg-core";\n'
        "\n"
        "export const items = pgTable(\n"
        '  "items",\n'
        '  { id: serial("id").primaryKey(), ownerId: integer("owner_id").notNull() },\n'
        '  (t) => [index("items_owner_idx").on(t.ownerId)],\n'
        ");\n"
    ),
    "src/db/client.ts": (
        'import { drizzle } from "drizzle-orm/node-postgres";\n'
        "\n"
        "export const db = drizzle(process.env.DATABASE_URL!);\n"
    ),
    "src/routes/items.ts": (
        'import { eq } from "drizzle-orm";\n'
        'import type { FastifyRequest } from "fastify";\n'
        "\n"
        'import { db } from "../db/client";\n'
        'import { items } from "../db/schema";\n'
        "\n"
        "export async function listItems(request: FastifyRequest<{ Params: { owner: string } }>) {\n"
        "  const owner = Number(request.params.owner);\n"
        "  return db.select().from(items).where(eq(items.ownerId, owner));\n"
        "}\n"
    ),
    "src/server.ts": (
        'import Fastify from "fastify";\n'
        "\n"
        'import { listItems } from "./routes/items";\n'
        "\n"
        "const app = Fastify();\n"
        'app.get("/owners/:owner/items", listItems);\n'
    ),
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root.resolve()


def _item(path: str, text: str, kind: str = "definition") -> ContextItem:
    return ContextItem(2, kind, path, "x", "why", text, None)  # type: ignore[arg-type]


def _sent(root: Path, *items: ContextItem, conventions: tuple[str, ...] = ()) -> object:
    context = Context(tuple((item, "full") for item in items), 6000)
    return recall.sent_of(root, context, conventions)


def _need(file: str, lines: str, kind: str = "definition", symbol: str | None = None) -> object:
    return recall.Need(kind, file, "why", symbol, recall._range(lines))


SCHEMA = FILES["src/db/schema.ts"]


@pytest.mark.parametrize(
    ("sent_text", "found"),
    [
        (SCHEMA, True),
        # Indentation and runs of spaces do not matter.
        ("\n".join("    " + " ".join(line.split()) for line in SCHEMA.splitlines()), True),
        # Four of the five counted lines (`);` has no letter or digit and is not counted): 80%.
        ("\n".join(SCHEMA.splitlines()[2:6]), True),
        # Three of five: below 80%.
        ("\n".join(SCHEMA.splitlines()[2:5]), False),
        # A signature alone is not the table.
        ("export const items = pgTable(", False),
    ],
)
def test_a_line_range_counts_when_most_of_its_lines_were_sent(
    tiny: Path, sent_text: str, found: bool
) -> None:
    sent = _sent(tiny, _item("src/db/schema.ts", sent_text))
    assert recall.match(tiny, _need("src/db/schema.ts", "3-7", symbol="items"), sent).found is found


def test_typescript_lines_count_only_in_an_item_of_the_same_file(tiny: Path) -> None:
    sent = _sent(tiny, _item("src/routes/items.ts", SCHEMA))
    result = recall.match(tiny, _need("src/db/schema.ts", "3-7"), sent)
    assert not result.found
    assert result.share == 0


def test_the_selection_numbering_is_not_part_of_a_line(tiny: Path) -> None:
    lines = FILES["src/routes/items.ts"].splitlines()
    numbered = "\n".join(f">{n:>2}| {line}" for n, line in enumerate(lines, 1))
    sent = _sent(tiny, _item("src/routes/items.ts", numbered, kind="selection"))
    assert recall.match(tiny, _need("src/routes/items.ts", "7-10"), sent).found


def test_a_migration_statement_counts_inside_a_summary_line(tiny: Path) -> None:
    summary = 'drizzle/0000_init.sql: CREATE INDEX "items_owner_idx" ON "items" ("owner_id")'
    sent = _sent(tiny, _item("drizzle.config.ts", f"- {summary}", kind="project"))
    assert recall.match(tiny, _need("drizzle/0000_init.sql", "3", kind="migration"), sent).found
    # Other files than TypeScript may be anywhere in what is sent: conventions are in the system
    # prompt, not in an item.
    elsewhere = _sent(tiny, conventions=(f"## From `x.md`\n{summary}",))
    assert recall.match(
        tiny, _need("drizzle/0000_init.sql", "3", kind="migration"), elsewhere
    ).found
    assert not recall.match(tiny, _need("drizzle/0000_init.sql", "1"), elsewhere).found


def test_facts_count_when_every_string_was_sent(tiny: Path) -> None:
    need = recall.Need(
        "migration", "drizzle.config.ts", "why", facts=("drizzle.config.ts", "drizzle")
    )
    summary = "- drizzle-kit config: drizzle.config.ts\n- migrations: drizzle"
    sent = _sent(tiny, _item("drizzle.config.ts", summary))
    assert recall.match(tiny, need, sent).found
    partly = recall.Need(
        "migration", "drizzle.config.ts", "why", facts=("drizzle.config.ts", "nope")
    )
    result = recall.match(tiny, partly, sent)
    assert not result.found
    assert result.share == 0.5
    # A folder is not named by a file beside it.
    config_only = _sent(tiny, _item("drizzle.config.ts", "- drizzle-kit config: drizzle.config.ts"))
    assert not recall.match(tiny, need, config_only).found


def test_labels_that_do_not_fit_the_checkout_are_reported(tiny: Path) -> None:
    selection = recall.Selection(
        "s",
        "tiny",
        "src/routes/items.ts",
        (7, 10),
        "route handler",
        "Review",
        (
            _need("src/db/schema.ts", "3-7", symbol="items"),
            _need("src/db/schema.ts", "1-3", symbol="items"),
            _need("src/db/schema.ts", "6-90"),
            _need("src/missing.ts", "1"),
        ),
        "listItems",
    )
    problems = recall.label_problems(tiny, selection)
    assert problems == [
        "src/db/schema.ts:1: `items` is not on the range's first line",
        "src/db/schema.ts:6-90: outside the file (7 lines)",
        "src/missing.ts: no such file",
    ]


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_pin_is_checked_against_a_work_tree_or_a_git_directory(tiny: Path) -> None:
    files = ["src/db/schema.ts", "src/routes/items.ts"]
    assert recall.check_pin(tiny, recall.Pin("o/tiny", "0" * 40), None, files)[0] == "unverified"
    _git(tiny, "init", "-q")
    _git(tiny, "add", ".")
    _git(tiny, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "tiny")
    head = _git(tiny, "rev-parse", "HEAD")
    assert recall.check_pin(tiny, recall.Pin("o/tiny", head), None, files)[0] == "ok"
    assert recall.check_pin(tiny, recall.Pin("o/tiny", "0" * 40), None, files)[0] == "differs"
    # An exported snapshot (no .git) is compared file by file with the commit's blobs.
    snapshot = tiny.parent / "snapshot"
    snapshot.mkdir()
    for name in files:
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_bytes((tiny / name).read_bytes())
    git_dir = tiny / ".git"
    assert recall.check_pin(snapshot, recall.Pin("o/tiny", head), git_dir, files)[0] == "ok"
    (snapshot / files[0]).write_text("changed\n", encoding="utf-8")
    assert recall.check_pin(snapshot, recall.Pin("o/tiny", head), git_dir, files)[0] == "differs"


def test_a_measurement_finds_the_table_a_handler_queries(tiny: Path) -> None:
    selection = recall.Selection(
        "tiny-list-items",
        "tiny",
        "src/routes/items.ts",
        (7, 10),
        "route handler",
        "Optimise this Drizzle query",
        (_need("src/db/schema.ts", "3-7", symbol="items"),),
        "listItems",
    )
    settings = recall.Settings()
    result = recall.measure(tiny, selection, settings, recall.workspace(tiny, settings))
    assert [m.found for m in result.matches] == [True]
    assert result.recall == 1.0
    assert 0 < result.context_tokens <= settings.context_tokens
    summary = recall.summary([result])
    assert summary["overall"]["recall_micro"] == 1.0
    assert summary["aim_met"]
    assert "tiny-list-items" in recall.markdown([result], {})


def test_the_committed_labels_load_and_cover_five_repositories() -> None:
    pins, selections = recall.load_labels(recall.LABELS)
    assert len(pins) >= 5
    assert len(selections) >= 25
    assert {s.repo for s in selections} == set(pins)
    assert all(s.needs for s in selections)
    assert all(n.kind in recall.GROUPS for s in selections for n in s.needs)
