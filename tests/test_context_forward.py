"""Following names forward and fitting what was found to the budget: oversized items, namespace
and default imports, object members, namesakes, and types derived from values."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from subagent_lsp.backend.migrations import find_config
from subagent_lsp.context.gather import gather_context
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.items import Context, ContextItem, fit
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.syntax.declarations import declarations, namesakes
from subagent_lsp.syntax.outline import class_outline
from subagent_lsp.syntax.source import SourceFile

FIXTURE = Path(__file__).parent / "fixtures" / "context-project"


def _item(name: str, priority: int, tokens: int, short: int | None = None) -> ContextItem:
    kind = "selection" if priority == 1 else "definition"
    text = "x" * (tokens * 4)
    return ContextItem(
        priority, kind, "a.ts", name, "why", text, "s" * (short * 4) if short else None
    )


# (items as (name, priority, tokens, short tokens), budget, expected forms by name)
FITS = [
    pytest.param(
        [("sel", 1, 100, None), ("huge", 2, 5000, 50), ("a", 3, 300, None), ("b", 3, 300, None)],
        1000,
        {"sel": "full", "huge": "short", "a": "full", "b": "full"},
        id="an oversized item is shortened before lower priorities go",
    ),
    pytest.param(
        [("sel", 1, 100, None), ("big", 2, 700, None), ("a", 3, 100, None), ("b", 4, 100, None)],
        600,
        {"sel": "full", "big": "omitted", "a": "full", "b": "full"},
        id="what was left out on the way is put back when it fits",
    ),
    pytest.param(
        [("sel", 1, 100, None), ("a", 2, 200, 20), ("b", 3, 200, 20), ("c", 3, 200, None)],
        330,
        {"sel": "full", "a": "full", "b": "short", "c": "omitted"},
        id="the lowest ranks are shortened then left out, the last gathered first",
    ),
    pytest.param(
        [("sel", 1, 100, None), ("a", 2, 200, 20), ("b", 3, 300, 30)],
        1000,
        {"sel": "full", "a": "full", "b": "full"},
        id="everything fits: nothing changes",
    ),
    pytest.param(
        [("sel", 1, 100, None), ("huge", 2, 5000, None), ("a", 3, 10, None)],
        200,
        {"sel": "full", "huge": "omitted", "a": "full"},
        id="an oversized item that cannot be shortened is left out, the rest stays",
    ),
]


@pytest.mark.parametrize(("specs", "budget", "expected"), FITS)
def test_fitting_rules(
    specs: list[tuple[str, int, int, int | None]], budget: int, expected: dict[str, str]
) -> None:
    context = fit([_item(*spec) for spec in specs], budget)
    assert {str(item.symbol): form for item, form in context.items} == expected
    assert context.used_tokens <= budget


def test_a_class_outline_keeps_member_signatures_without_bodies() -> None:
    src = SourceFile(
        "/** Pipes. */\nexport class Pipes extends Base {\n"
        "  @Inject() private readonly tb: Client;\n"
        "  constructor(config: Config) {\n    super();\n  }\n"
        "  public get stats() {\n    return this.tb.build({ pipe: 'a' });\n  }\n"
        "  static make = (n: number): Pipes => {\n    return new Pipes();\n  };\n"
        "  async run(a: string): Promise<void> {}\n}\n",
        "typescript",
    )
    decl = declarations(src)["Pipes"]
    assert class_outline(src, decl, 1000) == (
        "/** Pipes. */\nexport class Pipes extends Base {\n"
        "  private readonly tb: Client\n"
        "  constructor(config: Config) { … }\n"
        "  public get stats() { … }\n"
        "  static make = (n: number): Pipes => { … }\n"
        "  async run(a: string): Promise<void> { … }\n}"
    )
    cut = class_outline(src, decl, 120)
    assert cut is not None and cut.endswith("  // … 3 more members\n}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(FIXTURE, root)
    return root.resolve()


def _gather(root: Path, file: str, needle: str, budget: int = 6000) -> Context:
    path = root / file
    index = ProjectIndex([root])
    src = index.source(path, {})
    assert src is not None
    at = src.text.index(needle)
    _, context = gather_context(
        path, src, at, at, index=index, documents={}, exclusions=Exclusions((root,)), budget=budget
    )
    return context


def _forms(context: Context) -> dict[str, str]:
    return {str(item.symbol or item.kind): form for item, form in context.items}


def test_a_huge_class_is_outlined_and_the_default_budget_still_holds(project: Path) -> None:
    methods = "".join(
        f"  async pipe{n}(id: number) {{\n"
        + "    const row = await this.load(id);\n" * 40
        + "    return row;\n  }\n"
        for n in range(120)
    )
    (project / "src/lib/analytics.ts").write_text(
        f"export class Analytics {{\n{methods}}}\n", encoding="utf-8"
    )
    route = project / "src/routes/orders.ts"
    text = route.read_text(encoding="utf-8")
    text = 'import { Analytics } from "../lib/analytics.js";\n' + text.replace(
        "const body = createOrderBody", "new Analytics();\n    const body = createOrderBody"
    )
    route.write_text(text, encoding="utf-8")
    context = _gather(project, "src/routes/orders.ts", 'app.post("/orders"')
    forms = _forms(context)
    analytics = next(item for item, _ in context.items if item.symbol == "Analytics")
    assert analytics.tokens > 6000 and forms["Analytics"] == "short"
    assert analytics.short is not None and "  async pipe0(id: number) { … }" in analytics.short
    # Everything ranked below it still goes in, in full.
    assert forms["formatMoney"] == forms["TAX_RATE"] == forms["project"] == "full"
    assert context.budget == 6000 and context.used_tokens <= 6000


_BIG = "".join(
    f'    field{n}: z.string().min(1).max(200).describe("field {n}"),\n' for n in range(40)
)
_PROJECT = {
    "package.json": '{ "name": "api", "type": "module" }',
    "src/handlers.ts": (
        "export async function listItems() {\n  return [];\n}\n"
        "export async function removeItem() {\n  return null;\n}\n"
    ),
    "src/db/index.ts": 'export * as schema from "./schema/index.js";\nexport const db = {};\n',
    "src/db/schema/index.ts": 'export * from "./items.js";\n',
    "src/db/schema/items.ts": (
        'import { pgTable, serial } from "drizzle-orm/pg-core";\n'
        'export const items = pgTable("items", { id: serial("id") });\n'
        'export const audit = pgTable("audit", { id: serial("id") });\n'
    ),
    "src/contracts.ts": "export const CREATE_BODY = z.object({ name: z.string() });\n",
    "src/schemas.ts": (
        'import { CREATE_BODY } from "./contracts.js";\n'
        f"const itemSchemas = {{\n  create: {{\n    body: CREATE_BODY,\n  }},\n"
        f"  list: {{\n    querystring: z.object({{\n{_BIG}    }}),\n  }},\n}};\n"
        "export default itemSchemas;\n"
    ),
    "src/small.ts": "export default { retries: 3, timeoutMs: 500 };\n",
    "src/routes.ts": (
        'import * as handler from "./handlers.js";\n'
        'import { db, schema } from "./db/index.js";\n'
        'import itemSchemas from "./schemas.js";\n'
        'import limits from "./small.js";\n'
        "export async function routes(app: App) {\n"
        '  app.get("/items", handler.listItems);\n'
        '  app.post("/items", { schema: itemSchemas.create }, async () => {\n'
        "    return db.select().from(schema.items).limit(limits.retries);\n"
        "  });\n"
        "}\n"
    ),
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root.resolve()


# (what is used, the item it brings, from which file; None: must not be sent)
IMPORTS = [
    pytest.param("handler.listItems", "listItems", "src/handlers.ts", id="namespace import"),
    pytest.param("handler.", "removeItem", None, id="a namespace's unused members stay out"),
    pytest.param("schema.items", "items", "src/db/schema/items.ts", id="barrel export * as"),
    pytest.param("schema.items", "schema", "src/db/index.ts", id="the namespace statement"),
    pytest.param("schema.items", "audit", None, id="the namespace's other tables stay out"),
    pytest.param(
        "itemSchemas.create", "itemSchemas.create", "src/schemas.ts", id="default import member"
    ),
    pytest.param("itemSchemas.create", "itemSchemas", None, id="not the large object whole"),
    pytest.param(
        "itemSchemas.create", "CREATE_BODY", "src/contracts.ts", id="what the member refers to"
    ),
    pytest.param("limits.retries", "default", "src/small.ts", id="a small default object whole"),
]


@pytest.mark.parametrize(("used", "symbol", "file"), IMPORTS)
def test_namespace_and_default_imports_are_followed(
    tmp_path: Path, used: str, symbol: str, file: str | None
) -> None:
    needle = "app.get" if used.startswith("handler") else "return db"
    root = _write(tmp_path / "api", _PROJECT)
    symbols = {
        str(item.symbol): item.path
        for item, form in _gather(root, "src/routes.ts", needle).items
        if item.kind in ("definition", "local")
    }
    assert symbols.get(symbol) == file


# (source, name, kind kept in `declarations`, kind set aside in `namesakes` or None)
NAMESAKES = [
    pytest.param(
        "export const Input = z.object({});\nexport type Input = z.infer<typeof Input>;\n",
        "Input",
        "variable",
        "type",
        id="a schema and its inferred type",
    ),
    pytest.param(
        "export interface Order { id: number }\nexport class Order {}\n",
        "Order",
        "class",
        "interface",
        id="the value wins whichever comes first",
    ),
    pytest.param("export type Only = string;\n", "Only", "type", None, id="a type alone"),
]


@pytest.mark.parametrize(("text", "name", "kept", "aside"), NAMESAKES)
def test_a_value_and_a_type_of_one_name_are_both_kept(
    text: str, name: str, kept: str, aside: str | None
) -> None:
    src = SourceFile(text, "typescript")
    assert declarations(src)[name].kind == kept
    found = namesakes(src).get(name)
    assert (found.kind if found is not None else None) == aside


def test_a_schema_and_its_type_of_the_same_name_are_both_sent(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "api",
        {
            "package.json": '{ "name": "api" }',
            "src/schemas.ts": (
                "export const ListInput = z.object({ limit: z.number().default(50) });\n"
                "export type ListInput = z.infer<typeof ListInput>;\n"
            ),
            "src/list.ts": (
                'import { ListInput } from "./schemas";\n'
                "export function list(input: ListInput) {\n  return input.limit;\n}\n"
            ),
        },
    )
    texts = [i.text for i, f in _gather(root, "src/list.ts", "return").items if f == "full"]
    assert any("limit: z.number().default(50)" in text for text in texts)
    assert any(text.startswith("export type ListInput") for text in texts)


def test_a_type_derived_from_a_schema_reaches_the_schema_and_what_it_builds_on(
    tmp_path: Path,
) -> None:
    root = _write(
        tmp_path / "api",
        {
            "package.json": '{ "name": "api" }',
            "src/plans.ts": 'export const plans = ["free", "pro"] as const;\n',
            "src/schema.ts": (
                'import { plans } from "./plans";\n'
                "export const baseQuery = z.object({ limit: z.string().optional() });\n"
                "export const listQuery = baseQuery.extend({ plan: z.enum(plans) });\n"
                "export type ListQuery = z.infer<typeof listQuery>;\n"
            ),
            "src/handler.ts": (
                'import { ListQuery } from "./schema";\n'
                "type ListApi = { Querystring: ListQuery };\n"
                "export async function list(request: Request<ListApi>) {\n"
                "  return request.query.limit;\n}\n"
            ),
        },
    )
    context = _gather(root, "src/handler.ts", "return")
    reasons = {str(item.symbol): item.reason for item, form in context.items if form == "full"}
    # handler -> ListApi (local) -> ListQuery -> `typeof listQuery` -> baseQuery, its own file's.
    assert reasons["listQuery"] == "`ListQuery` is derived from it"
    assert reasons["baseQuery"] == "`listQuery` refers to it"
    assert "plans" not in reasons, "past the schema, only its own file is followed"


# (files beside the package.json's scripts, the config found, relative to the package)
CONFIGS = [
    pytest.param({"drizzle.config.ts": ""}, {}, "drizzle.config.ts", id="beside package.json"),
    pytest.param(
        {"infra/db/drizzle.config.js": ""},
        {"db:generate": "drizzle-kit generate --config=infra/db/drizzle.config.js"},
        "infra/db/drizzle.config.js",
        id="--config= in a script",
    ),
    pytest.param(
        {"db/config.ts": ""},
        {"migrate": "pnpm with-env drizzle-kit migrate --config db/config.ts && echo ok"},
        "db/config.ts",
        id="--config PATH after a wrapper",
    ),
    pytest.param(
        {"../outside.ts": ""},
        {"push": "drizzle-kit push --config ../outside.ts"},
        None,
        id="never out of the package",
    ),
    pytest.param(
        {"other.ts": ""}, {"build": "tsc --config other.ts"}, None, id="only drizzle-kit's"
    ),
]


@pytest.mark.parametrize(("files", "scripts", "expected"), CONFIGS)
def test_the_drizzle_kit_config_is_found_where_scripts_say(
    tmp_path: Path, files: dict[str, str], scripts: dict[str, str], expected: str | None
) -> None:
    package = tmp_path / "repo" / "api"
    _write(package, {**files, "package.json": json.dumps({"scripts": scripts})})
    found = find_config([package])
    assert (found[0].relative_to(package.resolve()).as_posix() if found else None) == expected


def test_a_selected_table_gets_its_own_migration_statements(tmp_path: Path) -> None:
    script = "drizzle-kit generate --config=infra/db/drizzle.config.js"
    root = _write(
        tmp_path / "api",
        {
            "package.json": json.dumps({"name": "api", "scripts": {"db:generate": script}}),
            "infra/db/drizzle.config.js": 'export default { out: "infra/db/migrations" };\n',
            "infra/db/migrations/0000_init.sql": (
                'CREATE TABLE "bookings" (\n\t"id" serial PRIMARY KEY,\n\t"user_id" integer\n);\n'
                "--> statement-breakpoint\n"
                'CREATE TABLE "audit" (\n\t"id" serial PRIMARY KEY\n);\n'
                "--> statement-breakpoint\n"
                'CREATE INDEX "bookings_user" ON "bookings" ("user_id");\n'
                'CREATE INDEX "audit_id" ON "audit" ("id");\n'
            ),
            "src/bookings.model.ts": (
                'import { integer, pgTable, serial } from "drizzle-orm/pg-core";\n'
                'export const bookings = pgTable("bookings", {\n'
                '  id: serial("id").primaryKey(),\n  userId: integer("user_id"),\n});\n'
                "export const bookingsRelations = relations(bookings, ({ one }) => ({}));\n"
            ),
        },
    )
    context = _gather(root, "src/bookings.model.ts", "userId")
    text = context.render()
    assert "- drizzle-kit config: infra/db/drizzle.config.js" in text
    assert "- migrations: infra/db/migrations" in text
    assert 'CREATE INDEX "bookings_user" ON "bookings" ("user_id")' in text
    assert 'CREATE TABLE "bookings" (\n"id" serial PRIMARY KEY,' in text
    assert "audit" not in text
    assert f"- script `db:generate`: {script}" in text
    assert _forms(context)["bookingsRelations"] == "full"


def test_the_database_project_lists_each_index_once_and_only_for_the_tables_named(
    tmp_path: Path,
) -> None:
    root = _write(
        tmp_path / "api",
        {
            "package.json": json.dumps({"name": "api", "scripts": {"gen": "drizzle-kit generate"}}),
            "drizzle.config.ts": 'export default { dialect: "turso", out: "drizzle" };\n',
            "drizzle/0000_init.sql": (
                "CREATE INDEX `incident_monitor_idx` ON `incident` (`monitor_id`);\n"
                "CREATE INDEX `monitor_workspace_idx` ON `monitor` (`workspace_id`);\n"
            ),
            # SQLite rebuilds a table to change it, and creates its indexes again.
            "drizzle/0001_rebuild.sql": (
                "CREATE INDEX `incident_monitor_idx` ON `incident` (`monitor_id`);\n"
            ),
            "src/schema.ts": (
                'import { integer, sqliteTable } from "drizzle-orm/sqlite-core";\n'
                'export const monitor = sqliteTable("monitor", {\n'
                '  id: integer("id").primaryKey(),\n  workspaceId: integer("workspace_id"),\n});\n'
                'export const incident = sqliteTable("incident", {\n'
                '  id: integer("id").primaryKey(),\n'
                '  monitorId: integer("monitor_id").references(() => monitor.id),\n});\n'
            ),
            "src/list.ts": (
                'import { eq } from "drizzle-orm";\nimport { incident } from "./schema";\n'
                "export function openFor(db: Db, monitorId: number) {\n"
                "  return db.select().from(incident).where(eq(incident.monitorId, monitorId));\n"
                "}\n"
            ),
        },
    )
    text = _gather(root, "src/list.ts", "return db").render()
    line = "- drizzle/0001_rebuild.sql: CREATE INDEX `incident_monitor_idx` ON `incident`"
    assert line in text
    assert "0000_init.sql: CREATE INDEX `incident_monitor_idx`" not in text
    # `monitor` is only what `incident` refers to: its indexes are not the query's.
    assert "monitor_workspace_idx" not in text
